import { Module } from '@nestjs/common';
import { CONSUMERS } from '@lrs/contracts';
import { CONSUMER_POLICIES, JetStreamModule, type DeclaredConsumer } from '@lrs/jetstream';
import { TracingModule } from '@lrs/tracing';
import { DISPATCHER_SETTINGS, readDispatcherSettings } from './config/env';
import { RunFinishedHandler } from './handlers/run-finished/run-finished.handler';

const settings = readDispatcherSettings();

/** The consumer this service runs (on its work queue, RunFinished only); its handler is RunFinishedHandler's @EventPattern method. */
export const DECLARED_CONSUMERS: DeclaredConsumer[] = [
  {
    consumer: CONSUMERS.callbackDispatcher,
    stream: CONSUMER_POLICIES.callbackDispatcher.stream,
    concurrency: settings.concurrency,
    maxDeliver: CONSUMER_POLICIES.callbackDispatcher.maxDeliver,
  },
];

@Module({
  imports: [
    TracingModule.forRoot(settings.serviceName),
    JetStreamModule.forRoot({ serviceName: settings.serviceName, natsUrl: settings.natsUrl }),
  ],
  controllers: [RunFinishedHandler],
  providers: [{ provide: DISPATCHER_SETTINGS, useValue: settings }],
})
export class AppModule {}

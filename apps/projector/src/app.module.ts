import { Module } from '@nestjs/common';
import { CONSUMERS } from '@lrs/contracts';
import { CONSUMER_POLICIES, JetStreamModule, type DeclaredConsumer } from '@lrs/jetstream';
import { TracingModule } from '@lrs/tracing';
import { ReadModelModule } from '@lrs/read-model';
import { PROJECTOR_SETTINGS, readProjectorSettings } from './config/env';
import { RunEventsProjector } from './handlers/run-events/run-events.projector';

const settings = readProjectorSettings();

/** The consumer this service runs; its handler is RunEventsProjector's @EventPattern method (every event). */
export const DECLARED_CONSUMERS: DeclaredConsumer[] = [
  { consumer: CONSUMERS.projector, concurrency: settings.batchSize, maxDeliver: CONSUMER_POLICIES.projector.maxDeliver, retry: { baseMs: 100, capMs: 5_000 } },
];

@Module({
  imports: [
    TracingModule.forRoot(settings.serviceName),
    JetStreamModule.forRoot({ serviceName: settings.serviceName, natsUrl: settings.natsUrl }),
    ReadModelModule.forRoot({
      url: settings.databaseUrl,
      poolSize: settings.dbPoolSize,
      applicationName: settings.serviceName,
      preparedStatements: settings.databasePreparedStatements,
    }),
  ],
  controllers: [RunEventsProjector],
  providers: [{ provide: PROJECTOR_SETTINGS, useValue: settings }],
})
export class AppModule {}

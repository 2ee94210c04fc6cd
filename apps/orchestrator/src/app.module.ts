import { Module } from '@nestjs/common';
import { CONSUMERS } from '@lrs/contracts';
import { APPROVAL_TIMERS_POLICY, CONSUMER_POLICIES, JetStreamModule, type DeclaredConsumer } from '@lrs/jetstream';
import { TracingModule } from '@lrs/tracing';
import { ORCHESTRATOR_SETTINGS, readOrchestratorSettings } from './config/env';
import { RunEventsHandler } from './handlers/run-events/run-events.handler';

const settings = readOrchestratorSettings();

/** The consumers this service runs; their handlers are the @EventPattern methods of RunEventsHandler. */
export const DECLARED_CONSUMERS: DeclaredConsumer[] = [
  { consumer: CONSUMERS.orchestrator, concurrency: settings.concurrency, maxDeliver: CONSUMER_POLICIES.orchestrator.maxDeliver },
  { consumer: APPROVAL_TIMERS_POLICY.name, stream: APPROVAL_TIMERS_POLICY.stream, concurrency: settings.concurrency, maxDeliver: APPROVAL_TIMERS_POLICY.maxDeliver },
];

@Module({
  imports: [TracingModule.forRoot(settings.serviceName), JetStreamModule.forRoot({ serviceName: settings.serviceName, natsUrl: settings.natsUrl })],
  controllers: [RunEventsHandler],
  providers: [{ provide: ORCHESTRATOR_SETTINGS, useValue: settings }],
})
export class AppModule {}

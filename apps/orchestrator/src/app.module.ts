import { Module } from '@nestjs/common';
import { JetStreamModule } from '@lrs/jetstream';
import { ORCHESTRATOR_SETTINGS, readOrchestratorSettings } from './config/env';
import { RunEventsHandler } from './handlers/run-events/run-events.handler';

const settings = readOrchestratorSettings();

@Module({
  imports: [JetStreamModule.forRoot({ serviceName: settings.serviceName, natsUrl: settings.natsUrl })],
  providers: [{ provide: ORCHESTRATOR_SETTINGS, useValue: settings }, RunEventsHandler],
})
export class AppModule {}

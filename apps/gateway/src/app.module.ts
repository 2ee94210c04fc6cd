import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { JetStreamModule } from '@lrs/jetstream';
import { ReadModelModule } from '@lrs/read-model';
import { GATEWAY_SETTINGS, readGatewaySettings } from './config/env';
import { LettaExceptionFilter } from './http/letta-exception.filter';
import { HealthController } from './health/health.controller';
import { AgentsController } from './agents/agents.controller';
import { RunsController } from './runs/runs.controller';
import { SendMessageAsyncController } from './messages/send-message-async/send-message-async.controller';
import { SendMessageAsyncUseCase } from './messages/send-message-async/send-message-async.use-case';

const settings = readGatewaySettings();

@Module({
  imports: [
    JetStreamModule.forRoot({ serviceName: settings.serviceName, natsUrl: settings.natsUrl }),
    ReadModelModule.forRoot({ url: settings.databaseUrl, poolSize: settings.dbPoolSize, applicationName: settings.serviceName }),
  ],
  controllers: [HealthController, AgentsController, RunsController, SendMessageAsyncController],
  providers: [
    { provide: GATEWAY_SETTINGS, useValue: settings },
    { provide: APP_FILTER, useClass: LettaExceptionFilter },
    SendMessageAsyncUseCase,
  ],
})
export class AppModule {}

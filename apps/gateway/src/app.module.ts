import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { JetStreamModule } from '@lrs/jetstream';
import { TracingModule } from '@lrs/tracing';
import { ReadModelModule } from '@lrs/read-model';
import { GATEWAY_SETTINGS, readGatewaySettings } from './config/env';
import { LettaExceptionFilter } from './http/letta-exception.filter';
import { HealthController } from './health/health.controller';
import { AgentsController } from './agents/agents.controller';
import { RunsController } from './runs/runs.controller';
import { SendMessageAsyncController } from './messages/send-message-async/send-message-async.controller';
import { SendMessageAsyncUseCase } from './messages/send-message-async/send-message-async.use-case';
import { SendMessageController } from './messages/send-message/send-message.controller';
import { SendMessageUseCase } from './messages/send-message/send-message.use-case';
import { CancelRunsController } from './messages/cancel-runs/cancel-runs.controller';
import { CancelRunsUseCase } from './messages/cancel-runs/cancel-runs.use-case';
import { RunCreator } from './messages/run-creator';
import { StreamsController } from './streams/streams.controller';
import { ConversationsController } from './conversations/conversations.controller';
import { RunStreamer } from './streams/run-streamer';
import { ThreadResolver } from './threads/thread-resolver';
import { ThreadContextUseCase } from './threads/thread-context.use-case';
import { AgentFileUseCase } from './agents/agent-file/agent-file.use-case';
import { CoreMemoryController } from './agents/core-memory/core-memory.controller';
import { BlocksController } from './blocks/blocks.controller';
import { ToolsController } from './tools/tools.controller';
import { ToolDefinitions } from './tools/tool-definitions';
import { AgentToolNames } from './agents/agent-tools/tool-names';
import { ImportedTools } from './agents/agent-file/imported-tools';
import { AgentToolsController } from './agents/agent-tools/agent-tools.controller';
import { RunToolUseCase } from './agents/agent-tools/run-tool.use-case';
import { RunReader } from './runs/run-reader';
import { AdmissionControl } from './admission/admission-control';
import { ApiKeysController } from './auth/api-keys.controller';
import { ProbesController } from './health/probes.controller';
import { AgentArchivalMemoryController } from './archival/agent-archival-memory.controller';
import { AgentArchivesController, ArchivesController } from './archival/archives.controller';
import { PassagesController } from './archival/passages.controller';
import { ArchivalUseCase } from './archival/archival.use-case';
import { PassageStore } from '@lrs/archival-memory';
import { DataSource } from 'typeorm';
import { StepsController } from './steps/steps.controller';
import { TagsController } from './tags/tags.controller';
import { ModelsController } from './models/models.controller';
import { ListModelsUseCase } from './models/list-models.use-case';
import { MessagesApiController } from './messages-api/messages-api.controller';
import { SchedulesController } from './schedules/schedules.controller';
import { ScheduleStore } from './schedules/schedule-store';
import { CreateScheduleUseCase } from './schedules/create-schedule/create-schedule.use-case';
import { ListSchedulesUseCase } from './schedules/list-schedules/list-schedules.use-case';
import { DeleteScheduleUseCase } from './schedules/delete-schedule/delete-schedule.use-case';
import { ScheduleFirer } from './schedules/fire-schedules/schedule-firer';
import { McpServersController, mcpSettingsProvider } from './mcp-servers/mcp-servers.controller';

const settings = readGatewaySettings();

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
  controllers: [HealthController, ProbesController, ApiKeysController, AgentsController, CoreMemoryController, BlocksController, ToolsController, AgentToolsController, RunsController, StepsController, TagsController, SendMessageController, SendMessageAsyncController, CancelRunsController, StreamsController, ConversationsController, AgentArchivalMemoryController, ArchivesController, AgentArchivesController, PassagesController, MessagesApiController, ModelsController, SchedulesController, McpServersController],
  providers: [
    { provide: GATEWAY_SETTINGS, useValue: settings },
    { provide: APP_FILTER, useClass: LettaExceptionFilter },
    RunCreator,
    RunStreamer,
    SendMessageAsyncUseCase,
    SendMessageUseCase,
    CancelRunsUseCase,
    ThreadResolver,
    ThreadContextUseCase,
    AgentFileUseCase,
    RunToolUseCase,
    ToolDefinitions,
    AgentToolNames,
    ImportedTools,
    ArchivalUseCase,
    ListModelsUseCase,
    { provide: PassageStore, inject: [DataSource], useFactory: (dataSource: DataSource) => new PassageStore(dataSource) },
    RunReader,
    AdmissionControl,
    { provide: ScheduleStore, inject: [DataSource], useFactory: (dataSource: DataSource) => new ScheduleStore(dataSource) },
    CreateScheduleUseCase,
    ListSchedulesUseCase,
    DeleteScheduleUseCase,
    ScheduleFirer,
    mcpSettingsProvider,
  ],
})
export class AppModule {}

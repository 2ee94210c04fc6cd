import { Module } from '@nestjs/common';
import { JetStreamModule } from '@lrs/jetstream';
import { ReadModelModule } from '@lrs/read-model';
import { WORKER_SETTINGS, readWorkerSettings } from './config/env';
import { StepRequestedHandler } from './handlers/step-requested/step-requested.handler';
import { ServerTools } from './tools/server-tools';
import { ModelCaller } from './model-caller';
import { CompactionRequestedHandler } from './handlers/compaction-requested/compaction-requested.handler';
import { ToolRunRequestedHandler } from './handlers/tool-run-requested/tool-run-requested.handler';
import { ContextFitter } from './context/context-fitter';
import { ThreadSummarizer } from './context/thread-summarizer';

const settings = readWorkerSettings();

@Module({
  imports: [
    JetStreamModule.forRoot({ serviceName: settings.serviceName, natsUrl: settings.natsUrl }),
    ReadModelModule.forRoot({ url: settings.databaseUrl, poolSize: settings.dbPoolSize, applicationName: settings.serviceName }),
  ],
  providers: [{ provide: WORKER_SETTINGS, useValue: settings }, ServerTools, ModelCaller, ThreadSummarizer, ContextFitter, StepRequestedHandler, CompactionRequestedHandler, ToolRunRequestedHandler],
})
export class AppModule {}

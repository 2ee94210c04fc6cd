import { Module } from '@nestjs/common';
import { JetStreamModule } from '@lrs/jetstream';
import { ReadModelModule } from '@lrs/read-model';
import { DISPATCHER_SETTINGS, readDispatcherSettings } from './config/env';
import { RunFinishedHandler } from './handlers/run-finished/run-finished.handler';

const settings = readDispatcherSettings();

@Module({
  imports: [
    JetStreamModule.forRoot({ serviceName: settings.serviceName, natsUrl: settings.natsUrl }),
    ReadModelModule.forRoot({ url: settings.databaseUrl, poolSize: settings.dbPoolSize, applicationName: settings.serviceName }),
  ],
  providers: [{ provide: DISPATCHER_SETTINGS, useValue: settings }, RunFinishedHandler],
})
export class AppModule {}

import { Module } from '@nestjs/common';
import { JetStreamModule } from '@lrs/jetstream';
import { DISPATCHER_SETTINGS, readDispatcherSettings } from './config/env';
import { RunFinishedHandler } from './handlers/run-finished/run-finished.handler';

const settings = readDispatcherSettings();

@Module({
  imports: [
    JetStreamModule.forRoot({ serviceName: settings.serviceName, natsUrl: settings.natsUrl }),
  ],
  providers: [{ provide: DISPATCHER_SETTINGS, useValue: settings }, RunFinishedHandler],
})
export class AppModule {}

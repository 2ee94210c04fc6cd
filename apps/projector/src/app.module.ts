import { Module } from '@nestjs/common';
import { JetStreamModule } from '@lrs/jetstream';
import { ReadModelModule } from '@lrs/read-model';
import { PROJECTOR_SETTINGS, readProjectorSettings } from './config/env';
import { RunEventsProjector } from './handlers/run-events/run-events.projector';

const settings = readProjectorSettings();

@Module({
  imports: [
    JetStreamModule.forRoot({ serviceName: settings.serviceName, natsUrl: settings.natsUrl }),
    ReadModelModule.forRoot({ url: settings.databaseUrl, poolSize: settings.dbPoolSize, applicationName: settings.serviceName }),
  ],
  providers: [{ provide: PROJECTOR_SETTINGS, useValue: settings }, RunEventsProjector],
})
export class AppModule {}

import { startJetStreamService } from '@lrs/jetstream';
import { AppModule, DECLARED_CONSUMERS } from './app.module';

void startJetStreamService(AppModule, DECLARED_CONSUMERS);

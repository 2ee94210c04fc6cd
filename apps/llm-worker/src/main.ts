import { startJetStreamService } from '@lrs/jetstream';
import { ANSWERED_REQUESTS, AppModule, DECLARED_CONSUMERS } from './app.module';

void startJetStreamService(AppModule, DECLARED_CONSUMERS, ANSWERED_REQUESTS);

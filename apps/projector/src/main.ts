import { startServiceContext } from '@lrs/config';
import { AppModule } from './app.module';

void startServiceContext(AppModule);

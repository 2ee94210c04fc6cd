import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, type NextFunction, type Request, type Response } from 'express';
import { nestLogLevels } from '@lrs/config';
import { AppModule } from './app.module';
import { readGatewaySettings } from './config/env';
import { lettaValidationPipe } from './http/validation';
import { serveOpenApi } from './http/openapi';
import { refuseUnstorableInput } from './http/unstorable-input';

/** Body-parser failures happen before Nest's pipeline; answer them in Letta's error shape too. */
function malformedBodyHandler(error: Error & { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction): void {
  if (error.type === 'entity.parse.failed') {
    res.status(400).json({ detail: `Malformed JSON body: ${error.message}` });
  } else if (error.type === 'entity.too.large') {
    res.status(413).json({ detail: 'Request body too large' });
  } else if (error.status && error.status < 500) {
    res.status(error.status).json({ detail: error.message });
  } else {
    next(error);
  }
}

async function bootstrap(): Promise<void> {
  const settings = readGatewaySettings();
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bodyParser: false,
    logger: nestLogLevels(settings.logLevel),
  });
  app.use(json({ limit: settings.bodyLimit, type: ['application/json', 'application/*+json'] }));
  app.use(malformedBodyHandler);
  app.use(refuseUnstorableInput);
  app.useGlobalPipes(lettaValidationPipe());
  app.set('etag', false);
  app.set('x-powered-by', false);
  app.enableShutdownHooks();
  serveOpenApi(app);
  await app.listen(settings.port, settings.host);
  console.log(`gateway listening on http://${settings.host}:${settings.port}`);
}

void bootstrap();

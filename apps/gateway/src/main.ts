import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { json, type NextFunction, type Request, type Response } from 'express';
import { Env, runProcessWorkers, serviceLogger, startMetrics } from '@lrs/config';
import { tracingOn } from '@lrs/tracing';
import { AppModule } from './app.module';
import { readGatewaySettings } from './config/env';
import { ApiKeyStore } from '@lrs/read-model';
import { authentication, bindCaller } from './auth/authentication';
import { authenticationMode } from './auth/authentication-mode';
import { corsOptions } from './http/cors';
import { httpMetrics, httpTracing } from './http/http-metrics';
import { lettaValidationPipe } from './http/validation';
import { serveOpenApi } from './http/openapi';
import { inspectorRoutes } from './http/inspector';
import { refuseUnstorableInput } from './http/unstorable-input';
import { GracefulDrain } from './http/graceful-drain';

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

/**
 * Requests Node's HTTP parser refuses before any handler runs (headers or URL over 16 KB, a
 * malformed request line) still get a status and a `{"detail"}` body, not a bare 431 or 400.
 */
function answerParserErrors(server: Server): void {
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    const [status, reason, detail] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'Request headers or URL too large (16 KB at most)']
        : [400, 'Bad Request', 'Malformed HTTP request'];
    const body = JSON.stringify({ detail });
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
}

async function bootstrap(): Promise<void> {
  const settings = readGatewaySettings();
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bodyParser: false,
    logger: serviceLogger('gateway'),
  });
  const drain = new GracefulDrain(app.getHttpServer() as Server, settings.drainTimeoutMs);
  // SIGTERM: Nest stops accepting and waits for open requests (its shutdown hook closes the
  // server after this listener has run); see GracefulDrain for keep-alive connections and streams.
  process.once('SIGTERM', () => drain.start());
  app.use(drain.middleware);
  startMetrics('gateway');
  // First, so that requests refused before routing (a missing key, a body too large) have their span too.
  if (tracingOn()) app.use(httpTracing);
  app.use(httpMetrics);
  // The run inspector's page and files need no key: the page asks its user for one.
  app.use(inspectorRoutes());
  // Before authentication: a browser's preflight carries no key.
  app.enableCors(corsOptions(settings.corsOrigins));
  const mode = await authenticationMode(app.get(ApiKeyStore), settings);
  // The key is checked before the body is read, so an unauthenticated client cannot make us parse 10 MB.
  app.use(authentication(app.get(ApiKeyStore), mode));
  app.use(json({ limit: settings.bodyLimit, type: ['application/json', 'application/*+json'] }));
  app.use(malformedBodyHandler);
  app.use(bindCaller);
  app.use(refuseUnstorableInput);
  app.useGlobalPipes(lettaValidationPipe());
  app.set('etag', false);
  app.set('x-powered-by', false);
  app.enableShutdownHooks();
  serveOpenApi(app);
  const server = app.getHttpServer() as Server;
  answerParserErrors(server);
  await app.listen(settings.port, settings.host);
  console.log(`gateway listening on http://${settings.host}:${settings.port} (${mode.required ? 'API keys required' : 'no API keys: local mode'})`);
}

const env = new Env();
void runProcessWorkers({
  workers: env.int('GATEWAY_WORKERS', 1, { min: 1, max: 64 }),
  start: bootstrap,
  log: (line) => console.log(`gateway: ${line}`),
});

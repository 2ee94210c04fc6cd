import 'reflect-metadata';
import { createServer } from 'node:http';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { Env, nestLogLevels } from './env';

/**
 * Boots a service that has no HTTP API of its own (orchestrator, worker, dispatcher, projector).
 * With HEALTH_PORT set it answers GET /healthz for Kubernetes probes once the context is up.
 */
export async function startServiceContext(module: Type<unknown>): Promise<INestApplicationContext> {
  const env = new Env();
  const app = await NestFactory.createApplicationContext(module, { logger: nestLogLevels(env.string('LOG_LEVEL', 'log')) });
  app.enableShutdownHooks();
  const healthPort = env.int('HEALTH_PORT', 0, { min: 0, max: 65535 });
  if (healthPort > 0) {
    const server = createServer((request, response) => {
      const healthy = request.url === '/healthz';
      response.writeHead(healthy ? 200 : 404, { 'content-type': 'application/json' });
      response.end(JSON.stringify(healthy ? { status: 'ok' } : { detail: 'Not Found' }));
    });
    server.listen(healthPort, env.string('HOST', '0.0.0.0'));
    process.once('SIGTERM', () => server.close());
    process.once('SIGINT', () => server.close());
  }
  return app;
}

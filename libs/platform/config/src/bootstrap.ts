import 'reflect-metadata';
import { createServer } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { Env } from './env';
import { ReadinessChecks, readiness } from './readiness';
import { metricsContentType, metricsText, startMetrics } from './metrics';

/**
 * The probes and metrics of a service that has no HTTP API of its own (orchestrator, worker,
 * dispatcher, projector), served once it is up (startJetStreamService in the jetstream lib).
 * With HEALTH_PORT set it answers GET /livez (alive; also as /healthz) and GET /readyz (its NATS
 * and Postgres answer, 503 naming what does not), and GET /metrics (Prometheus text).
 */
export function serveProbes(app: INestApplicationContext): void {
  const env = new Env();
  startMetrics(env.string('SERVICE_NAME', 'service'));
  const healthPort = env.int('HEALTH_PORT', 0, { min: 0, max: 65535 });
  if (healthPort > 0) {
    const checks = app.get(ReadinessChecks, { strict: false }).all();
    const server = createServer((request, response) => {
      const answer = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.url === '/livez' || request.url === '/healthz') return answer(200, { status: 'ok' });
      if (request.url === '/metrics') {
        void metricsText().then((text) => {
          response.writeHead(200, { 'content-type': metricsContentType });
          response.end(text);
        });
        return;
      }
      if (request.url !== '/readyz') return answer(404, { detail: 'Not Found' });
      void readiness(checks).then((result) =>
        answer(result.ready ? 200 : 503, result.ready ? { status: 'ok', checks: result.checks } : { detail: 'not ready', checks: result.checks }),
      );
    });
    server.listen(healthPort, env.string('HOST', '0.0.0.0'));
    process.once('SIGTERM', () => server.close());
    process.once('SIGINT', () => server.close());
  }
}

import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ReadinessChecks, metricsContentType, metricsText, readiness } from '@lrs/config';
import { LettaOperation } from '../http/api-docs';

/**
 * Kubernetes probes (no key needed): `/livez` says the process answers; `/readyz` says NATS (with
 * JetStream) and Postgres answer within 2 s, else 503 naming what does not. `/v1/health` stays for
 * Letta clients.
 */
@Controller()
export class ProbesController {
  constructor(private readonly checks: ReadinessChecks) {}

  @LettaOperation('livez', 'Liveness probe: the process answers', 'Health')
  @Get('livez')
  live() {
    return { status: 'ok' };
  }

  @LettaOperation('metrics', 'Prometheus metrics of this gateway process', 'Metrics')
  @Get('metrics')
  async metrics(@Res() response: Response): Promise<void> {
    response.status(200).setHeader('content-type', metricsContentType).send(await metricsText());
  }

  @LettaOperation('readyz', 'Readiness probe: NATS and Postgres answer', 'Health')
  @Get('readyz')
  async ready(@Res() response: Response): Promise<void> {
    const result = await readiness(this.checks.all());
    response.status(result.ready ? 200 : 503).json(result.ready ? { status: 'ok', checks: result.checks } : { detail: 'not ready', checks: result.checks });
  }
}

import type { NextFunction, Request, Response } from 'express';
import { METRICS } from '@lrs/config';

/**
 * Counts and times every answered request by its route pattern (`/v1/runs/:run_id`, never the
 * ids themselves, which would make one series per run) and status.
 */
export function httpMetrics(request: Request, response: Response, next: NextFunction): void {
  const started = performance.now();
  response.once('finish', () => {
    const pattern = (request as Request & { route?: { path?: string } }).route?.path;
    const route = pattern ? `${request.baseUrl}${pattern}` : 'unmatched';
    METRICS.httpRequests.inc({ method: request.method, route, status: String(response.statusCode) });
    METRICS.httpDuration.observe({ method: request.method, route }, (performance.now() - started) / 1000);
  });
  next();
}

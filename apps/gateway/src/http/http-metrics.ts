import type { NextFunction, Request, Response } from 'express';
import { METRICS } from '@lrs/config';
import { traceHttpRequest } from '@lrs/tracing';

/** The route pattern a request matched (`/v1/runs/:run_id`), once it was routed; null when none did. */
export function routeTemplate(request: Request): string | null {
  const pattern = (request as Request & { route?: { path?: string } }).route?.path;
  return pattern ? `${request.baseUrl}${pattern}` : null;
}

/**
 * Counts and times every answered request by its route pattern (`/v1/runs/:run_id`, never the
 * ids themselves, which would make one series per run) and status.
 */
export function httpMetrics(request: Request, response: Response, next: NextFunction): void {
  const started = performance.now();
  response.once('finish', () => {
    const route = routeTemplate(request) ?? 'unmatched';
    METRICS.httpRequests.inc({ method: request.method, route, status: String(response.statusCode) });
    METRICS.httpDuration.observe({ method: request.method, route }, (performance.now() - started) / 1000);
  });
  next();
}

/** A server span per request, named by its route pattern (only used while tracing is on: README, "Operations"). */
export function httpTracing(request: Request, response: Response, next: NextFunction): void {
  traceHttpRequest(request, response, () => routeTemplate(request));
  next();
}

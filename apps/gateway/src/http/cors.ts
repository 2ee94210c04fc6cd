import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface';

/** Letta's ADE, which users point at their own servers. */
const DEFAULT_ORIGINS = ['https://app.letta.com'];
const LOCALHOST = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/**
 * CORS for browser clients (CORS_ORIGINS): the listed origins, or by default Letta's ADE and any
 * localhost port. Requests still need their API key; CORS only lets a browser page send them.
 */
export function corsOptions(configured: readonly string[]): CorsOptions {
  const origins = configured.length ? configured : DEFAULT_ORIGINS;
  const allowsAll = origins.includes('*');
  return {
    origin: (origin, callback) => callback(null, !origin || allowsAll || origins.includes(origin) || (!configured.length && LOCALHOST.test(origin))),
    // The headers a preflight asks for are allowed as asked (the official client adds x-stainless-*).
    exposedHeaders: ['retry-after', 'x-should-retry'],
    methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS'],
    maxAge: 600,
  };
}

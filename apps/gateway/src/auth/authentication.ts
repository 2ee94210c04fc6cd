import type { NextFunction, Request, Response } from 'express';
import type { ApiKeyStore } from '@lrs/read-model';
import { inRequestSpan, requestTraceparent } from '@lrs/tracing';
import { runAs, type Caller } from './caller';

const CALLER = Symbol('caller');
type WithCaller = Request & { [CALLER]?: Caller };

/** Routes anyone may call: health and the probes, and the API's own description. */
const PUBLIC_PATHS = new Set(['/v1/health', '/v1/health/', '/livez', '/readyz', '/metrics', '/openapi.json']);
const isPublic = (path: string) => PUBLIC_PATHS.has(path) || path === '/docs' || path.startsWith('/docs/');

export interface AuthenticationMode {
  /** Keys exist (or BOOTSTRAP_API_KEY is set): every request but the public ones needs one. */
  required: boolean;
  /** The organization of unauthenticated requests when keys are not required. */
  defaultOrganizationId: string;
}

/**
 * `Authorization: Bearer <key>`, as the official client sends its `apiKey`. A missing or unknown
 * (or revoked) key is a 401 with a `detail`; a good one makes the rest of the request run as its
 * organization. Without keys (the local mode) every request runs as the default organization.
 */
export function authentication(keys: ApiKeyStore, mode: AuthenticationMode) {
  const anonymous: Caller = { organizationId: mode.defaultOrganizationId, keyId: null, admin: false };
  return (request: WithCaller, response: Response, next: NextFunction): void => {
    if (isPublic(request.path) || !mode.required) {
      request[CALLER] = anonymous;
      return next();
    }
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      response.status(401).setHeader('www-authenticate', 'Bearer').json({ detail: 'Missing API key: send Authorization: Bearer <key>' });
      return;
    }
    keys.verify(match[1]).then(
      (owner) => {
        if (!owner) {
          response.status(401).setHeader('www-authenticate', 'Bearer error="invalid_token"').json({ detail: 'Invalid or revoked API key' });
          return;
        }
        request[CALLER] = { organizationId: owner.organizationId, keyId: owner.keyId, admin: owner.admin };
        next();
      },
      (error: unknown) => next(error),
    );
  };
}

/**
 * Makes the rest of the request run as the caller `authentication` found. A middleware of its own,
 * placed after the body parser: the parser's stream events would lose the async context.
 */
export function bindCaller(request: WithCaller, response: Response, next: NextFunction): void {
  const caller = request[CALLER];
  if (!caller) {
    response.status(401).json({ detail: 'Missing API key: send Authorization: Bearer <key>' });
    return;
  }
  // A run this request creates joins its trace (libs/platform/tracing: the request's span while tracing is on, else the client's traceparent).
  runAs({ ...caller, traceparent: requestTraceparent(request) }, () => inRequestSpan(request, next));
}

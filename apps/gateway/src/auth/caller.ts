import { AsyncLocalStorage } from 'node:async_hooks';

/** Who a request comes from: the organization its key belongs to (the default one without keys). */
export interface Caller {
  organizationId: string;
  /** Null in the unauthenticated local mode. */
  keyId: string | null;
  admin: boolean;
  /**
   * The W3C trace context a run this request creates carries: the request's server span while
   * tracing is on, else the client's `traceparent` when it sent a valid one.
   */
  traceparent?: string | null;
}

const callers = new AsyncLocalStorage<Caller>();

/** Runs the rest of the request as `caller` (the authentication middleware does this). */
export function runAs<T>(caller: Caller, work: () => T): T {
  return callers.run(caller, work);
}

/** The organization of the request being served: every read and write is scoped to it. */
export function callerOrganization(): string {
  const caller = callers.getStore();
  if (!caller) throw new Error('no caller: the request did not pass the authentication middleware');
  return caller.organizationId;
}

export function currentCaller(): Caller | undefined {
  return callers.getStore();
}

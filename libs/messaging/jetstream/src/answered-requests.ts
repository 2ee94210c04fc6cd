import { RequestOne } from '@nats-io/nats-core/internal';

/**
 * @nats-io/nats-core 3.4 ends every answered request by rejecting its already settled promise
 * with `new RequestError('cancelled')`: an Error, with its stack captured, per request, that
 * nobody can observe (a settled promise ignores the rejection). `noAsyncTraces` does not cover
 * that one. In the benchmark's profiles it was 4–6 % of the orchestrator's and the callback
 * dispatcher's CPU, whose work is mostly requests (appends, reads, lane updates).
 *
 * This leaves out that Error once the request has been answered; cancelling a request that has
 * not been answered (a timeout, a closed connection) rejects it as the library does. It relies
 * on two methods of the library's RequestOne, checked here: if a later version changes them,
 * nothing is patched and `answeredRequestsPatched()` says so (a unit test fails).
 */
interface PatchableRequest {
  resolver(error: Error | null, message: unknown): void;
  cancel(error?: Error): void;
  timer?: { cancel(): void };
  mux: { cancel(request: unknown): void };
  answered?: boolean;
}

let patched = false;

function patchAnsweredRequests(): void {
  const prototype = RequestOne.prototype as unknown as PatchableRequest;
  if (patched || typeof prototype.resolver !== 'function' || typeof prototype.cancel !== 'function') return;
  const { resolver, cancel } = prototype;
  prototype.resolver = function (this: PatchableRequest, error, message) {
    this.answered = true;
    resolver.call(this, error, message);
  };
  prototype.cancel = function (this: PatchableRequest, error) {
    if (error || !this.answered) return cancel.call(this, error);
    this.timer?.cancel();
    this.mux.cancel(this);
  };
  patched = true;
}

patchAnsweredRequests();

/** Whether answered requests skip the library's unobservable Error (see above). */
export function answeredRequestsPatched(): boolean {
  return patched;
}

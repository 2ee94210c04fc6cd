import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { runSubject, type AnyRunEvent } from '@lrs/contracts';
import { decodeRunEvent } from './run-event-store';

/**
 * Live view of one run's new events over a core NATS subscription on its subject: every append
 * to the stream is also delivered to subscribers. Used to notice a cancel during a model call and
 * to answer a synchronous request as soon as its run ends. Not durable: callers re-check state
 * from the log or read model after subscribing, so nothing that happened before is missed.
 */
export class RunEventWatcher {
  constructor(private readonly nc: NatsConnection) {}

  watch(runId: string, listener: (event: AnyRunEvent) => void): () => void {
    const subscription: Subscription = this.nc.subscribe(runSubject(runId), {
      callback: (error, message) => {
        if (error) return;
        try {
          listener(decodeRunEvent(message.data));
        } catch {
          // A malformed message on the subject is not this listener's concern.
        }
      },
    });
    return () => subscription.unsubscribe();
  }

  /** Resolves with the first event `accept` takes, or null after `timeoutMs`. */
  next(runId: string, accept: (event: AnyRunEvent) => boolean, timeoutMs: number): { event: Promise<AnyRunEvent | null>; cancel: () => void } {
    let stop = () => undefined as void;
    const event = new Promise<AnyRunEvent | null>((resolve) => {
      const timer = setTimeout(() => finish(null), timeoutMs);
      const unsubscribe = this.watch(runId, (candidate) => {
        if (accept(candidate)) finish(candidate);
      });
      const finish = (value: AnyRunEvent | null) => {
        clearTimeout(timer);
        unsubscribe();
        resolve(value);
      };
      stop = () => finish(null);
    });
    return { event, cancel: () => stop() };
  }
}

import { newId, type RunEvent } from '@lrs/contracts';
import { decide, stateOf, type DecisionContext, type RunDecision, type RunInput, type RunState } from '@lrs/domain-run';
import { ConcurrencyConflict, UnconfirmedConflict, type RunEventLog, type StoredRunEvent } from './run-event-store';
import type { RunWork } from './run-work';

/**
 * What to do when the conditional append loses (someone else moved the run after the event the
 * decision was made on):
 * - `drop`: the winner has acted on the same state, so this decision is stale and is dropped.
 *   Used by every consumer (orchestrator, worker, dispatcher): the message it handles is older
 *   than the run, and redeliveries must not double-step it.
 * - `retry`: read the run again and decide again, up to `attempts` times. Used for a client's
 *   request (cancel, delete), which must apply to the run as it is now, whatever it did meanwhile.
 */
export type ConflictPolicy = { onConflict: 'drop' } | { onConflict: 'retry'; attempts: number };

export const DROP_ON_CONFLICT: ConflictPolicy = { onConflict: 'drop' };
export const RETRY_ON_CONFLICT: ConflictPolicy = { onConflict: 'retry', attempts: 10 };

export type CommandResult =
  /** The decision's events were appended. */
  | { kind: 'appended'; events: StoredRunEvent[]; state: RunState }
  /** The decision appended nothing (`decision` says why, or asks to come back later). */
  | { kind: 'decided'; decision: Exclude<RunDecision, { kind: 'append' }>; latest: StoredRunEvent | null; state: RunState }
  /** The append lost to another writer, and the policy dropped it (or ran out of retries). */
  | { kind: 'lost' };

/**
 * The one way a service moves a run: load its latest event, ask the lifecycle (`decide`), append
 * the answer conditionally on that event still being the latest, and settle a lost race by a
 * stated policy. Services never catch ConcurrencyConflict themselves. What it appends that a
 * service acts on (a step to run, a finished run) is copied to that service's work queue (RunWork).
 */
export class RunCommands {
  constructor(
    private readonly log: RunEventLog,
    private readonly work: Pick<RunWork, 'publish'> | null = null,
    private readonly context: () => DecisionContext = decisionContextNow,
  ) {}

  /**
   * Decides on the run's latest event, read now. `visible` hides a run from a caller it does not
   * belong to (it is then decided on as absent).
   */
  async execute(runId: string, input: RunInput, policy: ConflictPolicy, visible: (latest: StoredRunEvent) => boolean = () => true): Promise<CommandResult> {
    const attempts = policy.onConflict === 'retry' ? policy.attempts : 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const latest = await this.log.latest(runId);
      let result: CommandResult;
      try {
        result = await this.decideAndAppend(latest && visible(latest) ? latest : null, input);
      } catch (error) {
        // The store that answered had not caught up with the run: read it again a moment later.
        if (!(error instanceof UnconfirmedConflict) || attempt === attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
        continue;
      }
      if (result.kind !== 'lost') return result;
    }
    return { kind: 'lost' };
  }

  /**
   * Decides on an event the caller holds (the message it is handling, or the latest it read before
   * a slow effect such as a callback delivery): the append is conditional on that event, so if
   * the run moved on meanwhile the decision is stale and dropped.
   */
  executeAfter(known: StoredRunEvent, input: RunInput): Promise<CommandResult> {
    return this.decideAndAppend(known, input);
  }

  /** Appends a run's first event; null when the run exists already (another attempt created it). */
  async create(event: RunEvent<'RunCreated'>): Promise<number | null> {
    try {
      return await this.log.create(event);
    } catch (error) {
      if (error instanceof ConcurrencyConflict) return null;
      throw error;
    }
  }

  private async decideAndAppend(latest: StoredRunEvent | null, input: RunInput): Promise<CommandResult> {
    const state = stateOf(latest?.event);
    const decision = decide(state, input, this.context());
    if (decision.kind !== 'append') return { kind: 'decided', decision, latest, state };
    // decide appends only to a run that exists.
    let appended: StoredRunEvent[];
    try {
      appended = await this.log.appendAfter(latest!, decision.events);
    } catch (error) {
      if (error instanceof ConcurrencyConflict) return { kind: 'lost' };
      throw error;
    }
    await this.work?.publish(appended);
    return { kind: 'appended', events: appended, state };
  }
}

export function decisionContextNow(): DecisionContext {
  return { now: new Date().toISOString(), newStepId: () => newId('step') };
}

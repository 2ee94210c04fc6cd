/**
 * One run at a time per lane (agent today, conversation later). The lane is a tiny FIFO kept in a
 * JetStream KV entry and changed only by compare-and-set; these functions are its pure transitions.
 * Waiting runs are ordered by the stream sequence of their RunCreated event, so the execution
 * order is the order in which the creates were acknowledged, whatever order replicas see them in.
 */
export interface LaneEntry {
  runId: string;
  createdSeq: number;
}

export interface LaneState {
  active: LaneEntry | null;
  waiting: LaneEntry[];
  /** The run queued most recently: tells whether anything was sent after a paused run. */
  latestRunId?: string;
}

export const EMPTY_LANE: LaneState = { active: null, waiting: [] };

export function enqueue(lane: LaneState, entry: LaneEntry): LaneState {
  if (lane.active?.runId === entry.runId || lane.waiting.some((w) => w.runId === entry.runId)) return lane;
  const waiting = [...lane.waiting, entry].sort((a, b) => a.createdSeq - b.createdSeq);
  return { ...lane, waiting, latestRunId: entry.runId };
}

/** Drop a run from the lane wherever it is (finished while active, or cancelled while waiting). */
export function release(lane: LaneState, runId: string): LaneState {
  const active = lane.active?.runId === runId ? null : lane.active;
  const waiting = lane.waiting.filter((w) => w.runId !== runId);
  if (active === lane.active && waiting.length === lane.waiting.length) return lane;
  return { ...lane, active, waiting };
}

/** Grant the lane to the oldest waiting run when nothing is active. */
export function promote(lane: LaneState): LaneState {
  if (lane.active || lane.waiting.length === 0) return lane;
  const [next, ...rest] = lane.waiting;
  return { ...lane, active: next, waiting: rest };
}

/**
 * Queue a run and, if the lane is idle, grant it at once: one compare-and-set where enqueue then
 * promote would take two. A run granted this way is started by the orchestrator.
 */
export function enqueueAndGrant(lane: LaneState, entry: LaneEntry): LaneState {
  return promote(enqueue(lane, entry));
}

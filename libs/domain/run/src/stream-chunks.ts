import type {
  AnyRunEvent,
  LettaMessage,
  LettaStopReason,
  LettaUsageStatistics,
  MessageType,
} from '@lrs/contracts';
import { addStepUsage, emptyUsage } from './run-fold';
import { compactionNotices } from './compaction';

/** Letta's ping chunk: the first chunk of a stream carries the run id. */
export interface PingChunk {
  id: string;
  date: string;
  name: null;
  message_type: 'ping';
  otid: null;
  sender_id: null;
  step_id: null;
  is_err: null;
  seq_id: number | null;
  run_id: string;
}

export interface ErrorChunk {
  message_type: 'error_message';
  run_id: string;
  error_type: string;
  message: string;
  detail: string;
  seq_id: number;
}

export type StreamChunk =
  | { kind: 'data'; seqId: number; payload: PingChunk | LettaMessage | (LettaStopReason & { seq_id: number }) | (LettaUsageStatistics & { seq_id: number }) }
  | { kind: 'error'; seqId: number; payload: ErrorChunk }
  | { kind: 'done' };

/**
 * A run's SSE stream as a pure function of its events: the same events always give the same
 * chunks with the same `seq_id`s (1, 2, 3, ...), so a client can resume after any seq_id on any
 * replica and get every chunk exactly once. Chunks: a ping carrying the run id, the messages of
 * each step, then stop_reason and usage_statistics (or stop_reason and an error), then [DONE].
 */
export class RunStreamProjector {
  private seqId = 0;
  private usage: LettaUsageStatistics = emptyUsage();
  private includeCompactionMessages = false;
  private finished = false;

  constructor(
    private readonly runId: string,
    private readonly include: MessageType[] | null,
    private readonly pingId: string,
  ) {}

  get done(): boolean {
    return this.finished;
  }

  /** The chunks this event adds to the stream (RunCreated also opens it with the ping). */
  chunksFor(event: AnyRunEvent): StreamChunk[] {
    if (this.finished) return [];
    switch (event.type) {
      case 'RunCreated':
        this.includeCompactionMessages = event.data.includeCompactionMessages === true;
        return [this.data({ ...this.ping(event.occurredAt), seq_id: this.seqId + 1 })];
      case 'StepCompleted': {
        this.usage = addStepUsage(this.usage, event.data.usage);
        const notices = this.includeCompactionMessages ? compactionNotices(this.runId, event.data) : [];
        return [...notices, ...event.data.messages]
          .filter((message) => !this.include?.length || this.include.includes(message.message_type))
          .map((message) => this.data({ ...message, seq_id: this.seqId + 1 }));
      }
      case 'RunFinished':
      case 'RunDeleted': {
        this.finished = true;
        const stopReason = event.type === 'RunFinished' ? event.data.stopReason : 'cancelled';
        const chunks: StreamChunk[] = [this.data({ message_type: 'stop_reason', stop_reason: stopReason, seq_id: this.seqId + 1 })];
        if (event.type === 'RunFinished' && event.data.status === 'failed') {
          const [errorType, ...rest] = (event.data.error ?? 'internal_error: the run failed').split(': ');
          const message = rest.join(': ') || errorType;
          this.seqId++;
          chunks.push({ kind: 'error', seqId: this.seqId, payload: { message_type: 'error_message', run_id: this.runId, error_type: errorType, message, detail: message, seq_id: this.seqId } });
        } else if (stopReason !== 'cancelled') {
          chunks.push(this.data({ ...this.usage, seq_id: this.seqId + 1 }));
        }
        chunks.push({ kind: 'done' });
        return chunks;
      }
      default:
        return [];
    }
  }

  /** A keep-alive ping; it repeats the last seq_id instead of taking a new one. */
  keepAlive(now: Date): PingChunk {
    return { ...this.ping(now.toISOString()), seq_id: this.seqId || null };
  }

  private data(payload: Extract<StreamChunk, { kind: 'data' }>['payload']): StreamChunk {
    this.seqId++;
    return { kind: 'data', seqId: this.seqId, payload };
  }

  private ping(date: string): PingChunk {
    return { id: this.pingId, date: date.replace(/\.(\d{3})Z$/, '.$1+00:00'), name: null, message_type: 'ping', otid: null, sender_id: null, step_id: null, is_err: null, seq_id: null, run_id: this.runId };
  }
}

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { RUN_EVENT_SCHEMA_VERSION, type AnyRunEvent, type RunEventType } from '../run-events';
import { RUN_EVENT_DATA_SCHEMAS, RUN_EVENT_ENVELOPE_SCHEMA } from './schemas';
import { upcastRunEventData } from './upcasters';

/** What a claimed event carries instead of its data (the claim check, docs/events.md). */
export interface PayloadClaim {
  name: string;
  size: number;
  sha256: string;
}

/** A run event as a message of RUN_EVENTS carries it: with its data, or with a claim on it. */
export type RunEventMessage = AnyRunEvent & { claim?: PayloadClaim };

/**
 * The message is not a run event this build can read: not JSON, an envelope or payload that
 * breaks its schema, or a version newer than RUN_EVENT_SCHEMA_VERSION. Retrying cannot help, so
 * consumers treat it as a poison message (the DLQ), never as a failure to retry.
 */
export class InvalidRunEvent extends Error {
  override readonly name = 'InvalidRunEvent';
}

/** The schemas compiled with one set of ajv options: the envelope's and each type's data. */
interface Validators {
  envelope: ValidateFunction;
  data: Record<RunEventType, ValidateFunction>;
  describe(errors: ErrorObject[] | null | undefined, root: string): string;
}

function compileValidators(allErrors: boolean): Validators {
  const ajv = new Ajv({ allErrors, strictTypes: false });
  addFormats(ajv, ['date-time']);
  return {
    envelope: ajv.compile(RUN_EVENT_ENVELOPE_SCHEMA),
    data: Object.fromEntries(Object.entries(RUN_EVENT_DATA_SCHEMAS).map(([type, schema]) => [type, ajv.compile(schema)])) as Record<RunEventType, ValidateFunction>,
    describe: (errors, root) => ajv.errorsText(errors?.slice(0, 5), { dataVar: root }),
  };
}

/**
 * Every consumer validates every event it reads, so validation is on the run path: stopping at the
 * first error is about three times faster on valid events than collecting them all. An invalid
 * event (rare, and then dead-lettered) is validated again with every error collected, so its
 * message says all that is wrong with it.
 */
const quick = compileValidators(false);
let thoroughValidators: Validators | null = null;
const thorough = (): Validators => (thoroughValidators ??= compileValidators(true));

/** Why a value fails a schema, with every error (at most five shown). */
function allErrorsOf(pick: (validators: Validators) => ValidateFunction, value: unknown, root: string): string {
  const validators = thorough();
  const validate = pick(validators);
  validate(value);
  return validators.describe(validate.errors, root);
}

/**
 * Reads a message of RUN_EVENTS: parses it, checks its envelope, refuses a version newer than this
 * build knows, and, when the data is in the message, upcasts it to the current version and checks
 * it against its schema. A claimed event comes back as it is (data null, its claim set): complete
 * it with `withRunEventData` once its payload is fetched. Throws InvalidRunEvent.
 */
export function decodeRunEventMessage(bytes: Uint8Array | string): RunEventMessage {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidRunEvent(`run event is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!quick.envelope(parsed)) throw new InvalidRunEvent(`run event envelope is invalid: ${allErrorsOf((validators) => validators.envelope, parsed, 'event')}`);
  const message = parsed as RunEventMessage;
  if (message.version > RUN_EVENT_SCHEMA_VERSION) {
    throw new InvalidRunEvent(
      `${nameOf(message)} has schema version ${message.version}, newer than version ${RUN_EVENT_SCHEMA_VERSION} that this build reads: upgrade the reader`,
    );
  }
  if (message.claim) return message;
  return withRunEventData(message, message.data);
}

/**
 * The event with `data` as its payload (from the message, or fetched for its claim), upcast from
 * the event's version to the current one and checked against its schema. Throws InvalidRunEvent.
 */
export function withRunEventData(message: RunEventMessage, data: unknown): AnyRunEvent {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InvalidRunEvent(`${nameOf(message)} has no data object`);
  const upcast = upcastRunEventData(message.type, data as Record<string, unknown>, message.version, RUN_EVENT_SCHEMA_VERSION);
  if (!quick.data[message.type](upcast)) throw new InvalidRunEvent(`${nameOf(message)} has invalid data: ${allErrorsOf((validators) => validators.data[message.type], upcast, 'data')}`);
  const { claim: _claim, ...event } = message;
  return { ...event, version: RUN_EVENT_SCHEMA_VERSION, data: upcast } as unknown as AnyRunEvent;
}

function nameOf(message: RunEventMessage): string {
  return `${message.type} #${message.seq} of run ${message.runId} (${message.id})`;
}

/**
 * The type and run a message names, read without any check: for listing messages that could not
 * be decoded (the DLQ), so a poison message still says what it claims to be. Never for handling.
 */
export function peekRunEventIdentity(bytes: Uint8Array): { type: string; runId: string } {
  try {
    const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as { type?: unknown; runId?: unknown };
    return { type: typeof parsed.type === 'string' ? parsed.type : '?', runId: typeof parsed.runId === 'string' ? parsed.runId : '?' };
  } catch {
    return { type: '?', runId: '?' };
  }
}

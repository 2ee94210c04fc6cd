import { RUN_EVENT_SCHEMA_VERSION, RUN_EVENT_TYPES, type RunEvent } from '../run-events';
import { decodeRunEventMessage, InvalidRunEvent, peekRunEventIdentity, withRunEventData } from './decode';
import { RUN_EVENT_EXAMPLES } from './examples';
import { upcastRunEventData, type RunEventUpcasters } from './upcasters';

const encode = (value: unknown) => Buffer.from(JSON.stringify(value));
const created = RUN_EVENT_EXAMPLES.RunCreated;

/** A RunCreated as version 1 wrote it, before approval timeouts existed. */
function versionOneRunCreated(): Record<string, unknown> {
  const { approvalTimeoutSeconds: _absentInVersionOne, ...data } = created.data;
  return { ...created, version: 1, data };
}

function decodeError(value: unknown): InvalidRunEvent {
  try {
    decodeRunEventMessage(typeof value === 'string' ? value : encode(value));
  } catch (error) {
    if (error instanceof InvalidRunEvent) return error;
    throw error;
  }
  throw new Error('decoded without an error');
}

describe('decodeRunEventMessage', () => {
  it.each(RUN_EVENT_TYPES)('decodes a %s of the current version to the event that was encoded', (type) => {
    const event = RUN_EVENT_EXAMPLES[type];
    expect(event.version).toBe(RUN_EVENT_SCHEMA_VERSION);
    expect(decodeRunEventMessage(encode(event))).toEqual(event);
  });

  it('upcasts a version-1 RunCreated: approvalTimeoutSeconds, absent then, becomes null', () => {
    const decoded = decodeRunEventMessage(encode(versionOneRunCreated())) as RunEvent<'RunCreated'>;
    expect(decoded.version).toBe(2);
    expect(decoded.data.approvalTimeoutSeconds).toBeNull();
    expect(decoded).toEqual({ ...created, data: { ...created.data, approvalTimeoutSeconds: null } });
  });

  it('keeps an approval timeout a version-1 RunCreated already had', () => {
    const event = versionOneRunCreated();
    const decoded = decodeRunEventMessage(encode({ ...event, data: { ...(event['data'] as object), approvalTimeoutSeconds: 60 } })) as RunEvent<'RunCreated'>;
    expect(decoded.data.approvalTimeoutSeconds).toBe(60);
  });

  it('refuses a version-2 RunCreated without approvalTimeoutSeconds: version 2 requires it', () => {
    expect(decodeError({ ...versionOneRunCreated(), version: 2 }).message).toMatch(/invalid data: .*approvalTimeoutSeconds/);
  });

  it('refuses what is not JSON', () => {
    expect(decodeError('{"type": "RunCreated"').message).toMatch(/^run event is not JSON/);
  });

  it('refuses an envelope without a run id, of an unknown type, or with a bad sequence', () => {
    const { runId: _runId, ...withoutRunId } = created;
    expect(decodeError(withoutRunId).message).toMatch(/envelope is invalid: .*runId/);
    expect(decodeError({ ...created, type: 'RunExploded' }).message).toMatch(/envelope is invalid: event\/type must be equal to one of the allowed values/);
    expect(decodeError({ ...created, seq: 0 }).message).toMatch(/event\/seq must be >= 1/);
    expect(decodeError([created]).message).toMatch(/envelope is invalid/);
  });

  it('names every error of an invalid event, not only the first one its validation stopped at', () => {
    const message = decodeError({ ...created, seq: 0, runId: 42 }).message;
    expect(message).toMatch(/event\/seq must be >= 1/);
    expect(message).toMatch(/event\/runId must be string/);
    expect(decodeError({ ...created, data: { ...created.data, maxSteps: 0, input: 'text' } }).message).toMatch(/maxSteps must be >= 1.*input must be array|input must be array.*maxSteps must be >= 1/);
  });

  it('refuses a version newer than this build reads, saying so', () => {
    expect(decodeError({ ...created, version: RUN_EVENT_SCHEMA_VERSION + 1 }).message).toMatch(
      new RegExp(`has schema version ${RUN_EVENT_SCHEMA_VERSION + 1}, newer than version ${RUN_EVENT_SCHEMA_VERSION} that this build reads`),
    );
  });

  it('refuses a payload that breaks its schema, naming the event and the field', () => {
    const finished = RUN_EVENT_EXAMPLES.RunFinished;
    const error = decodeError({ ...finished, data: { ...finished.data, status: 'exploded' } });
    expect(error.message).toContain(`RunFinished #5 of run ${finished.runId}`);
    expect(error.message).toMatch(/data\/status must be equal to one of the allowed values/);
    expect(decodeError({ ...finished, data: { ...finished.data, completedAt: 'yesterday' } }).message).toMatch(/data\/completedAt must match format "date-time"/);
    const step = RUN_EVENT_EXAMPLES.StepCompleted;
    const badMessage = { ...step.data.messages[0], message_type: 'assistant_message', content: 42 };
    expect(decodeError({ ...step, data: { ...step.data, messages: [badMessage] } }).message).toMatch(/StepCompleted #4 .*invalid data/);
  });

  it('passes a claimed event through with its claim, and refuses data and a claim together, or neither', () => {
    const claim = { name: created.id, size: 300_000, sha256: 'a'.repeat(64) };
    const claimed = decodeRunEventMessage(encode({ ...created, data: null, claim }));
    expect(claimed).toEqual({ ...created, data: null, claim });
    expect(decodeError({ ...created, claim }).message).toMatch(/envelope is invalid/);
    expect(decodeError({ ...created, data: null }).message).toMatch(/envelope is invalid/);
    expect(decodeError({ ...created, data: null, claim: { ...claim, sha256: 'not-a-digest' } }).message).toMatch(/claim\/sha256/);
  });
});

describe('withRunEventData', () => {
  const claim = { name: created.id, size: 1, sha256: 'b'.repeat(64) };

  it('completes a claimed version-1 event with its fetched payload, upcast, without the claim', () => {
    const stored = decodeRunEventMessage(encode({ ...versionOneRunCreated(), data: null, claim }));
    const { approvalTimeoutSeconds: _absent, ...versionOneData } = created.data;
    expect(withRunEventData(stored, versionOneData)).toEqual(created);
  });

  it('refuses a fetched payload that is not an object or breaks its schema', () => {
    const stored = decodeRunEventMessage(encode({ ...created, data: null, claim }));
    expect(() => withRunEventData(stored, 'text')).toThrow(InvalidRunEvent);
    expect(() => withRunEventData(stored, { ...created.data, maxSteps: 0 })).toThrow(/data\/maxSteps must be >= 1/);
  });
});

describe('upcastRunEventData', () => {
  const upcasters: RunEventUpcasters = {
    RunStarted: {
      1: (data) => ({ ...data, renamed: data['original'], original: undefined }),
      2: (data) => ({ ...data, third: true }),
    },
  };

  it('applies each step from the event version up to the target, in order', () => {
    expect(upcastRunEventData('RunStarted', { original: 'x' }, 1, 3, upcasters)).toEqual({ renamed: 'x', original: undefined, third: true });
    expect(upcastRunEventData('RunStarted', { renamed: 'y' }, 2, 3, upcasters)).toEqual({ renamed: 'y', third: true });
  });

  it('leaves data of the target version, and types without upcasters, as they are', () => {
    const data = { original: 'x' };
    expect(upcastRunEventData('RunStarted', data, 3, 3, upcasters)).toBe(data);
    expect(upcastRunEventData('RunFinished', data, 1, 3, upcasters)).toBe(data);
  });
});

describe('peekRunEventIdentity', () => {
  it('names the type and run of a message the decoder refuses, and "?" for what it cannot read', () => {
    const invalid = { ...RUN_EVENT_EXAMPLES.RunFinished, version: 99 };
    expect(() => decodeRunEventMessage(encode(invalid))).toThrow(InvalidRunEvent);
    expect(peekRunEventIdentity(encode(invalid))).toEqual({ type: 'RunFinished', runId: invalid.runId });
    expect(peekRunEventIdentity(encode({ type: 7 }))).toEqual({ type: '?', runId: '?' });
    expect(peekRunEventIdentity(Buffer.from('not json'))).toEqual({ type: '?', runId: '?' });
  });
});

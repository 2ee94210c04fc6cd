import { derivedId, isLettaId } from './ids';

describe('derivedId', () => {
  it('is a valid Letta id, stable for a seed and different across seeds and prefixes', () => {
    const id = derivedId('run', 'agent-1:otid-a');
    expect(isLettaId('run', id)).toBe(true);
    expect(derivedId('run', 'agent-1:otid-a')).toBe(id);
    expect(derivedId('run', 'agent-1:otid-b')).not.toBe(id);
    expect(derivedId('message', 'agent-1:otid-a').slice('message-'.length)).not.toBe(id.slice('run-'.length));
  });
});

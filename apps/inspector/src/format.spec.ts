import { formatDuration, isoToLocalInput, localInputToIso, prettyJson, shortId } from './format';

describe('inspector formatting', () => {
  it('writes durations in the unit a person reads best', () => {
    expect([null, 0.4, 12.4, 1_234, 12_345, 125_000].map(formatDuration)).toEqual(['—', '<1 ms', '12 ms', '1.23 s', '12.3 s', '2 min 5 s']);
  });

  it('pretty-prints JSON arguments and leaves other text as it came', () => {
    expect(prettyJson('{"label":"human"}')).toBe('{\n  "label": "human"\n}');
    expect(prettyJson('not json {')).toBe('not json {');
  });

  it('shortens ids after their prefix and keeps datetime-local values round-tripping through ISO', () => {
    expect(shortId('run-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d')).toBe('run-0a1b2c3d…');
    const iso = localInputToIso('2026-01-02T03:04')!;
    expect(isoToLocalInput(iso)).toBe('2026-01-02T03:04');
    expect(localInputToIso('')).toBeNull();
  });
});

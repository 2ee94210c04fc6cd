import { RUN_STATUSES, STOP_REASONS, type RunStatus, type StopReason } from '@lrs/contracts';
import { ACTIVE_STATUSES, TERMINAL_STATUSES, isTerminalStatus, statusForStopReason } from './run-status';

// Letta's stop_reason -> status table, written out independently of the source.
const EXPECTED: [StopReason, RunStatus][] = [
  ['end_turn', 'completed'],
  ['max_steps', 'completed'],
  ['tool_rule', 'completed'],
  ['requires_approval', 'completed'],
  ['error', 'failed'],
  ['invalid_tool_call', 'failed'],
  ['no_tool_call', 'failed'],
  ['invalid_llm_response', 'failed'],
  ['llm_api_error', 'failed'],
  ['max_tokens_exceeded', 'failed'],
  ['context_window_overflow_in_system_prompt', 'failed'],
  ['insufficient_credits', 'failed'],
  ['cancelled', 'cancelled'],
];

describe('statusForStopReason', () => {
  it.each(EXPECTED)('%s -> %s', (stopReason, status) => {
    expect(statusForStopReason(stopReason)).toBe(status);
  });

  it('covers every value of STOP_REASONS, and only those', () => {
    expect(EXPECTED.map(([reason]) => reason).sort()).toEqual([...STOP_REASONS].sort());
  });

  it.each([...STOP_REASONS])('maps %s to a terminal status', (stopReason) => {
    expect(TERMINAL_STATUSES).toContain(statusForStopReason(stopReason));
  });
});

describe('terminal and active statuses', () => {
  it.each([
    ['created', false],
    ['running', false],
    ['completed', true],
    ['failed', true],
    ['cancelled', true],
  ] as [RunStatus, boolean][])('%s is terminal: %s', (status, terminal) => {
    expect(isTerminalStatus(status)).toBe(terminal);
  });

  it('splits every run status into exactly one of active or terminal', () => {
    expect([...ACTIVE_STATUSES, ...TERMINAL_STATUSES].sort()).toEqual([...RUN_STATUSES].sort());
  });
});

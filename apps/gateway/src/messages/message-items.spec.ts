import { parseMessageItems } from './message-items';

describe('parseMessageItems', () => {
  it('names approvals that are not objects instead of failing on them', () => {
    expect(parseMessageItems([{ type: 'approval', approvals: [null, 'x', { type: 'approval', tool_call_id: 'call-1', approve: true }] }]).problems).toEqual([
      'messages.0.approvals.0: must be an object',
      'messages.0.approvals.1: must be an object',
    ]);
  });

  it('validates each approval by its type, at its own index', () => {
    const { problems } = parseMessageItems([{ type: 'approval', approvals: [7, { type: 'approval', approve: 'yes' }] }]);
    expect(problems[0]).toBe('messages.0.approvals.0: must be an object');
    expect(problems.slice(1).every((problem) => problem.startsWith('messages.0.approvals.1.'))).toBe(true);
    expect(problems.join('; ')).toMatch(/approvals\.1\.tool_call_id/);
  });
});

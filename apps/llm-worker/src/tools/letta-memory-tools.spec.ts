import type { AgentSnapshot } from '@lrs/read-model';
import { stepMessages } from '../step-messages';
import { runLettaMemoryTool, SENT_MESSAGE } from './letta-memory-tools';
import { ToolContext } from './server-tools';

const blocks = [
  { id: 'block-human', label: 'human', value: 'Name: Ana\nLikes tea', readOnly: false, description: null },
  { id: 'block-issues', label: 'system/active-issues', value: 'none', readOnly: false, description: 'open issues' },
  { id: 'block-persona', label: 'persona', value: 'I help.', readOnly: true, description: null },
];

function contextOf(options: { blockChanges?: boolean } = { blockChanges: true }): ToolContext {
  const agent = { id: 'agent-1', toolNames: [], blocks: blocks.map((block) => ({ ...block, charLimit: 5000 })) } as unknown as AgentSnapshot;
  return ToolContext.of(agent, options);
}

function run(name: string, args: Record<string, unknown>, context = contextOf()) {
  const call = { name, arguments: JSON.stringify(args), tool_call_id: `call-${name}` };
  const outcome = runLettaMemoryTool(call, context, args);
  return { outcome, edits: context.memoryEdits(), context };
}

describe("Letta's memory tools", () => {
  it('core_memory_append inserts at the end', () => {
    const { outcome, edits } = run('core_memory_append', { label: 'human', content: 'Lives in Porto' });
    expect(outcome.status).toBe('success');
    expect(edits).toEqual([
      expect.objectContaining({ label: 'human', toolCallId: 'call-core_memory_append', operation: { kind: 'insert', newStr: 'Lives in Porto', insertLine: -1 }, value: 'Name: Ana\nLikes tea\nLives in Porto' }),
    ]);
  });

  it('core_memory_replace replaces every occurrence, as one replace', () => {
    const context = contextOf();
    run('core_memory_append', { label: 'human', content: 'tea at 4' }, context);
    const { outcome, edits } = run('core_memory_replace', { label: 'human', old_content: 'tea', new_content: 'coffee' }, context);
    expect(outcome.status).toBe('success');
    expect(edits[1]).toMatchObject({ operation: { kind: 'replace' }, value: 'Name: Ana\nLikes coffee\ncoffee at 4' });
    expect(run('core_memory_replace', { label: 'human', old_content: 'milk', new_content: 'x' }).outcome).toMatchObject({ status: 'error' });
    const unchanged = run('core_memory_replace', { label: 'human', old_content: 'tea', new_content: 'tea' });
    expect([unchanged.outcome.status, unchanged.edits]).toEqual(['success', []]);
  });

  it('memory_rethink rewrites the block; memory_finish_edits changes nothing', () => {
    expect(run('memory_rethink', { label: 'system/active-issues', new_memory: 'login fails' }).edits).toEqual([
      expect.objectContaining({ label: 'system/active-issues', operation: { kind: 'rethink', newValue: 'login fails' } }),
    ]);
    expect(run('memory_finish_edits', {})).toMatchObject({ outcome: { status: 'success', output: 'None' }, edits: [] });
  });

  it('memory str_replace and insert address blocks by path', () => {
    expect(run('memory', { command: 'str_replace', path: '/memories/human', old_string: 'Ana', new_string: 'Ana Lima' }).edits).toEqual([
      expect.objectContaining({ label: 'human', operation: { kind: 'replace', oldStr: 'Ana', newStr: 'Ana Lima' } }),
    ]);
    expect(run('memory', { command: 'insert', path: '/memories/system/active-issues', insert_text: 'billing', insert_line: 0 }).edits).toEqual([
      expect.objectContaining({ label: 'system/active-issues', operation: { kind: 'insert', newStr: 'billing', insertLine: 0 }, value: 'billing\nnone' }),
    ]);
    // Letta's older flattening of a path into a label.
    expect(run('memory', { command: 'insert', path: '/memories/system_active-issues', insert_text: 'x' }).outcome).toMatchObject({ status: 'error' });
    expect(run('memory', { command: 'insert', path: 'system/active-issues', insert_text: 'x' }).outcome.status).toBe('success');
  });

  it('memory create records a new block that later calls of the step see', () => {
    const context = contextOf();
    const created = run('memory', { command: 'create', path: '/memories/projects/alpha', file_text: 'Kickoff in May', description: 'Project notes' }, context);
    expect(created.outcome).toMatchObject({ status: 'success', output: "Successfully created memory block 'projects/alpha'." });
    const [change] = context.blockChanges();
    expect(change).toMatchObject({
      toolCallId: 'call-memory',
      operation: { kind: 'create', blockId: expect.stringMatching(/^block-/), label: 'projects/alpha', value: 'Kickoff in May', description: 'Project notes', limit: 100_000 },
    });
    expect(context.block('projects/alpha')?.value).toBe('Kickoff in May');
    // An edit of the new block names it by id, since it has no row yet when the step's tools run.
    run('memory', { command: 'insert', path: 'projects/alpha', insert_text: 'Budget: 10k' }, context);
    expect(context.memoryEdits()).toEqual([expect.objectContaining({ label: 'projects/alpha', blockId: change.operation.blockId, value: 'Kickoff in May\nBudget: 10k' })]);
    expect(run('memory', { command: 'create', path: '/memories/human', file_text: 'x' }, context).outcome.output).toContain("'human' already exists");
    expect(run('memory', { command: 'create', path: '/memories/bad label!', file_text: 'x' }, context).outcome.output).toContain('not a valid block label');
    expect(run('memory', { command: 'create', path: '/memories/', file_text: 'x' }, context).outcome.output).toContain('names no block');
    expect(run('memory', { command: 'create', path: 'empty' }, context).outcome.status).toBe('success');
    expect(context.block('empty')?.value).toBe('');
  });

  it('memory delete takes the block out of the view; rename moves it, or changes its description', () => {
    const context = contextOf();
    expect(run('memory', { command: 'delete', path: '/memories/human' }, context).outcome.status).toBe('success');
    expect(context.block('human')).toBeUndefined();
    expect(run('memory', { command: 'str_replace', path: 'human', old_string: 'Ana', new_string: 'x' }, context).outcome.status).toBe('error');
    expect(run('memory', { command: 'rename', old_path: '/memories/system/active-issues', new_path: '/memories/issues' }, context).outcome).toMatchObject({
      status: 'success',
      output: "Successfully renamed memory block 'system/active-issues' to 'issues'.",
    });
    expect(context.block('issues')).toMatchObject({ label: 'issues', value: 'none' });
    expect(context.block('system/active-issues')).toBeUndefined();
    expect(run('memory', { command: 'rename', path: '/memories/issues', description: 'What is broken' }, context).outcome.status).toBe('success');
    expect(context.description('issues')).toBe('What is broken');
    expect(context.blockChanges().map((change) => change.operation)).toEqual([
      { kind: 'delete', blockId: 'block-human', label: 'human' },
      { kind: 'rename', blockId: 'block-issues', label: 'system/active-issues', newLabel: 'issues' },
      { kind: 'describe', blockId: 'block-issues', label: 'issues', description: 'What is broken' },
    ]);
    // An edit of a renamed block names it by id; edits of other blocks keep their label only.
    run('memory', { command: 'insert', path: 'issues', insert_text: 'login' }, context);
    expect(context.memoryEdits()).toEqual([expect.objectContaining({ label: 'issues', blockId: 'block-issues' })]);
    expect(run('memory', { command: 'rename', old_path: 'persona', new_path: 'p' }, context).outcome.output).toContain('read-only');
    expect(run('memory', { command: 'delete', path: 'persona' }, context).outcome.output).toContain('read-only');
    expect(run('memory', { command: 'rename', old_path: 'issues', new_path: 'persona' }, context).outcome.output).toContain("'persona' already exists");
    expect(run('memory', { command: 'delete', path: 'nope' }, context).outcome.output).toContain("no memory block labelled 'nope'");
    expect(context.blockChanges()).toHaveLength(3);
  });

  it('block changes are refused outside a step (tools.run), as are unknown commands and missing arguments', () => {
    const outside = run('memory', { command: 'create', path: '/memories/new', file_text: 'x' }, contextOf({}));
    expect(outside.outcome).toMatchObject({ status: 'error', output: expect.stringContaining("'create' runs only in an agent's step") });
    expect(outside.context.blockChanges()).toEqual([]);
    expect(run('memory', { command: 'view', path: 'human' }).outcome.output).toContain("unknown memory command 'view'");
    expect(run('memory', { command: 'str_replace', path: 'human', old_string: 'Ana' }).outcome.output).toContain('needs a string new_string');
    expect(run('memory', { command: 'rename', path: 'human' }).outcome.output).toContain('needs a string description');
    expect(run('core_memory_append', { label: 'human' }).outcome.output).toContain('needs a string content');
    expect(run('core_memory_append', { label: 'persona', content: 'x' }).outcome.output).toContain('read-only');
    expect(run('memory_rethink', { label: 'nope', new_memory: 'x' }).outcome.output).toContain("no memory block labelled 'nope'");
  });

  it('memory_apply_patch records the one operation that makes the patched value', () => {
    const { outcome, edits } = run('memory_apply_patch', { label: 'human', patch: ' Name: Ana\n-Likes tea\n+Likes green tea' });
    expect(outcome.status).toBe('success');
    expect(edits).toEqual([expect.objectContaining({ operation: { kind: 'replace', oldStr: '\nLikes tea', newStr: '\nLikes green tea' }, value: 'Name: Ana\nLikes green tea' })]);
    expect(run('memory_apply_patch', { label: '', patch: '*** Update Block: system/active-issues\n-none\n+two open' }).edits[0]).toMatchObject({ label: 'system/active-issues', value: 'two open' });
    expect(run('memory_apply_patch', { label: 'human', patch: '-Likes coffee' })).toMatchObject({ outcome: { status: 'error' }, edits: [] });
    expect(run('memory_apply_patch', { label: '', patch: '*** Update Block: human\n-Likes tea\n*** Update Block: persona\n-I help.' }).outcome.output).toContain('only one block');
  });

  it('memory_apply_patch adds, deletes and moves blocks as block changes', () => {
    const context = contextOf();
    expect(run('memory_apply_patch', { patch: '*** Begin Patch\n*** Add Block: projects/beta\n+Kickoff\n+Budget\n*** End Patch' }, context).outcome.status).toBe('success');
    expect(context.block('projects/beta')?.value).toBe('Kickoff\nBudget');
    expect(run('memory_apply_patch', { patch: '*** Delete Block: human' }, context).outcome.status).toBe('success');
    expect(context.block('human')).toBeUndefined();
    const moved = run('memory_apply_patch', { patch: '*** Update Block: system/active-issues\n*** Move to: issues\n-none\n+login' }, context);
    expect(moved.outcome).toMatchObject({ status: 'success', output: "Successfully renamed memory block 'system/active-issues' to 'issues'." });
    expect(context.block('issues')?.value).toBe('login');
    expect(context.blockChanges().map((change) => change.operation.kind)).toEqual(['create', 'delete', 'rename']);
    // The edit names the renamed block by id: its label at commit is the new one.
    expect(context.memoryEdits()).toEqual([expect.objectContaining({ label: 'system/active-issues', blockId: 'block-issues', value: 'login' })]);
    // A move to a taken label changes nothing, not even the hunks.
    const refused = run('memory_apply_patch', { patch: '*** Update Block: issues\n*** Move to: persona\n-login\n+x' }, context);
    expect(refused.outcome.output).toContain("'persona' already exists");
    expect([context.block('issues')?.value, context.memoryEdits().length, context.blockChanges().length]).toEqual(['login', 1, 3]);
    expect(run('memory_apply_patch', { patch: '*** Add Block: x\n+a' }, contextOf({})).outcome.output).toContain("runs only in an agent's step");
  });

  it("send_message is the step's assistant message, not a tool call", () => {
    const { outcome, edits } = run('send_message', { message: 'Hello Ana!' });
    expect(outcome).toMatchObject({ status: 'success', output: SENT_MESSAGE, assistantMessage: 'Hello Ana!' });
    expect(edits).toEqual([]);
    expect(run('send_message', { message: ' ' }).outcome.status).toBe('error');
    const messages = stepMessages({ runId: 'run-1', stepId: 'step-1', now: new Date() }, { text: '', reasoning: '', hiddenReasoning: null }, [outcome]);
    expect(messages.map((message) => [message.message_type, 'content' in message ? message.content : null])).toEqual([['assistant_message', 'Hello Ana!']]);
  });
});

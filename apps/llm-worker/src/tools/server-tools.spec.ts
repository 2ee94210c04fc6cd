import type { ToolCall } from '@lrs/contracts';
import { baseToolSnapshot, type AgentSnapshot, type ToolSnapshot } from '@lrs/read-model';
import { BASE_TOOLS } from '@lrs/contracts';
import { truncateReturnValue } from '@lrs/tool-sandbox';
import { ServerTools, ToolContext, parseArguments } from './server-tools';
import type { ToolExecutor } from './tool-executor';
import { outcomeOf } from './sandbox-tool.executor';

const custom = (name: string, fields: Partial<ToolSnapshot> = {}): ToolSnapshot => ({
  ...baseToolSnapshot(BASE_TOOLS[0]),
  id: `tool-${name}`,
  organizationId: 'org-1',
  name,
  toolType: 'custom',
  sourceCode: 'def f(): ...',
  ...fields,
});

function contextWith(tools: ToolSnapshot[]): ToolContext {
  const agent = { id: 'agent-1', name: 'a', toolNames: tools.map((tool) => tool.name), customTools: tools, blocks: [{ id: 'block-1', label: 'human', value: 'Ada', charLimit: 20, readOnly: false, description: null }] } as unknown as AgentSnapshot;
  return ToolContext.of(agent, { blockChanges: true });
}

/** An executor that runs tools of one type and answers a fixed text. */
function executor(type: string, answer: string): ToolExecutor & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    runs: (tool) => tool.toolType === type,
    execute: async (call: ToolCall) => {
      calls.push(call.name);
      return { call, status: 'success', output: answer };
    },
  };
}

const call = (name: string, args = '{}'): ToolCall => ({ name, arguments: args, tool_call_id: `call-${name}` });

describe('ServerTools', () => {
  it('hands each call to the first executor that runs its kind, and cuts every answer to its tool limit', async () => {
    const sandbox = executor('custom', 'x'.repeat(30));
    const other = executor('external_mcp', 'mcp');
    const tools = new ServerTools([other, sandbox]);
    const context = contextWith([custom('mine', { returnCharLimit: 10 }), custom('theirs', { toolType: 'external_mcp' })]);
    const cut = await tools.execute(call('mine'), context);
    expect(cut.output).toBe(`${'x'.repeat(10)}... [NOTE: function output was truncated since it exceeded the character limit (30 > 10)]`);
    expect((await tools.execute(call('theirs'), context)).output).toBe('mcp');
    expect([sandbox.calls, other.calls]).toEqual([['mine'], ['theirs']]);
  });

  it('answers an error for a tool the agent lacks, a kind nobody runs, and arguments that are not an object', async () => {
    const tools = new ServerTools([executor('custom', 'ok')]);
    const context = contextWith([custom('lonely', { toolType: 'letta_voice_sleeptime_core' })]);
    expect(await tools.execute(call('missing'), context)).toMatchObject({ status: 'error', output: "Error: tool 'missing' is not available to this agent" });
    expect(await tools.execute(call('lonely'), context)).toMatchObject({ status: 'error' });
    expect(await tools.execute(call('lonely', '[1]'), context)).toMatchObject({ status: 'error', output: expect.stringContaining('not a JSON object') });
  });

  it('parses arguments leniently (empty is no arguments) and cuts only past the limit', () => {
    expect(parseArguments('')).toEqual({});
    expect(parseArguments('{"a":1}')).toEqual({ a: 1 });
    expect(parseArguments('nope')).toBeNull();
    expect(truncateReturnValue('abc', 3)).toBe('abc');
  });
});

describe("a sandboxed tool's answer", () => {
  const execution = { status: 'success' as const, returnValue: 'done', errorType: null, stdout: ['hi\n'], stderr: [], durationMs: 1, cold: false };

  it("becomes the step's memory edits, and a refused update makes the call an error", () => {
    const context = contextWith([]);
    const ok = outcomeOf(call('t'), { ...execution, memoryUpdates: [{ label: 'human', value: 'Ada Lovelace' }] }, context);
    expect(ok).toEqual({ call: call('t'), status: 'success', output: 'done', stdout: ['hi\n'], stderr: [] });
    expect(context.memoryEdits()).toEqual([expect.objectContaining({ label: 'human', operation: { kind: 'rethink', newValue: 'Ada Lovelace' }, value: 'Ada Lovelace' })]);
    const tooLong = outcomeOf(call('t'), { ...execution, memoryUpdates: [{ label: 'human', value: 'x'.repeat(21) }] }, context);
    expect(tooLong.status).toBe('error');
    expect(tooLong.output).toContain('done\n');
    expect(context.memoryEdits()).toHaveLength(1);
  });

  it('keeps NUL out of what is stored', () => {
    const outcome = outcomeOf(call('t'), { ...execution, returnValue: 'a\u0000b', stdout: ['c\u0000'], memoryUpdates: [] }, contextWith([]));
    expect([outcome.output, outcome.stdout]).toEqual(['a\uFFFDb', ['c\uFFFD']]);
  });
});

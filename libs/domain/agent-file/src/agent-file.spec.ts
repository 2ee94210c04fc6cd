import type { LettaMessage } from '@lrs/contracts';
import { AgentFileError, parseAgentFile, planImport, toAgentFile, type AgentFile, type AgentSnapshot } from './agent-file';

const common = { date: 'd', name: null, sender_id: null, step_id: 'step-1', is_err: null, seq_id: null, run_id: 'run-1' };
const history: LettaMessage[] = [
  { ...common, id: 'message-u', otid: 'o1', message_type: 'user_message', content: 'find my order' },
  { ...common, id: 'message-c', otid: 'o2', message_type: 'tool_call_message', tool_call: { name: 'conversation_search', arguments: '{"query":"order"}', tool_call_id: 'call-1' }, tool_calls: [{ name: 'conversation_search', arguments: '{"query":"order"}', tool_call_id: 'call-1' }] },
  { ...common, id: 'message-r', otid: 'o3', message_type: 'tool_return_message', tool_return: 'No results found.', status: 'success', tool_call_id: 'call-1', stdout: null, stderr: null, tool_returns: [{ type: 'tool', tool_call_id: 'call-1', tool_return: 'No results found.', status: 'success', stdout: null, stderr: null }] },
  { ...common, id: 'message-a', otid: 'o4', message_type: 'assistant_message', content: 'I could not find it.' },
];

const snapshot: AgentSnapshot = {
  name: 'support_bot',
  system: 'You are support.',
  agentType: 'letta_v1_agent',
  llmConfig: { model: 'gpt-4o-mini', handle: 'openai/gpt-4o-mini', context_window: 32000 },
  modelHandle: 'openai/gpt-4o-mini',
  embedding: null,
  tags: ['demo'],
  description: 'Demo agent',
  metadata: null,
  toolRules: [],
  blocks: [{ label: 'human', value: 'Name: Ana', limit: 5000, description: 'the user', readOnly: false, metadata: null }],
  tools: [{ id: 'tool-db-1', name: 'conversation_search', tool_type: 'letta_core', description: 'Search history', json_schema: { name: 'conversation_search' } }],
  systemPrompt: 'You are support.\n\n<memory_blocks>...</memory_blocks>',
  messages: history.map((message, index) => ({ message, createdAt: `2026-01-01T00:00:0${index}.000Z` })),
};

let counter = 0;
const options = { serverTools: ['conversation_search', 'memory_insert', 'memory_replace'], stripMessages: false, newMessageShell: () => ({ id: `message-new-${++counter}`, otid: `otid-${counter}`, date: 'now' }) };

describe('toAgentFile', () => {
  const file = toAgentFile(snapshot, { createdAt: '2026-01-02T00:00:00.000Z', revisionId: 'rev-1', scrubMessages: false });

  it("writes Letta's v2 layout with file-local ids and the compiled system prompt first", () => {
    expect(Object.keys(file)).toEqual(['agents', 'groups', 'blocks', 'files', 'sources', 'tools', 'mcp_servers', 'skills', 'metadata', 'created_at']);
    const [agent] = file.agents;
    expect(agent).toMatchObject({ id: 'agent-0', name: 'support_bot', block_ids: ['block-0'], tool_ids: ['tool-0'], model: 'openai/gpt-4o-mini' });
    expect(agent.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant']);
    expect(agent.messages[0].content).toEqual([{ type: 'text', text: snapshot.systemPrompt, signature: null }]);
    expect(agent.messages[2].tool_calls).toEqual([{ id: 'call-1', type: 'function', function: { name: 'conversation_search', arguments: '{"query":"order"}' } }]);
    expect(agent.messages[3]).toMatchObject({ tool_call_id: 'call-1', tool_returns: [{ tool_call_id: 'call-1', status: 'success', func_response: 'No results found.' }] });
    expect(file.tools).toEqual([{ id: 'tool-0', name: 'conversation_search', tool_type: 'letta_core', description: 'Search history', json_schema: { name: 'conversation_search' }, source_code: null }]);
    expect(agent.in_context_message_ids).toEqual(['message-0', 'message-1', 'message-2', 'message-3', 'message-4']);
    expect(file.metadata).toEqual({ revision_id: 'rev-1' });
  });

  it('leaves messages out when scrubbing', () => {
    const scrubbed = toAgentFile(snapshot, { createdAt: 'x', revisionId: 'r', scrubMessages: true });
    expect(scrubbed.agents[0].messages).toEqual([]);
    expect(scrubbed.agents[0].in_context_message_ids).toEqual([]);
  });

  it('round-trips through import: same blocks, tools and conversation, fresh ids, system prompt left to this server', () => {
    const [plan] = planImport(parseAgentFile(JSON.stringify(file)), options);
    expect(plan).toMatchObject({ name: 'support_bot', modelHandle: 'openai/gpt-4o-mini', contextWindow: 32000, toolNames: ['conversation_search'], tags: ['demo'] });
    expect(plan.blocks).toEqual([{ fileId: 'block-0', label: 'human', value: 'Name: Ana', limit: 5000, description: 'the user', read_only: false, metadata: {} }]);
    const strip = (m: LettaMessage) => ({ ...m, id: '', otid: '', date: '', step_id: null, run_id: null });
    expect(plan.messages.map(strip)).toEqual(history.map(strip));
    expect(plan.messages.every((m) => m.id.startsWith('message-new-'))).toBe(true);
    expect(plan.inContextIds).toEqual(plan.messages.map((m) => m.id));
  });
});

describe('parseAgentFile and planImport', () => {
  const file = (): AgentFile => toAgentFile(snapshot, { createdAt: 'x', revisionId: 'r', scrubMessages: false });

  it('reads a file encoded twice, and refuses broken or legacy ones', () => {
    expect(parseAgentFile(JSON.stringify(JSON.stringify(file()))).agents).toHaveLength(1);
    expect(() => parseAgentFile('{nope')).toThrow(new AgentFileError('Corrupted agent file format.'));
    expect(() => parseAgentFile('{"name":"old","core_memory":[]}')).toThrow(/Legacy AgentSchema format/);
  });

  it('names every broken reference at once', () => {
    const broken = file();
    broken.agents[0].block_ids = ['block-9'];
    broken.agents[0].in_context_message_ids = ['message-0', 'message-77'];
    broken.blocks.push({ ...broken.blocks[0], id: 'human-block' });
    expect(() => planImport(broken, options)).toThrow(/unknown block block-9.*unknown message message-77|Invalid ID format/);
    try {
      planImport(broken, options);
    } catch (error) {
      expect((error as Error).message).toContain('Invalid ID format: human-block');
      expect((error as Error).message).toContain('unknown block block-9');
      expect((error as Error).message).toContain('unknown message message-77');
    }
  });

  it('refuses fields and messages of the wrong type, naming each, instead of failing on them', () => {
    const broken = file();
    const [messages, agent] = [broken.agents[0].messages, broken.agents[0] as unknown as Record<string, unknown>];
    agent.block_ids = 'nope';
    agent.tags = 'x';
    agent.messages = [null, { ...messages[1], content: 'x' }, { ...messages[2], tool_calls: [{ id: 5 }] }];
    expect(() => planImport(broken, options)).toThrow(AgentFileError);
    try {
      planImport(broken, options);
    } catch (error) {
      expect((error as Error).message).toContain('agents.0.block_ids: must be a list of strings');
      expect((error as Error).message).toContain('agents.0.tags: must be a list of strings');
      expect((error as Error).message).toContain('agents.0.messages.0: must be an object');
      expect((error as Error).message).toContain('agents.0.messages.1: content: must be a list');
      expect((error as Error).message).toContain('agents.0.messages.2: tool_calls.0: must be an object with a string id');
    }
  });

  it("keeps every tool on the agent, hands the ones that are not the server's own to the import, and strips messages on request", () => {
    const withTools = file();
    withTools.tools.push({ id: 'tool-1', name: 'web_search', tool_type: 'letta_builtin', description: null, source_code: null, json_schema: null });
    withTools.tools.push({ id: 'tool-2', name: 'get_weather', tool_type: 'custom', description: null, source_code: 'def get_weather(): ...', json_schema: null });
    withTools.agents[0].tool_ids.push('tool-1', 'tool-2');
    const [plan] = planImport(withTools, { ...options, stripMessages: true });
    expect(plan.toolNames).toEqual(['conversation_search', 'web_search', 'get_weather']);
    expect(plan.messages).toEqual([]);
    expect(plan.fileTools.map((tool) => tool.name)).toEqual(['web_search', 'get_weather']);
  });

  it("turns Letta's path labels into this server's form and says which it changed", () => {
    const withPaths = file();
    withPaths.blocks.push({ ...withPaths.blocks[0], id: 'block-1', label: '/note_directory' }, { ...withPaths.blocks[0], id: 'block-2', label: 'system//references/faq' });
    withPaths.agents[0].block_ids.push('block-1', 'block-2');
    const [plan] = planImport(withPaths, options);
    expect(plan.blocks.map((block) => block.label)).toEqual(['human', 'note_directory', 'system/references/faq']);
    expect(plan.renamedLabels).toEqual([
      { from: '/note_directory', to: 'note_directory' },
      { from: 'system//references/faq', to: 'system/references/faq' },
    ]);
  });
});

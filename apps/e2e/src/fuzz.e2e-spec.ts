import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { DEFAULT_ORGANIZATION_ID } from '@lrs/contracts';
import { TestStack } from '@lrs/testing';
import { createAgent, getJson, pollRun, postJson, sendAsync } from './helpers';

/**
 * Seeded fuzzing of every gateway route with hostile paths, queries and bodies. Whatever arrives,
 * the gateway answers below 500, every 4xx is Letta's `{"detail": "..."}`, no service dies, and a
 * request that is refused writes nothing. `FUZZ_SEED=<n>` replays another sequence; the seed in
 * use is printed.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_129);
const MIXED_REQUESTS = 10_000;
const INVALID_REQUESTS = 1_500;
const CONCURRENCY = 16;
const REQUEST_TIMEOUT_MS = 60_000;
const OTHER_ORGANIZATION = 'org-99999999-9999-4999-8999-999999999999';
const NONEXISTENT = (prefix: string) => `${prefix}-00000000-0000-4000-8000-000000000000`;

/** Letters, digits, punctuation, and characters of 2, 3 and 4 UTF-8 bytes (whole code points: no lone surrogate). */
const SYMBOLS = Array.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,;:!?é漢😀');

/** mulberry32: a small, fast, seedable PRNG, so every failure reproduces from its seed. */
class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  /** `length` symbols that do not compress (an index entry cannot hide its size), without `[` (the fake model's directives). */
  text(length: number): string {
    const symbols: string[] = [];
    for (let i = 0; i < Math.min(length, 4_096); i++) symbols.push(SYMBOLS[this.int(SYMBOLS.length)]);
    const chunk = symbols.join('');
    return length <= 4_096 ? chunk : chunk.repeat(Math.ceil(length / 4_096));
  }
}

interface Fixture {
  agentId: string;
  otherAgentId: string;
  foreignAgentId: string;
  conversationId: string;
  foreignConversationId: string;
  runId: string;
  foreignRunId: string;
  blockId: string;
  foreignBlockId: string;
  archiveId: string;
  foreignArchiveId: string;
  foreignPassageId: string;
  messageId: string;
  foreignMessageId: string;
  stepId: string;
  foreignStepId: string;
  toolIds: string[];
  customToolId: string;
  foreignToolId: string;
  agentFile: Record<string, unknown>;
  scheduleId: string;
  foreignScheduleId: string;
  mcpServerId: string;
  foreignMcpServerId: string;
  mcpToolId: string;
}

interface FuzzRequest {
  method: string;
  path: string;
  body?: string | Buffer | FormData;
  contentType?: string;
}

interface Route {
  method: string;
  path: string;
  query?: () => Record<string, string>;
  body?: () => Record<string, unknown>;
  multipart?: true;
}

/** A custom tool the fuzzer creates, changes and runs. */
const FUZZ_TOOL_SOURCE = 'def fz_tool(text: str) -> str:\n    """Echo a fuzz text.\n\n    Args:\n        text: What to echo.\n    """\n    return text\n';

/** An MCP server address that is valid and public but never answers (the .invalid domain does not resolve): stored, never reached. */
const FUZZ_MCP_URL = 'https://mcp.invalid/mcp';

/** Every route of the gateway (its controllers), with a valid query and body to start from. */
function routes(f: Fixture): Route[] {
  const send = () => ({ input: 'hi', max_steps: 1 });
  const page = () => ({ limit: '5', order: 'asc' });
  return [
    { method: 'GET', path: '/v1/health' },
    { method: 'GET', path: '/openapi.json' },
    {
      method: 'POST',
      path: '/v1/agents',
      body: () => ({
        name: 'fz',
        model: 'openai/gpt-4o-mini',
        memory_blocks: [{ label: 'human', value: 'v', limit: 100, description: 'd', read_only: false, metadata: {} }],
        block_ids: [f.blockId],
        tags: ['t'],
        tools: ['memory_insert'],
        tool_rules: [],
        context_window_limit: 32_000,
        max_tokens: 100,
        model_settings: { max_output_tokens: 100, reasoning: { reasoning_effort: 'low' } },
        metadata: { k: 1 },
        description: 'd',
        system: 's',
        include_base_tools: true,
      }),
    },
    { method: 'POST', path: '/v1/agents/import', multipart: true },
    { method: 'GET', path: '/v1/agents', query: () => ({ ...page(), name: 'fz', tags: 't', match_all_tags: 'true' }) },
    { method: 'GET', path: '/v1/agents/:agent_id' },
    { method: 'PATCH', path: '/v1/agents/:agent_id', body: () => ({ name: 'fz', tags: ['t'], description: 'd', metadata: {}, tool_rules: [], model: 'openai/gpt-4o-mini' }) },
    { method: 'DELETE', path: '/v1/agents/:victim_agent_id' },
    { method: 'GET', path: '/v1/agents/:agent_id/messages', query: () => ({ ...page(), include_return_message_types: 'user_message' }) },
    { method: 'PATCH', path: '/v1/agents/:agent_id/tools/approval/:tool_name', body: () => ({ requires_approval: false }) },
    { method: 'GET', path: '/v1/agents/:agent_id/export', query: () => ({ scrub_messages: 'false' }) },
    { method: 'POST', path: '/v1/agents/:agent_id/recompile', query: () => ({ dry_run: 'true' }) },
    { method: 'GET', path: '/v1/agents/:agent_id/context' },
    { method: 'PATCH', path: '/v1/agents/:agent_id/reset-messages', body: () => ({ add_default_initial_messages: false }) },
    { method: 'POST', path: '/v1/agents/:agent_id/summarize', body: () => ({ compaction_settings: { mode: 'all', clip_chars: 100 } }) },
    { method: 'GET', path: '/v1/agents/:agent_id/core-memory/blocks' },
    { method: 'GET', path: '/v1/agents/:agent_id/core-memory/blocks/:block_label' },
    { method: 'PATCH', path: '/v1/agents/:agent_id/core-memory/blocks/:block_label', body: () => ({ value: 'v', limit: 1_000, description: 'd', read_only: false, metadata: {} }) },
    { method: 'PATCH', path: '/v1/agents/:agent_id/core-memory/blocks/attach/:block_id' },
    { method: 'PATCH', path: '/v1/agents/:agent_id/core-memory/blocks/detach/:block_id' },
    { method: 'POST', path: '/v1/blocks', body: () => ({ label: 'fz', value: 'v', limit: 1_000, description: 'd', read_only: false, metadata: {}, tags: ['t'] }) },
    {
      method: 'GET',
      path: '/v1/blocks',
      query: () => ({ ...page(), label: 'human', label_search: 'hu', value_search: 'Sam', description_search: 'd', tags: 't', match_all_tags: 'false', connected_to_agents_count_gt: '0', connected_to_agents_count_lt: '5', connected_to_agents_count_eq: '1' }),
    },
    { method: 'GET', path: '/v1/blocks/:block_id' },
    { method: 'PATCH', path: '/v1/blocks/:block_id', body: () => ({ value: 'Name: Sam', limit: 1_000, description: 'd', read_only: false, metadata: {}, tags: ['t'] }) },
    { method: 'DELETE', path: '/v1/blocks/:victim_block_id' },
    { method: 'GET', path: '/v1/blocks/:block_id/agents', query: page },
    { method: 'POST', path: '/v1/tools', body: () => ({ source_code: FUZZ_TOOL_SOURCE.replaceAll('fz_tool', `fz_${Math.random().toString(36).slice(2, 8)}`), tags: ['t'], return_char_limit: 1_000, default_requires_approval: false }) },
    { method: 'PUT', path: '/v1/tools', body: () => ({ source_code: FUZZ_TOOL_SOURCE, source_type: 'python', pip_requirements: [{ name: 'requests' }], description: 'd' }) },
    { method: 'GET', path: '/v1/tools', query: () => ({ ...page(), name: 'fz_tool', search: 'fz', tool_types: 'custom', exclude_tool_types: 'letta_core', return_only_letta_tools: 'false' }) },
    { method: 'POST', path: '/v1/tools/search', body: () => ({ query: 'fuzz tool', search_mode: 'fts', tags: ['t'], tool_types: ['custom'], limit: 5 }) },
    { method: 'GET', path: '/v1/tools/:custom_tool_id' },
    { method: 'PATCH', path: '/v1/tools/:custom_tool_id', body: () => ({ description: 'd', tags: ['t'], return_char_limit: 2_000, metadata_: { k: 1 } }) },
    { method: 'DELETE', path: '/v1/tools/:victim_tool_id' },
    {
      method: 'POST',
      path: '/v1/mcp-servers',
      body: () => ({ server_name: `fz_${Math.random().toString(36).slice(2, 8)}`, config: { mcp_server_type: 'streamable_http', server_url: FUZZ_MCP_URL, auth_token: 't', custom_headers: { 'X-Fz': 'v' } } }),
    },
    { method: 'GET', path: '/v1/mcp-servers' },
    { method: 'GET', path: '/v1/mcp-servers/:mcp_server_id' },
    { method: 'PATCH', path: '/v1/mcp-servers/:mcp_server_id', body: () => ({ config: { server_url: FUZZ_MCP_URL, auth_token: '********', custom_headers: { 'X-Fz': '********' } } }) },
    { method: 'PATCH', path: '/v1/mcp-servers/:mcp_server_id/refresh', query: () => ({ agent_id: f.agentId }) },
    { method: 'DELETE', path: '/v1/mcp-servers/:victim_mcp_server_id' },
    { method: 'GET', path: '/v1/mcp-servers/:mcp_server_id/tools' },
    { method: 'GET', path: '/v1/mcp-servers/:mcp_server_id/tools/:mcp_tool_id' },
    { method: 'POST', path: '/v1/mcp-servers/:mcp_server_id/tools/:mcp_tool_id/run', body: () => ({ args: { message: 'fz' } }) },
    { method: 'GET', path: '/v1/agents/:agent_id/tools' },
    { method: 'PATCH', path: '/v1/agents/:agent_id/tools/attach/:tool_id' },
    { method: 'PATCH', path: '/v1/agents/:agent_id/tools/detach/:tool_id' },
    { method: 'POST', path: '/v1/agents/:agent_id/tools/:tool_name/run', body: () => ({ args: { query: 'x' } }) },
    { method: 'POST', path: '/v1/agents/:agent_id/messages', body: () => ({ ...send(), streaming: false }) },
    { method: 'POST', path: '/v1/agents/:agent_id/messages/async', body: () => ({ ...send(), callback_url: 'http://127.0.0.1:9/hook' }) },
    { method: 'POST', path: '/v1/agents/:agent_id/messages/stream', body: () => ({ ...send(), stream_tokens: false, include_pings: false }) },
    { method: 'POST', path: '/v1/agents/:agent_id/messages/cancel', body: () => ({ run_ids: [f.runId] }) },
    { method: 'GET', path: '/v1/runs', query: () => ({ ...page(), agent_id: f.agentId, statuses: 'completed', active: 'false', stop_reason: 'end_turn' }) },
    { method: 'GET', path: '/v1/runs', query: () => ({ ...page(), created_after: '2020-01-01T00:00:00Z', created_before: '2100-01-01T00:00:00.000Z', include_usage: 'true' }) },
    { method: 'GET', path: '/v1/runs/:run_id/timeline' },
    { method: 'GET', path: '/v1/runs/:run_id' },
    { method: 'GET', path: '/v1/runs/:run_id/messages', query: page },
    { method: 'GET', path: '/v1/runs/:run_id/steps', query: page },
    { method: 'GET', path: '/v1/runs/:run_id/usage' },
    { method: 'GET', path: '/v1/runs/:run_id/trace', query: () => ({ limit: '10' }) },
    { method: 'DELETE', path: '/v1/runs/:victim_run_id' },
    { method: 'POST', path: '/v1/runs/:run_id/stream', body: () => ({ starting_after: 0, include_pings: false, stream_tokens: true }) },
    { method: 'POST', path: '/v1/runs/:run_id/cancel' },
    {
      method: 'GET',
      path: '/v1/steps',
      query: () => ({ ...page(), agent_id: f.agentId, run_id: f.runId, model: 'gpt-4o-mini', has_feedback: 'false', feedback: 'positive', tags: 't', start_date: '2020-01-01T00:00:00Z', end_date: '2100-01-01T00:00:00+01:00' }),
    },
    { method: 'GET', path: '/v1/steps/:step_id' },
    { method: 'GET', path: '/v1/steps/:step_id/messages', query: page },
    { method: 'GET', path: '/v1/steps/:step_id/metrics' },
    { method: 'GET', path: '/v1/steps/:step_id/trace' },
    { method: 'PATCH', path: '/v1/steps/:step_id/feedback', body: () => ({ feedback: 'positive', tags: ['t'] }) },
    { method: 'GET', path: '/v1/tags', query: () => ({ ...page(), name: 't', query_text: 't', order_by: 'name' }) },
    { method: 'GET', path: '/v1/messages', query: () => ({ ...page(), agent_id: f.agentId, conversation_id: 'default', include_return_message_types: 'user_message' }) },
    { method: 'GET', path: '/v1/messages/:message_id' },
    {
      method: 'POST',
      path: '/v1/messages/search',
      body: () => ({ query: 'hello', search_mode: 'fts', agent_id: f.agentId, conversation_id: 'default', limit: 5, start_date: '2020-01-01T00:00:00Z', end_date: '2100-01-01T00:00:00+01:00' }),
    },
    { method: 'GET', path: '/v1/models', query: () => ({ provider_name: 'openai', provider_type: 'openai', provider_category: 'base' }) },
    { method: 'GET', path: '/v1/models/embedding' },
    { method: 'POST', path: '/v1/conversations', query: () => ({ agent_id: f.agentId }), body: () => ({ summary: 's', isolated_block_labels: ['human'], model: 'openai/gpt-4o-mini' }) },
    { method: 'GET', path: '/v1/conversations', query: () => ({ ...page(), agent_id: f.agentId }) },
    { method: 'GET', path: '/v1/conversations/:conversation_id' },
    { method: 'PATCH', path: '/v1/conversations/:conversation_id', body: () => ({ summary: 's' }) },
    { method: 'DELETE', path: '/v1/conversations/:victim_conversation_id' },
    { method: 'POST', path: '/v1/conversations/:conversation_id/messages', body: () => ({ ...send(), streaming: false, agent_id: f.agentId }) },
    { method: 'GET', path: '/v1/conversations/:conversation_id/messages', query: () => ({ ...page(), agent_id: f.agentId }) },
    { method: 'POST', path: '/v1/conversations/:conversation_id/stream', body: () => ({ run_id: f.runId, starting_after: 0, include_pings: false, agent_id: f.agentId }) },
    { method: 'POST', path: '/v1/conversations/:conversation_id/cancel', query: () => ({ agent_id: f.agentId }) },
    { method: 'POST', path: '/v1/conversations/:conversation_id/fork', query: () => ({ agent_id: f.agentId, message_id: f.messageId }) },
    { method: 'POST', path: '/v1/conversations/:conversation_id/recompile', query: () => ({ dry_run: 'true' }), body: () => ({ agent_id: f.agentId }) },
    { method: 'POST', path: '/v1/conversations/:conversation_id/compact', body: () => ({ agent_id: f.agentId, compaction_settings: { mode: 'sliding_window', sliding_window_percentage: 0.5 } }) },
    { method: 'POST', path: '/v1/agents/:agent_id/archival-memory', body: () => ({ text: 'fz passage', tags: ['t'], created_at: '2026-01-01T00:00:00Z' }) },
    { method: 'GET', path: '/v1/agents/:agent_id/archival-memory', query: () => ({ limit: '5', ascending: 'false', search: 'fz' }) },
    { method: 'GET', path: '/v1/agents/:agent_id/archival-memory/search', query: () => ({ query: 'fz', top_k: '3', tag_match_mode: 'any', tags: 't', start_datetime: '2020-01-01T00:00:00Z' }) },
    { method: 'DELETE', path: '/v1/agents/:agent_id/archival-memory/:victim_passage_id' },
    { method: 'POST', path: '/v1/archives', body: () => ({ name: 'fz', description: 'd', embedding: 'openai/text-embedding-3-small', metadata: {} }) },
    { method: 'GET', path: '/v1/archives', query: () => ({ ...page(), name: 'fz', agent_id: f.agentId }) },
    { method: 'GET', path: '/v1/archives/:archive_id' },
    { method: 'PATCH', path: '/v1/archives/:archive_id', body: () => ({ name: 'fz', description: 'd' }) },
    { method: 'DELETE', path: '/v1/archives/:victim_archive_id' },
    { method: 'POST', path: '/v1/archives/:archive_id/passages', body: () => ({ text: 'fz passage', tags: ['t'], metadata: { k: 1 } }) },
    { method: 'POST', path: '/v1/archives/:archive_id/passages/batch', body: () => ({ passages: [{ text: 'fz one' }, { text: 'fz two', tags: ['t'] }] }) },
    { method: 'DELETE', path: '/v1/archives/:archive_id/passages/:victim_passage_id' },
    { method: 'PATCH', path: '/v1/agents/:agent_id/archives/attach/:archive_id' },
    { method: 'PATCH', path: '/v1/agents/:agent_id/archives/detach/:archive_id' },
    { method: 'POST', path: '/v1/passages/search', body: () => ({ agent_id: f.agentId, query: 'fz', tags: ['t'], tag_match_mode: 'all', limit: 5, start_date: '2020-01-01T00:00:00Z' }) },
    {
      method: 'POST',
      path: '/v1/agents/:agent_id/schedule',
      body: () => ({ messages: [{ role: 'user', content: 'fz' }], schedule: { type: 'one-time', scheduled_at: Date.now() + 30 * 86_400_000 }, callback_url: 'http://127.0.0.1:9/hook', include_return_message_types: ['assistant_message'], max_steps: 1 }),
    },
    { method: 'POST', path: '/v1/agents/:agent_id/schedule', body: () => ({ messages: [{ role: 'user', content: 'fz' }], schedule: { type: 'recurring', cron_expression: '0 4 1 1 *' } }) },
    { method: 'GET', path: '/v1/agents/:agent_id/schedule', query: () => ({ limit: '5', after: f.scheduleId }) },
    { method: 'GET', path: '/v1/agents/:agent_id/schedule/:schedule_id' },
    { method: 'DELETE', path: '/v1/agents/:agent_id/schedule/:victim_schedule_id' },
    { method: 'GET', path: '/v1/nothing-here' },
    { method: 'GET', path: '/ui/' },
    { method: 'GET', path: '/ui/assets/nothing-here.js' },
  ];
}

/** Path segments that are not what the route wants: empty, NUL, invalid UTF-8, traversal, very long. */
const HOSTILE_SEGMENTS = ['%00', 'a%00b', '%ED%A0%80', '%E0%A4%A', '%FF', '..', '%2E%2E', '%2F', '%20', 'null', 'undefined', '-1', '1e308', 'NaN', '%F0%9F%98%80', "'%20OR%201%3D1--", '%3Cscript%3E'];

function idsFor(f: Fixture, name: string): string[] {
  const wrongKind = [f.runId, f.conversationId, f.blockId, f.agentId];
  switch (name) {
    case 'agent_id':
      return [f.agentId, f.agentId, f.otherAgentId, f.foreignAgentId, NONEXISTENT('agent'), 'agent-123', ...wrongKind];
    case 'victim_agent_id':
      return [f.foreignAgentId, NONEXISTENT('agent'), 'agent-123', f.runId];
    case 'run_id':
      return [f.runId, f.runId, f.foreignRunId, NONEXISTENT('run'), 'run-nope', ...wrongKind];
    case 'victim_run_id':
      return [f.foreignRunId, NONEXISTENT('run'), 'run-nope', f.agentId];
    case 'conversation_id':
      return [f.conversationId, f.conversationId, 'default', f.foreignConversationId, NONEXISTENT('conv'), 'conv-x', ...wrongKind];
    case 'victim_conversation_id':
      return [f.foreignConversationId, NONEXISTENT('conv'), 'conv-x', 'default'];
    case 'block_id':
      return [f.blockId, f.foreignBlockId, NONEXISTENT('block'), 'block-1', ...wrongKind];
    case 'victim_block_id':
      return [f.foreignBlockId, NONEXISTENT('block'), 'block-1', f.agentId];
    case 'archive_id':
      return [f.archiveId, f.archiveId, f.foreignArchiveId, NONEXISTENT('archive'), 'archive-1', ...wrongKind];
    case 'victim_archive_id':
      return [f.foreignArchiveId, NONEXISTENT('archive'), 'archive-1', f.agentId];
    case 'victim_passage_id':
      return [f.foreignPassageId, NONEXISTENT('passage'), 'passage-1', f.agentId];
    case 'step_id':
      return [f.stepId, f.stepId, f.foreignStepId, NONEXISTENT('step'), 'step-1', ...wrongKind];
    case 'message_id':
      return [f.messageId, f.messageId, f.foreignMessageId, NONEXISTENT('message'), 'message-1', ...wrongKind];
    case 'schedule_id':
      return [f.scheduleId, f.scheduleId, f.foreignScheduleId, NONEXISTENT('schedule'), 'schedule-1', ...wrongKind];
    case 'victim_schedule_id':
      return [f.foreignScheduleId, NONEXISTENT('schedule'), 'schedule-1', f.agentId];
    case 'block_label':
      return ['human', 'persona', 'nope', 'attach', 'a'.repeat(300)];
    case 'tool_id':
      return [...f.toolIds, 'tool-1', NONEXISTENT('tool')];
    case 'custom_tool_id':
      return [f.customToolId, f.customToolId, f.foreignToolId, NONEXISTENT('tool'), 'tool-1', ...f.toolIds.slice(0, 1), ...wrongKind];
    case 'victim_tool_id':
      return [f.foreignToolId, NONEXISTENT('tool'), 'tool-1', ...f.toolIds.slice(0, 1), f.agentId];
    case 'mcp_server_id':
      return [f.mcpServerId, f.mcpServerId, f.foreignMcpServerId, NONEXISTENT('mcp_server'), 'mcp_server-1', ...wrongKind];
    case 'victim_mcp_server_id':
      return [f.foreignMcpServerId, NONEXISTENT('mcp_server'), 'mcp_server-1', f.agentId];
    case 'mcp_tool_id':
      return [f.mcpToolId, f.mcpToolId, f.customToolId, f.foreignToolId, NONEXISTENT('tool'), 'tool-1', f.agentId];
    case 'tool_name':
      return ['memory_insert', 'conversation_search', 'memory_replace', 'nope', 'x'.repeat(300)];
    default:
      throw new Error(`no ids for ${name}`);
  }
}

/** Values a client should never send: NUL, lone surrogates, huge and odd numbers, wrong types, deep nesting, long strings and arrays, other tenants' ids. */
function hostileValue(g: Rng, f: Fixture): unknown {
  const roll = g.next();
  if (roll < 0.003) return g.text(1_100_000); // past NATS max_payload: claim-checked where accepted
  if (roll < 0.008) return Array.from({ length: g.pick([1_001, 7_000, 70_000]) }, (_, i) => (g.chance(0.5) ? `x${i}` : { label: `b${i}`, value: 'v' }));
  if (roll < 0.02) return g.text(g.pick([2_000, 3_000, 20_000, 100_000]));
  const choices: (() => unknown)[] = [
    () => 'a\u0000b',
    () => '\ud800',
    () => 'x\udfff',
    () => 1e308,
    () => -1e308,
    () => 3e9,
    () => 2 ** 31,
    () => 2 ** 53 + 2,
    () => -1,
    () => 0,
    () => 1.5,
    () => 'NaN',
    () => 'Infinity',
    () => '1e308',
    () => '3e9',
    () => '-1',
    () => true,
    () => false,
    () => null,
    () => '',
    () => ' ',
    () => 'x',
    () => 42,
    () => ({}),
    () => [],
    () => [null],
    () => ['x'],
    () => [42],
    () => [{}],
    () => ({ type: 'approval' }),
    () => ({ a: { b: { c: [1, 2, { d: null }] } } }),
    () => nested(g.pick([10, 63, 65, 200])),
    () => g.text(g.pick([257, 300, 1_000])),
    () => g.text(5),
    () => f.foreignAgentId,
    () => f.foreignRunId,
    () => f.foreignBlockId,
    () => f.foreignConversationId,
    () => NONEXISTENT('agent'),
    () => NONEXISTENT('run'),
    () => f.agentId,
    () => f.runId,
    () => 'agent-123',
    () => '../../etc/passwd',
    () => "' OR 1=1 --",
    () => '<script>alert(1)</script>',
    () => '\u202eRTL\u200b',
    () => '😀'.repeat(100),
    () => '[fake-not-a-directive',
    () => ['user_message', 'gossip_message'],
    () => [{ role: 'user', content: 'x' }],
    () => [{ name: 'tool_x' }],
    () => ({ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'ftp://x' } }] }),
  ];
  return g.pick(choices)();
}

function nested(depth: number): unknown {
  let value: unknown = 'deep';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { d: value };
  return value;
}

/** Field paths worth aiming at: the body's own fields, nested ones, and names nobody declared. */
function fieldPaths(body: Record<string, unknown>, prefix = '', depth = 0): string[] {
  return Object.entries(body).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    if (depth < 3 && value && typeof value === 'object') return [path, ...fieldPaths(value as Record<string, unknown>, path, depth + 1)];
    return [path];
  });
}

const EXTRA_FIELDS = [
  'messages', 'input', 'approvals', 'client_tools', 'include_return_message_types', 'max_steps', 'approval_timeout_seconds', 'override_model',
  'messages.0', 'messages.0.content', 'messages.0.role', 'messages.0.approvals', 'messages.0.type', 'messages.0.otid', 'messages.0.tool_returns',
  'client_tools.0.name', 'client_tools.0.parameters', 'memory_blocks.0.limit', 'memory_blocks.0.label', 'memory_blocks', 'block_ids', 'tags',
  'run_ids', 'compaction_settings.clip_chars', 'starting_after', 'callback_url', '__proto__', 'constructor', 'junk',
];

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node: Record<string, unknown> = target;
  for (let i = 0; i < keys.length - 1; i++) {
    const next = node[keys[i]];
    if (next === null || typeof next !== 'object') node[keys[i]] = /^\d+$/.test(keys[i + 1]) ? [] : {};
    node = node[keys[i]] as Record<string, unknown>;
  }
  Object.defineProperty(node, keys[keys.length - 1], { value, enumerable: true, configurable: true, writable: true });
}

/** An approval message, sometimes well-formed, to reach the approval parser. */
function approvalMessages(g: Rng, f: Fixture): unknown {
  return [{ type: 'approval', approvals: [g.pick([{ type: 'approval', tool_call_id: 'call-1', approve: true }, { type: 'tool', tool_call_id: 'c', tool_return: 'r', status: 'success' }, hostileValue(g, f)])] }];
}

function mutateBody(g: Rng, f: Fixture, base: Record<string, unknown>): unknown {
  if (g.chance(0.06)) return hostileValue(g, f);
  const body = structuredClone(base);
  if (g.chance(0.1)) return body;
  const paths = [...fieldPaths(base), ...EXTRA_FIELDS];
  for (let n = 1 + g.int(3); n > 0; n--) {
    const path = g.pick(paths);
    setPath(body, path, path === 'messages' && g.chance(0.3) ? approvalMessages(g, f) : hostileValue(g, f));
  }
  return body;
}

/** Raw bodies that are not (valid) JSON, or that the JSON parser must not accept. */
function malformedBody(g: Rng): FuzzRequest['body'] {
  return g.pick<() => FuzzRequest['body']>([
    () => '{"input": "hi",',
    () => '{"a":1}}',
    () => '[',
    () => 'nul',
    () => '{"input": "\\ud800"}',
    () => '{"input": "x\\u0000"}',
    () => `{"input": ${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
    () => Buffer.from([0x7b, 0x22, 0x69, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    () => '{"__proto__": {"polluted": true}, "input": "hi"}',
    () => '{"input": 1e999}',
    () => '',
  ])();
}

/** Percent-encoded; a lone surrogate becomes the bytes of one encoded as if it were a character (invalid UTF-8). */
function encodeAny(text: string): string {
  return encodeURIComponent(text.replace(new RegExp(LONE_SURROGATE, 'g'), '\uFFFD')) + (LONE_SURROGATE.test(text) ? '%ED%A0%80' : '');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Node answers a request line and headers past 16 KB itself (431, no body): queries stay below that. */
const MAX_QUERY_CHARS = 8_000;

function queryString(g: Rng, f: Fixture, base: Record<string, string>): string {
  const params: [string, string][] = Object.entries(base).map(([k, v]) => [k, encodeURIComponent(v)]);
  for (let n = g.int(3); n > 0; n--) {
    const key = g.chance(0.8) && params.length ? g.pick(params)[0] : g.pick(['limit', 'after', 'before', 'order', 'agent_ids', 'statuses', 'tags', 'starting_after', 'junk']);
    const value = g.pick<() => string>([
      () => g.pick(['0', '-1', '1e308', '3e9', 'NaN', 'Infinity', '', 'true', 'maybe', '1001', '2.5', '%00', '%ED%A0%80', '%E0%A4%A', NONEXISTENT('run'), 'agent-123']),
      () => encodeURIComponent(g.text(g.pick([300, 3_000]))),
      () => encodeAny(String(hostileValue(g, f)).slice(0, 1_000)),
    ])();
    params.push([key, value]);
    // Repeated keys make arrays (`statuses=a&statuses=b`): past every bound on query arrays.
    if (g.chance(0.05)) for (let i = 0; i < 200; i++) params.push([key, g.pick(['completed', 'x', 'user_message', f.agentId])]);
  }
  let query = params.map(([k, v]) => `${k}=${v}`).join('&');
  while (query.length > MAX_QUERY_CHARS) query = query.slice(0, query.lastIndexOf('&'));
  return query ? `?${query}` : '';
}

function multipartBody(g: Rng, f: Fixture): FormData {
  const form = new FormData();
  const file = structuredClone(f.agentFile);
  const roll = g.next();
  if (roll < 0.08) {
    form.append('name', 'no file');
    return form;
  }
  let text: string;
  if (roll < 0.16) {
    text = g.pick(['not json', '[]', '"x"', '{"agents": 5}', '{"agents": [null]}', JSON.stringify(JSON.stringify(file)), '{"agents": [{"id": "agent-0"}]}']);
  } else {
    const targets = [
      'agents.0.block_ids', 'agents.0.tool_ids', 'agents.0.messages', 'agents.0.messages.0', 'agents.0.messages.0.content', 'agents.0.messages.0.tool_calls',
      'agents.0.messages.0.tool_returns', 'agents.0.in_context_message_ids', 'agents.0.tags', 'agents.0.name', 'agents.0.system', 'agents.0.metadata',
      'agents.0.llm_config', 'agents.0.llm_config.context_window', 'agents.0.tool_rules', 'agents.0.agent_type', 'agents.0.model', 'agents',
      'blocks', 'blocks.0', 'blocks.0.label', 'blocks.0.limit', 'blocks.0.value', 'blocks.0.id', 'tools', 'tools.0.name', 'agents.0.messages.1.role',
    ];
    for (let n = g.chance(0.1) ? 0 : 1 + g.int(2); n > 0; n--) setPath(file, g.pick(targets), hostileValue(g, f));
    text = JSON.stringify(file);
  }
  form.append('file', new Blob([text], { type: 'application/json' }), 'agent.af');
  if (g.chance(0.3)) form.append(g.pick(['name', 'model', 'strip_messages', 'append_copy_suffix', 'secrets', 'env_vars_json', 'embedding']), String(hostileValue(g, f)));
  return form;
}

/**
 * A DELETE gets no dot-dot segment: the URL parser resolves `/v1/agents/{id}/schedule/..` (or
 * `%2E%2E`) to `/v1/agents/{id}/` before it is sent, which deletes the fixture agent itself.
 */
function fillPath(g: Rng, f: Fixture, template: string, method: string): string {
  const hostile = method === 'DELETE' ? HOSTILE_SEGMENTS.filter((segment) => segment !== '..' && segment !== '%2E%2E') : HOSTILE_SEGMENTS;
  return template.replace(/:([a-z_]+)/g, (_, name: string) => (g.chance(0.1) ? g.pick(hostile) : encodeURIComponent(g.pick(idsFor(f, name)))));
}

/** One request of the mixed phase: any route, any mix of valid and hostile parts. */
function mixedRequest(g: Rng, f: Fixture, all: Route[]): FuzzRequest {
  const route = g.pick(all);
  // Another method on the route; not DELETE, which would delete the fixtures (agent deletion racing
  // an in-flight compaction of its thread is a known 500, left for its own change).
  const method = g.chance(0.02) ? g.pick(['GET', 'POST', 'PATCH', 'PUT']) : route.method;
  const path = fillPath(g, f, route.path, method) + queryString(g, f, route.query?.() ?? {});
  if (method === 'GET' || method === 'DELETE') return { method, path };
  if (route.multipart) return { method, path, body: multipartBody(g, f) };
  if (g.chance(0.05)) return { method, path, body: malformedBody(g), contentType: 'application/json' };
  if (g.chance(0.02)) return { method, path, body: 'input=hi', contentType: g.pick(['text/plain', 'application/x-www-form-urlencoded']) };
  const body = route.body ? mutateBody(g, f, route.body()) : g.chance(0.5) ? {} : hostileValue(g, f);
  return { method, path, body: JSON.stringify(body), contentType: 'application/json' };
}

/** Requests that must be refused, so that counting rows before and after shows nothing was written. */
function invalidRequest(g: Rng, f: Fixture, all: Route[]): FuzzRequest {
  const writes = all.filter((route) => route.method !== 'GET' && !route.multipart);
  const route = g.pick(writes);
  const json = (body: unknown): Pick<FuzzRequest, 'body' | 'contentType'> => ({ body: JSON.stringify(body), contentType: 'application/json' });
  const base = route.body?.() ?? {};
  const kinds: (() => FuzzRequest)[] = [
    // A malformed id in the path (every route with one).
    () => {
      const withId = writes.filter((r) => r.path.includes(':'));
      const r = g.pick(withId);
      return { method: r.method, path: r.path.replace(/:([a-z_]+)/g, () => g.pick(['agent-123', 'run-nope', 'conv-x', 'block-1', '%00', '%ED%A0%80'])), ...json(r.body?.() ?? {}) };
    },
    // NUL or a lone surrogate anywhere in the body.
    () => {
      const body = structuredClone(base);
      setPath(body, g.pick([...fieldPaths(base), 'junk', 'nested.deeper']), g.pick(['a\u0000b', '\ud800', ['x', 'y\udc00']]));
      return { method: route.method, path: fillPath(g, f, route.path, route.method), ...json(body) };
    },
    // JSON that does not parse, or nests too deep.
    () => ({ method: route.method, path: fillPath(g, f, route.path, route.method), body: g.pick(['{"input": "hi",', '{"a":1}}', `{"a": ${'['.repeat(100)}${']'.repeat(100)}}`]), contentType: 'application/json' }),
    // Agents that cannot be stored.
    () => {
      const body = { name: 'fz', memory_blocks: [{ label: 'human', value: 'v' }] } as Record<string, unknown>;
      const bad: [string, unknown][] = [
        ['memory_blocks.0.limit', 3e9],
        ['memory_blocks.0.limit', 1e308],
        ['memory_blocks.0.label', g.text(3_000)],
        ['memory_blocks', Array.from({ length: 7_000 }, (_, i) => ({ label: `b${i}`, value: 'v' }))],
        ['tags', Array.from({ length: 101 }, (_, i) => `t${i}`)],
        ['tags', [g.text(3_000)]],
        ['name', g.text(300)],
        ['block_ids', Array.from({ length: 1_001 }, (_, i) => `block-${i}`)],
        ['context_window_limit', 1e308],
        ['tools', 'memory_insert'],
        ['memory_blocks', { label: 'human' }],
      ];
      const [field, value] = g.pick(bad);
      setPath(body, field, value);
      return { method: 'POST', path: '/v1/agents', ...json(body) };
    },
    // Block updates that cannot be stored.
    () => ({ method: 'PATCH', path: `/v1/agents/${f.agentId}/core-memory/blocks/human`, ...json(g.pick([{ limit: 3e9 }, { limit: -1 }, { label: g.text(3_000) }, { value: 5 }, { limit: 'NaN' }])) }),
    // Standalone blocks that cannot be stored, and other tenants' blocks.
    () =>
      g.pick<() => FuzzRequest>([
        () => {
          const body: Record<string, unknown> = { label: 'fz', value: 'v' };
          const [field, value] = g.pick<[string, unknown]>([
            ['limit', 3e9], ['limit', 0], ['label', g.text(3_000)], ['label', 'a b'], ['value', 5], ['value', 'x'.repeat(101)], ['tags', 'docs'],
            ['tags', Array.from({ length: 101 }, (_, i) => `t${i}`)], ['metadata', 'x'], ['read_only', 'yes'],
          ]);
          setPath(body, field, value);
          if (field === 'value' && typeof value === 'string') body.limit = 100;
          return { method: 'POST', path: '/v1/blocks', ...json(body) };
        },
        () => ({ method: 'PATCH', path: `/v1/blocks/${f.blockId}`, ...json(g.pick([{ limit: 3e9 }, { limit: -1 }, { label: g.text(3_000) }, { value: 5 }, { tags: [5] }, { limit: 1, value: 'xy' }])) }),
        () => ({ method: g.pick(['PATCH', 'DELETE']), path: `/v1/blocks/${g.pick([f.foreignBlockId, NONEXISTENT('block')])}`, ...json({ value: 'stolen' }) }),
      ])(),
    // Tools that cannot be described, stored or run, other tenants' tools, agents with secrets that cannot be an environment.
    () =>
      g.pick<() => FuzzRequest>([
        () => {
          const body: Record<string, unknown> = { source_code: FUZZ_TOOL_SOURCE.replaceAll('fz_tool', 'fz_bad') };
          const [field, value] = g.pick<[string, unknown]>([
            ['source_code', 'def broken(:\n  pass'], ['source_code', 'x = 1'], ['source_code', 'def f(a):\n    return a'], ['source_code', 'x'.repeat(200_001)],
            ['source_code', 5], ['source_type', 'ruby'], ['pip_requirements', [{ name: 'numpy' }]], ['npm_requirements', [{ name: 'left-pad' }]],
            ['pip_requirements', [{ name: '../evil' }]], ['return_char_limit', 1e12], ['return_char_limit', 0], ['tags', Array.from({ length: 101 }, (_, i) => `t${i}`)],
            ['json_schema', { name: 'no such fn', parameters: { type: 'object' } }], ['json_schema', { name: 'fz_bad', parameters: { type: 'array' } }], ['json_schema', { name: 'memory_insert' }],
            ['source_type', 'typescript'],
          ]);
          setPath(body, field, value);
          return { method: g.pick(['POST', 'PUT']), path: '/v1/tools', ...json(body) };
        },
        () => ({ method: 'PATCH', path: `/v1/tools/${f.customToolId}`, ...json(g.pick<unknown>([{ source_code: 'def broken(:' }, { return_char_limit: -5 }, { tags: [5] }, { pip_requirements: [{ name: 'torch' }] }, { json_schema: 'x' }])) }),
        () => ({ method: g.pick(['PATCH', 'DELETE']), path: `/v1/tools/${g.pick([f.foreignToolId, NONEXISTENT('tool'), ...f.toolIds.slice(0, 1)])}`, ...json({ description: 'stolen' }) }),
        () => ({
          method: 'POST',
          path: '/v1/agents',
          ...json({ name: 'fz', secrets: g.pick<unknown>([{ 'BAD NAME': 'x' }, { OK: 5 }, { OK: 'a\u0000b' }, Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`K${i}`, 'v'])), 'x', { OK: 'x'.repeat(10_001) }]) }),
        }),
        () => ({ method: 'POST', path: '/v1/agents', ...json({ name: 'fz', tool_ids: [g.pick([f.foreignToolId, NONEXISTENT('tool'), 'tool-1'])] }) }),
      ])(),
    // MCP servers that may not be registered (private addresses, unlisted stdio commands) or cannot be stored, and other tenants' servers.
    () =>
      g.pick<() => FuzzRequest>([
        () => {
          const config = g.pick<Record<string, unknown>>([
            { server_url: 'http://127.0.0.1:9/mcp' }, { server_url: 'http://localhost:8080/mcp' }, { server_url: 'http://169.254.169.254/latest' }, { server_url: 'http://[::1]/mcp' },
            { server_url: 'http://10.1.2.3/mcp' }, { server_url: 'ftp://mcp.invalid/' }, { server_url: 'not a url' }, { server_url: 'https://user:pw@mcp.invalid/' },
            { mcp_server_type: 'stdio', command: 'sh', args: ['-c', 'id'] }, { mcp_server_type: 'stdio', command: 'npx', args: [] }, { mcp_server_type: 'stdio', server_url: FUZZ_MCP_URL },
            { mcp_server_type: 'websocket', server_url: FUZZ_MCP_URL }, { server_url: FUZZ_MCP_URL, custom_headers: { 'X-A': 'a\r\nb' } }, { server_url: FUZZ_MCP_URL, custom_headers: { 'bad name': 'v' } },
            { server_url: FUZZ_MCP_URL, custom_headers: { 'X-A': '😀' } }, { server_url: FUZZ_MCP_URL, auth_token: 'x\ny' }, { server_url: FUZZ_MCP_URL, auth_header: 'a b', auth_token: 't' },
            { server_url: FUZZ_MCP_URL, args: ['x'] }, { server_url: 'x'.repeat(5_000) }, {},
          ]);
          const body = g.pick<Record<string, unknown>>([{ server_name: 'fz_bad', config }, { server_name: '', config: { server_url: FUZZ_MCP_URL } }, { server_name: g.text(300), config: { server_url: FUZZ_MCP_URL } }, { server_name: 'fz_bad' }, { server_name: 'fz_bad', config: 'x' }]);
          return { method: 'POST', path: '/v1/mcp-servers', ...json(body) };
        },
        () => ({ method: 'PATCH', path: `/v1/mcp-servers/${f.mcpServerId}`, ...json(g.pick<unknown>([{ config: { server_url: 'http://10.0.0.1/' } }, { config: { mcp_server_type: 'stdio' } }, { config: { mcp_server_type: 'stdio', command: 'bash' } }, { config: null }, { server_name: '' }])) }),
        () => ({ method: g.pick(['PATCH', 'DELETE']), path: `/v1/mcp-servers/${g.pick([f.foreignMcpServerId, NONEXISTENT('mcp_server'), 'mcp_server-1'])}`, ...json({ config: { server_url: FUZZ_MCP_URL } }) }),
        () => ({ method: 'PATCH', path: `/v1/mcp-servers/${g.pick([f.foreignMcpServerId, NONEXISTENT('mcp_server')])}/refresh` }),
        () => ({ method: 'POST', path: `/v1/mcp-servers/${g.pick([f.foreignMcpServerId, NONEXISTENT('mcp_server')])}/tools/${f.mcpToolId}/run`, ...json({ args: {} }) }),
      ])(),
    // Step feedback that cannot be stored, and other tenants' steps.
    () =>
      g.chance(0.5)
        ? { method: 'PATCH', path: `/v1/steps/${g.pick([f.foreignStepId, NONEXISTENT('step')])}/feedback`, ...json({ feedback: 'negative', tags: ['stolen'] }) }
        : { method: 'PATCH', path: `/v1/steps/${f.stepId}/feedback`, ...json(g.pick<unknown>([{ feedback: 'meh' }, { feedback: 1 }, { tags: 'x' }, { tags: [5] }, { tags: Array.from({ length: 101 }, (_, i) => `t${i}`) }, { tags: [g.text(300)] }, []])) },
    // Messages that cannot be processed.
    () => ({
      method: 'POST',
      path: `/v1/agents/${g.pick([f.agentId, f.otherAgentId])}/messages/${g.pick(['async', 'stream'])}`,
      ...json(
        g.pick<unknown>([
          { messages: [{ type: 'approval', approvals: [null] }] },
          { messages: [{ type: 'approval', approvals: ['x'] }] },
          { messages: Array.from({ length: 1_001 }, () => ({ role: 'user', content: 'x' })) },
          { messages: [null] },
          { input: 'hi', client_tools: Array.from({ length: 129 }, (_, i) => ({ name: `t${i}` })) },
          { input: 'hi', include_return_message_types: Array.from({ length: 101 }, () => 'user_message') },
          { input: 'hi', max_steps: 1e308 },
          { input: 'hi', override_model: `openai/${g.text(300).replace(/\s/g, 'x')}` },
          { input: 42 },
          { input: 'hi', messages: [] },
        ]),
      ),
    }),
    // A 1.1 MB input with an invalid field: refused whole; nothing is claim-checked or written.
    () => ({ method: 'POST', path: `/v1/agents/${f.agentId}/messages/async`, ...json({ input: g.text(1_100_000), max_steps: 0 }) }),
    // Cancels with too many ids.
    () => ({ method: 'POST', path: `/v1/agents/${f.agentId}/messages/cancel`, ...json({ run_ids: Array.from({ length: 1_001 }, () => NONEXISTENT('run')) }) }),
    // Other tenants' and nonexistent agents, with a valid body.
    () => {
      const r = g.pick(writes.filter((w) => w.path.includes(':agent_id')));
      return { method: r.method, path: r.path.replace(':agent_id', g.pick([f.foreignAgentId, NONEXISTENT('agent')])).replace(/:([a-z_]+)/g, (_, n: string) => encodeURIComponent(g.pick(idsFor(f, n)))), ...json(r.body?.() ?? {}) };
    },
    // Agent files with wrong types inside.
    () => {
      const file = structuredClone(f.agentFile);
      const bad: [string, unknown][] = [
        ['agents.0.block_ids', 'nope'],
        ['agents.0.messages', [null]],
        ['agents.0.messages.0.content', 'x'],
        ['agents.0.messages.0.tool_calls', [{ id: 5 }]],
        ['agents.0.tool_ids', 5],
        ['agents.0.in_context_message_ids', {}],
        ['agents.0.tags', 'x'],
        ['agents.0.metadata', 'x'],
        ['blocks.0.limit', 3e9],
        ['blocks.0.label', 5],
        ['agents.0.llm_config.context_window', 1e308],
        ['agents.0.name', g.text(300)],
      ];
      const [field, value] = g.pick(bad);
      setPath(file, field, value);
      const form = new FormData();
      form.append('file', new Blob([JSON.stringify(file)], { type: 'application/json' }), 'agent.af');
      return { method: 'POST', path: '/v1/agents/import', body: form };
    },
  ];
  return g.pick(kinds)();
}

interface Outcome {
  request: FuzzRequest;
  index: number;
  status: number;
  problem: string | null;
}

/**
 * A pooled keep-alive connection the server closed (its 5 s idle timeout, or after refusing a large
 * body) can be picked for the next request at that very moment: the request never reached the
 * server, so it is sent once more. A dead gateway fails both attempts (and the liveness check).
 */
async function fetchOnce(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET') throw error;
    return fetch(url, init);
  }
}

async function sendOne(baseUrl: string, request: FuzzRequest, index: number): Promise<Outcome> {
  try {
    const response = await fetchOnce(`${baseUrl}${request.path}`, {
      method: request.method,
      headers: request.contentType ? { 'content-type': request.contentType } : undefined,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let problem: string | null = null;
    if (response.status >= 500) problem = `status ${response.status}: ${text.slice(0, 300)}`;
    else if (response.status >= 400) {
      let detail: unknown;
      try {
        detail = (JSON.parse(text) as { detail?: unknown }).detail;
      } catch {
        detail = undefined;
      }
      if (typeof detail !== 'string') problem = `status ${response.status} without a string detail: ${text.slice(0, 300)}`;
    }
    return { request, index, status: response.status, problem };
  } catch (error) {
    return { request, index, status: 0, problem: `no response: ${String(error)} (${String((error as { cause?: unknown }).cause)})` };
  }
}

/** Sends every request with at most CONCURRENCY in flight. */
async function sendAll(baseUrl: string, requests: FuzzRequest[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(requests.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const index = next++;
        outcomes[index] = await sendOne(baseUrl, requests[index], index);
      }
    }),
  );
  return outcomes;
}

function histogram(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of outcomes) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

function describeFailures(outcomes: Outcome[], phase: string): string[] {
  return outcomes
    .filter((outcome) => outcome.problem)
    .slice(0, 20)
    .map(({ index, request, problem }) => {
      const body = typeof request.body === 'string' ? request.body.slice(0, 200) : request.body instanceof FormData ? '<multipart>' : '<bytes>';
      return `[seed ${SEED}, ${phase} #${index}] ${request.method} ${request.path.slice(0, 200)} ${body} -> ${problem}`;
    });
}

describe(`fuzzing every route (seed ${SEED})`, () => {
  let stack: TestStack;
  let fixture: Fixture;
  let db: Client;

  const TABLES = ['agents', 'blocks', 'agent_blocks', 'block_edits', 'conversations', 'runs', 'steps', 'messages', 'thread_contexts', 'archives', 'archive_agents', 'passages', 'schedules', 'tools', 'agent_secrets', 'mcp_servers'];

  async function traces(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of TABLES) counts[table] = Number((await db.query(`SELECT count(*) FROM ${table}`)).rows[0].count);
    counts.step_feedback = Number((await db.query(`SELECT count(*) FROM steps WHERE feedback IS NOT NULL OR tags <> '{}'`)).rows[0].count);
    const nc = await connect({ servers: stack.nats.url });
    counts.run_events = (await (await jetstreamManager(nc)).streams.info('RUN_EVENTS')).state.messages;
    await nc.close();
    return counts;
  }

  /** Services that exited since the start, each with its last lines of output printed. */
  function deadServices(): string[] {
    const dead = [...stack.services.values()].filter((service) => !service.running || service.unexpectedExits > 0).map((service) => service.name);
    for (const name of dead) console.log(`--- ${name} exited; its last lines ---\n${stack.logs.filter((line) => line.startsWith(`[${name}]`)).slice(-40).join('\n')}`);
    return dead;
  }

  /** No run in progress and nothing changing: the baseline for "nothing written". */
  async function quiescent(): Promise<Record<string, number>> {
    const deadline = Date.now() + 60_000;
    let previous = await traces();
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const active = Number((await db.query(`SELECT count(*) FROM runs WHERE status IN ('created', 'running')`)).rows[0].count);
      const now = await traces();
      if (active === 0 && JSON.stringify(now) === JSON.stringify(previous)) return now;
      previous = now;
    }
    throw new Error(`the stack did not settle: ${JSON.stringify(previous)}`);
  }

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (set FUZZ_SEED to replay another)`);
    // MCP servers the fuzzer registers never answer: short deadlines keep each attempt to reach one brief.
    stack = await TestStack.start({ env: { MCP_CONNECT_TIMEOUT_MS: '300', MCP_CALL_TIMEOUT_MS: '300' } });
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
    const memory = { memory_blocks: [{ label: 'human', value: 'Name: Sam' }, { label: 'persona', value: 'helpful' }] };
    const [agentId, otherAgentId, foreignAgentId] = await Promise.all([createAgent(stack.baseUrl, memory), createAgent(stack.baseUrl, memory), createAgent(stack.baseUrl, memory)]);
    const conversation = async (agent: string) => (await postJson(stack.baseUrl, `/v1/conversations?agent_id=${agent}`, {})).body.id as string;
    const [conversationId, foreignConversationId] = await Promise.all([conversation(agentId), conversation(foreignAgentId)]);
    const [runId, foreignRunId] = await Promise.all([sendAsync(stack.baseUrl, agentId, { input: 'hello' }), sendAsync(stack.baseUrl, foreignAgentId, { input: 'hello' })]);
    await Promise.all([pollRun(stack.baseUrl, runId), pollRun(stack.baseUrl, foreignRunId)]);
    const blocks = async (agent: string) => getJson<{ id: string }[]>(stack.baseUrl, `/v1/agents/${agent}/core-memory/blocks`);
    const [[block], [foreignBlock]] = await Promise.all([blocks(agentId), blocks(foreignAgentId)]);
    const [[message], [foreignMessage]] = await Promise.all([agentId, foreignAgentId].map((agent) => getJson<{ id: string }[]>(stack.baseUrl, `/v1/agents/${agent}/messages?order=asc&limit=1`)));
    const tools = await getJson<{ id: string }[]>(stack.baseUrl, `/v1/agents/${agentId}/tools`);
    const [[step], [foreignStep]] = await Promise.all([runId, foreignRunId].map((run) => getJson<{ id: string }[]>(stack.baseUrl, `/v1/runs/${run}/steps`)));
    const agentFile = await getJson<Record<string, unknown>>(stack.baseUrl, `/v1/agents/${agentId}/export`);
    // Archival memory: an archive of the fuzzed agent's organization, and a passage and an archive that become another's.
    const archive = await postJson(stack.baseUrl, '/v1/archives', { name: 'fz archive' });
    await fetch(`${stack.baseUrl}/v1/agents/${agentId}/archives/attach/${archive.body.id}`, { method: 'PATCH' });
    const foreignArchive = await postJson(stack.baseUrl, '/v1/archives', { name: 'foreign archive' });
    const foreignPassage = await postJson(stack.baseUrl, `/v1/archives/${foreignArchive.body.id}/passages`, { text: 'foreign passage' });
    // Scheduled messages far in the future: one of the fuzzed agent's, one that becomes another organization's.
    const schedule = async (agent: string) => (await postJson(stack.baseUrl, `/v1/agents/${agent}/schedule`, { messages: [{ role: 'user', content: 'fz' }], schedule: { type: 'one-time', scheduled_at: Date.now() + 30 * 86_400_000 } })).body.id as string;
    const [scheduleId, foreignScheduleId] = await Promise.all([schedule(agentId), schedule(foreignAgentId)]);
    // A custom tool of the fuzzed organization, and one that becomes another's.
    const customTool = await postJson(stack.baseUrl, '/v1/tools', { source_code: FUZZ_TOOL_SOURCE });
    const foreignTool = await postJson(stack.baseUrl, '/v1/tools', { source_code: FUZZ_TOOL_SOURCE.replaceAll('fz_tool', 'foreign_tool') });
    // MCP servers (never reachable) of the fuzzed organization and of another, and a tool row of the first as a refresh would store it.
    const mcpServer = async (name: string) => (await postJson(stack.baseUrl, '/v1/mcp-servers', { server_name: name, config: { server_url: FUZZ_MCP_URL, auth_token: 't' } })).body.id as string;
    const [mcpServerId, foreignMcpServerId] = await Promise.all([mcpServer('fz_mcp'), mcpServer('foreign_mcp')]);
    const mcpToolId = `tool-${randomUUID()}`;
    await db.query(
      `INSERT INTO tools (id, organization_id, name, description, tool_type, source_type, source_code, json_schema, tags, return_char_limit, metadata)
       VALUES ($1, $2, 'fz_mcp_echo', 'Echo.', 'external_mcp', 'python', '', $3, ARRAY['mcp:fz_mcp'], 1000, $4)`,
      [mcpToolId, DEFAULT_ORGANIZATION_ID, { name: 'fz_mcp_echo', parameters: { type: 'object', properties: { message: { type: 'string' } } } }, { mcp: { server_name: 'fz_mcp', server_id: mcpServerId } }],
    );
    await quiescent();
    await db.query(`UPDATE mcp_servers SET organization_id = $1 WHERE id = $2`, [OTHER_ORGANIZATION, foreignMcpServerId]);
    await db.query(`UPDATE tools SET organization_id = $1 WHERE id = $2`, [OTHER_ORGANIZATION, foreignTool.body.id]);
    await db.query(`UPDATE schedules SET organization_id = $1 WHERE agent_id = $2`, [OTHER_ORGANIZATION, foreignAgentId]);
    await db.query(`UPDATE archives SET organization_id = $1 WHERE id = $2`, [OTHER_ORGANIZATION, foreignArchive.body.id]);
    await db.query(`UPDATE passages SET organization_id = $1 WHERE archive_id = $2`, [OTHER_ORGANIZATION, foreignArchive.body.id]);
    // The third agent, its conversation, run, blocks and messages now belong to another organization.
    await db.query(`UPDATE blocks SET organization_id = $1 WHERE id IN (SELECT block_id FROM agent_blocks WHERE agent_id = $2)`, [OTHER_ORGANIZATION, foreignAgentId]);
    for (const table of ['conversations', 'runs', 'steps', 'messages']) await db.query(`UPDATE ${table} SET organization_id = $1 WHERE agent_id = $2`, [OTHER_ORGANIZATION, foreignAgentId]);
    await db.query(`UPDATE agents SET organization_id = $1 WHERE id = $2`, [OTHER_ORGANIZATION, foreignAgentId]);
    fixture = {
      agentId,
      otherAgentId,
      foreignAgentId,
      conversationId,
      foreignConversationId,
      runId,
      foreignRunId,
      blockId: block.id,
      foreignBlockId: foreignBlock.id,
      archiveId: archive.body.id as string,
      foreignArchiveId: foreignArchive.body.id as string,
      foreignPassageId: foreignPassage.body.id as string,
      messageId: message.id,
      foreignMessageId: foreignMessage.id,
      stepId: step.id,
      foreignStepId: foreignStep.id,
      toolIds: tools.map((tool) => tool.id),
      customToolId: customTool.body.id as string,
      foreignToolId: foreignTool.body.id as string,
      agentFile,
      scheduleId,
      foreignScheduleId,
      mcpServerId,
      foreignMcpServerId,
      mcpToolId,
    };
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  it('refused requests write nothing: no row, no event', async () => {
    const g = new Rng(SEED);
    const all = routes(fixture);
    const requests = Array.from({ length: INVALID_REQUESTS }, () => invalidRequest(g, fixture, all));
    const before = await quiescent();
    const outcomes = await sendAll(stack.baseUrl, requests);
    console.log(`invalid phase: ${outcomes.length} requests, statuses ${JSON.stringify(histogram(outcomes))}`);
    expect(describeFailures(outcomes, 'invalid')).toEqual([]);
    const accepted = outcomes.filter((outcome) => outcome.status < 400);
    expect(accepted.map(({ index, request, status }) => `#${index} ${request.method} ${request.path.slice(0, 120)} -> ${status}`)).toEqual([]);
    expect(await traces()).toEqual(before);
    expect(deadServices()).toEqual([]);
  }, 300_000);

  it(`answers ${MIXED_REQUESTS} hostile requests below 500, with a detail on every 4xx, and no service dies`, async () => {
    const g = new Rng(SEED ^ 0x9e3779b9);
    const all = routes(fixture);
    const requests = Array.from({ length: MIXED_REQUESTS }, () => mixedRequest(g, fixture, all));
    const started = Date.now();
    const outcomes = await sendAll(stack.baseUrl, requests);
    const statuses = histogram(outcomes);
    console.log(`mixed phase: ${outcomes.length} requests in ${((Date.now() - started) / 1000).toFixed(1)} s, statuses ${JSON.stringify(statuses)}`);
    const failures = describeFailures(outcomes, 'mixed');
    if (failures.length) console.log(`${failures.join('\n')}\n--- gateway log ---\n${stack.logs.filter((line) => /ERROR|Error/.test(line)).slice(-30).join('\n')}`);
    expect(failures).toEqual([]);
    expect(Object.keys(statuses).filter((status) => Number(status) >= 500)).toEqual([]);
    expect(deadServices()).toEqual([]);
    expect((await fetch(`${stack.baseUrl}/v1/health`)).status).toBe(200);
  }, 600_000);
});

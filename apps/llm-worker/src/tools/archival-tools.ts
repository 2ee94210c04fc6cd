import { Injectable } from '@nestjs/common';
import { newId, type ToolCall } from '@lrs/contracts';
import { PassageStore, toSearchResult } from '@lrs/archival-memory';
import { ModelCallError } from '@lrs/llm-client';
import { storableText } from '@lrs/read-model';
import { ArchivalMemory } from '../archival/archival-memory';
import type { ToolOutcome } from '../step-messages';
import type { ToolContext } from './tool-context';
import { failure } from './tool-failure';

/** Longest passage a tool may store: embedding models take about 8,000 tokens. */
export const MAX_PASSAGE_CHARS = 32_000;
const DEFAULT_TOP_K = 10;
const MAX_TOP_K = 100;

/**
 * archival_memory_insert and archival_memory_search, with Letta's names and arguments. An insert
 * is embedded at once and written with the step's rows (exactly once with the step, like memory
 * edits); a search embeds its query with each archive's model and ranks by similarity. Bad
 * arguments and a model that cannot embed are error results the model reads, never a failed step.
 */
@Injectable()
export class ArchivalTools {
  constructor(
    private readonly archival: ArchivalMemory,
    private readonly passages: PassageStore,
  ) {}

  async insert(call: ToolCall, context: ToolContext, args: Record<string, unknown>): Promise<ToolOutcome> {
    if (typeof args.content !== 'string' || args.content.trim() === '') return failure(call, 'Error: archival_memory_insert needs a non-empty string content');
    if (args.content.length > MAX_PASSAGE_CHARS) return failure(call, `Error: content is ${args.content.length} characters; archival memory takes at most ${MAX_PASSAGE_CHARS} per passage: split it`);
    const tags = tagsOf(args.tags);
    if (tags === null) return failure(call, 'Error: tags must be a list of strings');
    const text = storableText(args.content);
    const handle = await this.archival.ownArchiveModel(context.agent);
    const embedded = await this.archival.embed(handle, [text]);
    if (embedded instanceof ModelCallError) return failure(call, `Error: the passage could not be embedded (${embedded.message}); nothing was stored`);
    const id = newId('passage');
    context.archivalInserts.push({ id, text, tags, createdAt: new Date().toISOString(), toolCallId: call.tool_call_id, embedding: embedded[0] });
    return { call, status: 'success', output: `Stored in archival memory as ${id}.` };
  }

  async search(call: ToolCall, context: ToolContext, args: Record<string, unknown>): Promise<ToolOutcome> {
    if (typeof args.query !== 'string' || args.query.trim() === '') return failure(call, 'Error: archival_memory_search needs a non-empty string query');
    const tags = tagsOf(args.tags);
    if (tags === null) return failure(call, 'Error: tags must be a list of strings');
    const mode = args.tag_match_mode ?? 'any';
    if (mode !== 'any' && mode !== 'all') return failure(call, "Error: tag_match_mode must be 'any' or 'all'");
    const topK = args.top_k === undefined || args.top_k === null ? DEFAULT_TOP_K : Number(args.top_k);
    if (!Number.isInteger(topK) || topK < 1) return failure(call, 'Error: top_k must be a positive integer');
    const dates: Record<'start_datetime' | 'end_datetime', string | null> = { start_datetime: null, end_datetime: null };
    for (const name of ['start_datetime', 'end_datetime'] as const) {
      const value = args[name];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) return failure(call, `Error: ${name} must be an ISO 8601 date or time, like 2025-01-31`);
      dates[name] = new Date(value).toISOString();
    }
    const archives = await this.passages.archivesOf(context.agent.organizationId, context.agentId);
    const found = await this.archival.search(archives, storableText(args.query), { tags: tags.length ? tags : null, tagMatchMode: mode, start: dates.start_datetime, end: dates.end_datetime }, Math.min(topK, MAX_TOP_K));
    if (found instanceof ModelCallError) return failure(call, `Error: the query could not be embedded (${found.message})`);
    if (found.length === 0) return { call, status: 'success', output: 'No results found.' };
    const rows = await this.passages.byIds(context.agent.organizationId, found.map((hit) => hit.id));
    return { call, status: 'success', output: JSON.stringify(rows.map((row) => { const { timestamp, content, tags: rowTags } = toSearchResult(row); return { timestamp, content, tags: rowTags }; })) };
  }
}

/** Tags as Letta's tools take them: a list of strings (a comma-separated string is accepted too); null when neither. */
function tagsOf(value: unknown): string[] | null {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [...new Set(value.split(',').map((tag) => storableText(tag.trim())).filter(Boolean))];
  if (Array.isArray(value) && value.every((tag) => typeof tag === 'string')) return [...new Set(value.map((tag) => storableText(tag)))];
  return null;
}

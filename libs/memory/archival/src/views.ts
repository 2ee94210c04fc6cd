import { modelNameFromHandle } from '@lrs/contracts';
import type { ArchiveRow, PassageRow } from './passage-store';

/** Letta's EmbeddingConfig for a model handle (`openai/text-embedding-3-small`) and its dimensions. */
export function embeddingConfigOf(handle: string, dim: number | null) {
  return {
    embedding_endpoint_type: 'openai' as const,
    embedding_endpoint: null,
    embedding_model: modelNameFromHandle(handle),
    embedding_dim: dim ?? 0,
    embedding_chunk_size: 300,
    handle,
    batch_size: 32,
  };
}

/** A passage on the wire. Embeddings stay on the server (`embedding: null`): 6 KiB each, of use to no client. */
export function toPassageView(row: PassageRow) {
  return {
    id: row.id,
    text: row.text,
    embedding: null,
    embedding_config: embeddingConfigOf(row.embedding_model, row.embedding_dim),
    archive_id: row.archive_id,
    file_id: null,
    file_name: null,
    source_id: null,
    metadata: row.metadata ?? {},
    tags: row.tags,
    is_deleted: false,
    created_by_id: null,
    last_updated_by_id: null,
    organization_id: row.organization_id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export function toArchiveView(row: ArchiveRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    embedding_config: embeddingConfigOf(row.embedding_model, row.embedding_dim),
    vector_db_provider: 'native' as const,
    metadata: row.metadata ?? {},
    organization_id: row.organization_id,
    created_by_id: null,
    last_updated_by_id: null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** An agent's archival search result, as `/archival-memory/search` and the search tool answer. */
export function toSearchResult(row: PassageRow) {
  return { id: row.id, content: row.text, timestamp: row.created_at.toISOString(), tags: row.tags };
}

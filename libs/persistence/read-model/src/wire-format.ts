import { filterMessageTypes, isoUtc } from '@lrs/domain-run';
import type { RunEvent, RunRequestConfig, RunStatus, RunView, StopReason } from '@lrs/contracts';

export { filterMessageTypes, isoUtc };

export interface RunRow {
  id: string;
  organization_id: string;
  agent_id: string;
  conversation_id: string | null;
  status: RunStatus;
  stop_reason: StopReason | null;
  background: boolean;
  metadata: Record<string, unknown>;
  request_config: RunRequestConfig;
  callback_url: string | null;
  callback_sent_at: Date | null;
  callback_status_code: number | null;
  callback_error: string | null;
  created_at: Date;
  completed_at: Date | null;
  ttft_ns: string | null;
  total_duration_ns: string | null;
  override_model: string | null;
  client_tools: unknown[] | null;
  resolve_approvals_only: boolean;
  approval_timeout_seconds: number | null;
  max_steps: number;
  version: number;
  /** Stream position of the last event applied (absent on a row built from RunCreated alone). */
  last_stream_seq?: string | number;
  started_at?: Date | null;
}

export function toRunView(row: RunRow): RunView {
  return {
    id: row.id,
    status: row.status,
    created_at: isoUtc(row.created_at) as string,
    completed_at: isoUtc(row.completed_at),
    agent_id: row.agent_id,
    conversation_id: row.conversation_id,
    base_template_id: null,
    background: row.background,
    metadata: row.metadata,
    request_config: row.request_config,
    stop_reason: row.stop_reason,
    callback_url: row.callback_url,
    callback_sent_at: isoUtc(row.callback_sent_at),
    callback_status_code: row.callback_status_code,
    callback_error: row.callback_error,
    ttft_ns: row.ttft_ns === null ? null : Number(row.ttft_ns),
    total_duration_ns: row.total_duration_ns === null ? null : Number(row.total_duration_ns),
  };
}

/** The Run as it reads right after creation, straight from its RunCreated event. */
export function runViewFromCreated(event: RunEvent<'RunCreated'>): RunView {
  const { data } = event;
  return toRunView({
    id: event.runId,
    organization_id: event.organizationId,
    agent_id: event.agentId,
    conversation_id: data.conversationId,
    status: 'created',
    stop_reason: null,
    background: data.background,
    metadata: data.metadata,
    request_config: data.requestConfig,
    callback_url: data.callbackUrl,
    callback_sent_at: null,
    callback_status_code: null,
    callback_error: null,
    created_at: new Date(data.createdAt),
    completed_at: null,
    ttft_ns: null,
    total_duration_ns: null,
    override_model: data.overrideModel,
    client_tools: data.clientTools,
    resolve_approvals_only: data.resolveApprovalsOnly ?? false,
    approval_timeout_seconds: data.approvalTimeoutSeconds ?? null,
    max_steps: data.maxSteps,
    version: event.seq,
  });
}

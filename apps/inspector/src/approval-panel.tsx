import { useState } from 'preact/hooks';
import { api, serverSentEvents } from './api';
import { Collapsible } from './components';
import type { Message, Run } from './types';

interface PendingCall {
  name: string;
  arguments: string;
  tool_call_id: string;
}

/** The calls a paused run waits on: those of its last message, when that is an approval request. */
function pendingCalls(messages: Message[]): PendingCall[] {
  const last = messages.at(-1);
  if (!last || last.message_type !== 'approval_request_message') return [];
  return last.tool_calls?.length ? last.tool_calls : [last.tool_call];
}

/**
 * Sends the decision as a new message, as any client would; the answer is the run that resumes
 * the agent. A conversation's route only streams: the stream's first chunk names the new run, and
 * leaving the stream then does not stop it.
 */
async function answer(run: Run, call: PendingCall, approve: boolean, reason: string): Promise<string> {
  const messages = [{ type: 'approval', approvals: [{ type: 'approval', tool_call_id: call.tool_call_id, approve, reason: approve ? null : reason || null }] }];
  if (!run.conversation_id) {
    const created = await api<{ id: string }>(`/v1/agents/${run.agent_id}/messages/async`, { body: { messages } });
    return created.id;
  }
  const controller = new AbortController();
  try {
    for await (const { data } of serverSentEvents(`/v1/conversations/${run.conversation_id}/messages`, { messages, background: true }, controller.signal)) {
      const chunk = JSON.parse(data) as { run_id?: string };
      if (chunk.run_id) return chunk.run_id;
    }
  } finally {
    controller.abort();
  }
  throw new Error('the server did not name the resumed run');
}

export function ApprovalPanel({ run, messages }: { run: Run; messages: Message[] }) {
  const calls = pendingCalls(messages);
  if (calls.length === 0) return null;
  return (
    <section class="panel approval" aria-labelledby="approval-title">
      <header class="panel-header">
        <h2 id="approval-title">Waiting for approval</h2>
      </header>
      <p>The run paused before these tool calls. Approving runs the tool; denying sends your reason to the model instead.</p>
      {calls.map((call) => (
        <ApprovalForm key={call.tool_call_id} run={run} call={call} />
      ))}
    </section>
  );
}

function ApprovalForm({ run, call }: { run: Run; call: PendingCall }) {
  const [reason, setReason] = useState('');
  const [state, setState] = useState<{ busy: boolean; error: string | null; resumed: string | null }>({ busy: false, error: null, resumed: null });
  const decide = async (approve: boolean) => {
    setState({ busy: true, error: null, resumed: null });
    try {
      const resumed = await answer(run, call, approve, reason);
      setState({ busy: false, error: null, resumed });
    } catch (error) {
      setState({ busy: false, error: (error as Error).message, resumed: null });
    }
  };
  const reasonId = `reason-${call.tool_call_id}`;
  return (
    <form class="approval-form" onSubmit={(event) => event.preventDefault()} aria-label={`Approve or deny ${call.name}`}>
      <p>
        <code>{call.name}</code> <span class="muted mono small">{call.tool_call_id}</span>
      </p>
      <Collapsible summary="arguments" text={call.arguments} open />
      <label for={reasonId}>Reason (sent to the model when you deny)</label>
      <input id={reasonId} type="text" value={reason} onInput={(event) => setReason(event.currentTarget.value)} disabled={state.busy || state.resumed !== null} />
      <div class="actions">
        <button type="button" class="primary" onClick={() => decide(true)} disabled={state.busy || state.resumed !== null}>
          Approve
        </button>
        <button type="button" class="danger" onClick={() => decide(false)} disabled={state.busy || state.resumed !== null}>
          Deny
        </button>
      </div>
      {state.error && (
        <p class="state error" role="alert">
          {state.error}
        </p>
      )}
      {state.resumed && (
        <p class="state ok" role="status">
          Sent. The agent goes on in run{' '}
          <a href={`#/runs/${state.resumed}`} class="mono" data-testid="resumed-run">
            {state.resumed}
          </a>
          .
        </p>
      )}
    </form>
  );
}

import { Empty, ErrorState, Fact, Loading, Section } from './components';
import { formatTime } from './format';
import { useApi } from './hooks';
import { Transcript } from './transcript';
import { AgentSchedules } from './schedules';
import type { Agent, Message } from './types';

const HISTORY = 30;

export function AgentPage({ agentId }: { agentId: string }) {
  const agent = useApi<Agent>(`/v1/agents/${agentId}`, { refreshMs: 5_000 });
  const history = useApi<Message[]>(`/v1/agents/${agentId}/messages?limit=${HISTORY}&order=desc`, { refreshMs: 5_000 });
  if (agent.loading && !agent.data) return <Loading what="the agent" />;
  if (agent.error && !agent.data) return <ErrorState error={agent.error} what={`agent ${agentId}`} retry={agent.reload} />;
  if (!agent.data) return null;
  const { data } = agent;
  return (
    <>
      <nav class="breadcrumbs" aria-label="Breadcrumbs">
        <a href="#/runs">Runs</a> <span aria-hidden="true">/</span> <span>Agent</span>
      </nav>
      <div class="page-title">
        <h1>{data.name}</h1>
        <div class="actions">
          <a class="button" href={`#/runs?agent_id=${data.id}`}>
            Runs of this agent
          </a>
        </div>
      </div>
      <dl class="facts">
        <Fact label="Id">
          <span class="mono">{data.id}</span>
        </Fact>
        <Fact label="Model">{data.model}</Fact>
        <Fact label="Created">{formatTime(data.created_at)}</Fact>
        <Fact label="Tools">{data.tools.map((tool) => tool.name).join(', ') || '—'}</Fact>
      </dl>
      <div class="run-grid">
        <Section title="Memory blocks" id="blocks">
          {data.blocks.length === 0 ? (
            <Empty>No memory blocks.</Empty>
          ) : (
            <ul class="blocks">
              {data.blocks.map((block) => (
                <li key={block.id} class="block" data-block={block.label}>
                  <div class="message-meta">
                    <strong>{block.label}</strong>
                    <span class="muted small">
                      {block.value.length} / {block.limit} characters{block.read_only ? ', read-only' : ''}
                    </span>
                  </div>
                  {block.description && <p class="muted small">{block.description}</p>}
                  <pre class="code">{block.value || ' '}</pre>
                </li>
              ))}
            </ul>
          )}
        </Section>
        <Section title="Scheduled messages" id="schedules">
          <AgentSchedules agentId={data.id} />
        </Section>
        <Section title={`Recent history (last ${HISTORY})`} id="history">
          {history.data ? <Transcript messages={[...history.data].reverse()} /> : history.error ? <ErrorState error={history.error} what="the history" retry={history.reload} /> : <Loading what="the history" />}
        </Section>
      </div>
    </>
  );
}

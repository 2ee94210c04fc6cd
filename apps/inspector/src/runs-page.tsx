import { useState } from 'preact/hooks';
import { query } from './api';
import { CallbackOutcome, Empty, ErrorState, Loading, StatusBadge } from './components';
import { elapsedMs, formatCount, formatDuration, formatTime, isoToLocalInput, localInputToIso, shortId } from './format';
import { useApi } from './hooks';
import { isActive, type Agent, type ListedRun } from './types';

const FILTERS = ['agent_id', 'conversation_id', 'status', 'stop_reason', 'created_after', 'created_before'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

interface OpenApi {
  components: { schemas: { Run: { properties: { status: { enum: string[] }; stop_reason: { enum: string[] } } } } };
}

/** The run statuses and stop reasons, as the API's own description lists them. */
function useRunEnums(): { statuses: string[]; stopReasons: string[] } {
  const { data } = useApi<OpenApi>('/openapi.json');
  const run = data?.components.schemas.Run.properties;
  return { statuses: run?.status.enum ?? [], stopReasons: run?.stop_reason.enum ?? [] };
}

/** A filter that picks one of a fixed list of values, or any. */
function ChoiceFilter(props: { label: string; anyLabel: string; value: string | undefined; choices: string[]; onChange: (value: string) => void }) {
  return (
    <label>
      {props.label}
      <select value={props.value ?? ''} onChange={(event) => props.onChange(event.currentTarget.value)}>
        <option value="">{props.anyLabel}</option>
        {props.choices.map((choice) => (
          <option key={choice} value={choice}>
            {choice}
          </option>
        ))}
      </select>
    </label>
  );
}

function navigate(filters: Filters): void {
  window.location.hash = `#/runs${query(filters)}`;
}

export function RunsPage({ params }: { params: URLSearchParams }) {
  const filters: Filters = Object.fromEntries(FILTERS.flatMap((name) => (params.get(name) ? [[name, params.get(name)!]] : [])));
  const [limit, setLimit] = useState(50);
  const path = `/v1/runs${query({
    agent_id: filters.agent_id,
    conversation_id: filters.conversation_id,
    statuses: filters.status,
    stop_reason: filters.stop_reason,
    created_after: filters.created_after,
    created_before: filters.created_before,
    include_usage: true,
    limit,
    order: 'desc',
  })}`;
  const runs = useApi<ListedRun[]>(path, { refreshMs: 2_000 });
  const agents = useApi<Agent[]>('/v1/agents?limit=200');
  const agentNames = new Map((agents.data ?? []).map((agent) => [agent.id, agent.name]));
  const filtered = Object.keys(filters).length > 0;

  return (
    <>
      <div class="page-title">
        <h1>Runs</h1>
        <p class="muted live-note" aria-live="off">
          <span class="live-dot" aria-hidden="true" /> Updating live, newest first
        </p>
      </div>
      <RunFilters filters={filters} agents={agents.data ?? []} />
      {runs.error && runs.data && <ErrorState error={runs.error} what="the latest runs" retry={runs.reload} />}
      {runs.loading && !runs.data ? (
        <Loading what="runs" />
      ) : runs.error && !runs.data ? (
        <ErrorState error={runs.error} what="runs" retry={runs.reload} />
      ) : runs.data && runs.data.length === 0 ? (
        <Empty>{filtered ? 'No runs match these filters.' : 'No runs yet. Send a message to an agent and its run shows up here.'}</Empty>
      ) : (
        runs.data && (
          <>
            <RunsTable runs={runs.data} agentNames={agentNames} />
            {runs.data.length >= limit && (
              <p class="more">
                <button type="button" onClick={() => setLimit(limit + 50)}>
                  Show older runs
                </button>
              </p>
            )}
          </>
        )
      )}
    </>
  );
}

function RunFilters({ filters, agents }: { filters: Filters; agents: Agent[] }) {
  const { statuses, stopReasons } = useRunEnums();
  const set = (name: keyof Filters, value: string | null) => navigate({ ...filters, [name]: value || undefined });
  return (
    <form class="filters" aria-label="Filter runs" onSubmit={(event) => event.preventDefault()}>
      <label>
        Agent
        <select value={filters.agent_id ?? ''} onChange={(event) => set('agent_id', event.currentTarget.value)}>
          <option value="">Any agent</option>
          {filters.agent_id && !agents.some((agent) => agent.id === filters.agent_id) && <option value={filters.agent_id}>{filters.agent_id}</option>}
          {agents.map((agent) => (
            <option key={agent.id} value={agent.id}>
              {agent.name} ({shortId(agent.id)})
            </option>
          ))}
        </select>
      </label>
      <label>
        Conversation
        <input
          type="search"
          placeholder="conv-…"
          value={filters.conversation_id ?? ''}
          onChange={(event) => set('conversation_id', event.currentTarget.value.trim())}
        />
      </label>
      <ChoiceFilter label="Status" anyLabel="Any status" value={filters.status} choices={statuses} onChange={(value) => set('status', value)} />
      <ChoiceFilter label="Stop reason" anyLabel="Any stop reason" value={filters.stop_reason} choices={stopReasons} onChange={(value) => set('stop_reason', value)} />
      <label>
        Created after
        <input type="datetime-local" value={isoToLocalInput(filters.created_after ?? null)} onChange={(event) => set('created_after', localInputToIso(event.currentTarget.value))} />
      </label>
      <label>
        Created before
        <input type="datetime-local" value={isoToLocalInput(filters.created_before ?? null)} onChange={(event) => set('created_before', localInputToIso(event.currentTarget.value))} />
      </label>
      {Object.keys(filters).length > 0 && (
        <button type="button" class="link-button" onClick={() => navigate({})}>
          Clear filters
        </button>
      )}
    </form>
  );
}

function RunsTable({ runs, agentNames }: { runs: ListedRun[]; agentNames: Map<string, string> }) {
  return (
    <div class="table-wrap">
      <table class="runs">
        <caption class="visually-hidden">Runs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Agent</th>
            <th scope="col">Created</th>
            <th scope="col" class="num">
              Duration
            </th>
            <th scope="col" class="num">
              Steps
            </th>
            <th scope="col" class="num">
              Tokens
            </th>
            <th scope="col">Callback</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id} data-run-id={run.id} data-status={run.status}>
              <td data-label="Run">
                <a href={`#/runs/${run.id}`} title={run.id} class="mono">
                  {shortId(run.id)}
                </a>
              </td>
              <td data-label="Status">
                <StatusBadge status={run.status} />
                {run.stop_reason && run.stop_reason !== 'end_turn' && <span class="stop-reason">{run.stop_reason}</span>}
              </td>
              <td data-label="Agent">
                <a href={`#/agents/${run.agent_id}`} title={run.agent_id}>
                  {agentNames.get(run.agent_id) ?? shortId(run.agent_id)}
                </a>
                {run.conversation_id && <span class="muted mono small"> {shortId(run.conversation_id)}</span>}
              </td>
              <td data-label="Created">
                <time dateTime={run.created_at}>{formatTime(run.created_at)}</time>
              </td>
              <td data-label="Duration" class="num">
                {formatDuration(isActive(run) ? elapsedMs(run.created_at, null) : run.completed_at ? elapsedMs(run.created_at, run.completed_at) : null)}
              </td>
              <td data-label="Steps" class="num">
                {formatCount(run.usage?.step_count)}
              </td>
              <td data-label="Tokens" class="num">
                {formatCount(run.usage?.total_tokens)}
              </td>
              <td data-label="Callback">
                <CallbackOutcome run={run} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiKey, onUnauthorized, setApiKey } from './api';
import { AgentPage } from './agent-page';
import { useRoute } from './hooks';
import { RunPage } from './run-page';
import { RunsPage } from './runs-page';
import './styles.css';

function KeyPrompt({ onSaved, rejected }: { onSaved: () => void; rejected: boolean }) {
  const [value, setValue] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <form
      class="panel key-prompt"
      aria-labelledby="key-title"
      onSubmit={(event) => {
        event.preventDefault();
        if (!value.trim()) return;
        setApiKey(value.trim());
        onSaved();
      }}
    >
      <h2 id="key-title">API key needed</h2>
      <p>
        {rejected ? 'The server refused the key this tab had. ' : 'This server asks for an API key. '}
        Enter one to inspect its runs; it is kept for this tab only and sent to this server alone.
      </p>
      <label for="api-key">API key</label>
      <div class="inline">
        <input id="api-key" ref={input} type="password" autoComplete="off" value={value} onInput={(event) => setValue(event.currentTarget.value)} required />
        <button type="submit" class="primary">
          Use this key
        </button>
      </div>
    </form>
  );
}

function App() {
  const { parts, params } = useRoute();
  const [needKey, setNeedKey] = useState(false);
  const [generation, setGeneration] = useState(0);
  useEffect(() => onUnauthorized(() => setNeedKey(true)), []);
  useEffect(() => {
    const main = document.getElementById('main');
    if (main && document.activeElement === document.body) main.focus({ preventScroll: true });
  }, [parts.join('/')]);

  let page;
  if (parts[0] === 'runs' && parts[1]) page = <RunPage key={`${parts[1]}:${generation}`} runId={parts[1]} />;
  else if (parts[0] === 'agents' && parts[1]) page = <AgentPage key={`${parts[1]}:${generation}`} agentId={parts[1]} />;
  else page = <RunsPage key={generation} params={params} />;

  const hasKey = apiKey() !== null;
  return (
    <>
      <a class="skip-link" href="#main" onClick={(event) => (event.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/runs">
          Run inspector
        </a>
        <nav aria-label="Main">
          <a href="#/runs" aria-current={parts[0] !== 'agents' && !parts[1] ? 'page' : undefined}>
            Runs
          </a>
        </nav>
        <div class="spacer" />
        {hasKey ? (
          <button
            type="button"
            class="link-button"
            onClick={() => {
              setApiKey(null);
              setGeneration((value) => value + 1);
            }}
          >
            Forget API key
          </button>
        ) : (
          <button type="button" class="link-button" onClick={() => setNeedKey(true)}>
            Enter API key
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {needKey && (
          <KeyPrompt
            rejected={hasKey}
            onSaved={() => {
              setNeedKey(false);
              setGeneration((value) => value + 1);
            }}
          />
        )}
        {page}
      </main>
    </>
  );
}

const container = document.getElementById('app')!;
// The static "Loading…" placeholder is for the moment before this script runs; the app replaces it.
container.textContent = '';
render(<App />, container);

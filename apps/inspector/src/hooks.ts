import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from './api';

export interface Loaded<T> {
  data: T | null;
  error: Error | null;
  loading: boolean;
  reload: () => void;
}

/**
 * GETs `path` (again whenever it changes), and every `refreshMs` while `live` holds. A refresh
 * keeps the data it has on screen; an error is shown beside it, and the next refresh retries.
 */
export function useApi<T>(path: string | null, options: { refreshMs?: number; live?: boolean } = {}): Loaded<T> {
  const [state, setState] = useState<{ path: string | null; data: T | null; error: Error | null; loading: boolean }>({ path, data: null, error: null, loading: path !== null });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((value) => value + 1), []);
  const current = state.path === path ? state : { path, data: null, error: null, loading: path !== null };

  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    setState((previous) => (previous.path === path ? { ...previous, loading: previous.data === null } : { path, data: null, error: null, loading: true }));
    api<T>(path, { signal: controller.signal }).then(
      (data) => setState({ path, data, error: null, loading: false }),
      (error: Error) => {
        if (!controller.signal.aborted) setState((previous) => ({ ...(previous.path === path ? previous : { data: null }), path, error, loading: false }));
      },
    );
    return () => controller.abort();
  }, [path, tick]);

  const live = options.live ?? true;
  useEffect(() => {
    if (!options.refreshMs || !live || path === null) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, options.refreshMs);
    return () => window.clearInterval(timer);
  }, [options.refreshMs, live, path, reload]);

  return { data: current.data, error: current.error, loading: current.loading, reload };
}

/** The hash route: `#/runs?status=failed` gives ['runs'] and its query. */
export function useRoute(): { parts: string[]; params: URLSearchParams } {
  const read = () => {
    const hash = window.location.hash.replace(/^#\/?/, '');
    const [path, search = ''] = hash.split('?');
    return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search) };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const changed = () => setRoute(read());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

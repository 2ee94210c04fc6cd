import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  function: string;
  location: string;
  self_ms: number;
  /** Share of the process's busy (non-idle) samples. */
  self_pct: number;
}

export interface ProfileSummary {
  service: string;
  total_ms: number;
  busy_ms: number;
  top_functions: HotSpot[];
  /** Self time grouped by npm package, app/lib code, node internals, GC. */
  by_area: { area: string; self_ms: number; self_pct: number }[];
}

/** Reads every .cpuprofile under `<dir>/<service>/` and summarizes self time per function and area. */
export function summarizeProfiles(dir: string, services: readonly string[], top = 15): ProfileSummary[] {
  const summaries: ProfileSummary[] = [];
  for (const service of services) {
    const serviceDir = join(dir, service);
    if (!existsSync(serviceDir)) continue;
    const files = readdirSync(serviceDir).filter((file) => file.endsWith('.cpuprofile'));
    if (files.length === 0) continue;
    const selfByNode = new Map<string, number>();
    let totalMicros = 0;
    for (const file of files) {
      const profile = JSON.parse(readFileSync(join(serviceDir, file), 'utf8')) as CpuProfile;
      const keyOf = new Map(profile.nodes.map((node) => [node.id, frameKey(node.callFrame)]));
      // Sample i lasts until sample i + 1 (Chrome DevTools attributes time the same way).
      for (let index = 0; index < profile.samples.length; index++) {
        const micros = profile.timeDeltas[index + 1] ?? 0;
        const key = keyOf.get(profile.samples[index]) ?? '(unknown)';
        selfByNode.set(key, (selfByNode.get(key) ?? 0) + micros);
        totalMicros += micros;
      }
    }
    const idleMicros = [...selfByNode].filter(([key]) => key.startsWith('(idle)')).reduce((sum, [, micros]) => sum + micros, 0);
    const busyMicros = Math.max(1, totalMicros - idleMicros);
    const byArea = new Map<string, number>();
    for (const [key, micros] of selfByNode) {
      if (key.startsWith('(idle)')) continue;
      const area = areaOf(key.slice(key.indexOf('\t') + 1), key.slice(0, key.indexOf('\t')));
      byArea.set(area, (byArea.get(area) ?? 0) + micros);
    }
    summaries.push({
      service,
      total_ms: Math.round(totalMicros / 1000),
      busy_ms: Math.round(busyMicros / 1000),
      top_functions: [...selfByNode]
        .filter(([key]) => !key.startsWith('(idle)'))
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([key, micros]) => {
          const [fn, location] = key.split('\t');
          return { function: fn, location, self_ms: Math.round(micros / 1000), self_pct: round1((micros / busyMicros) * 100) };
        }),
      by_area: [...byArea]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([area, micros]) => ({ area, self_ms: Math.round(micros / 1000), self_pct: round1((micros / busyMicros) * 100) })),
    });
  }
  return summaries;
}

function frameKey(frame: CpuProfileNode['callFrame']): string {
  const fn = frame.functionName || '(anonymous)';
  const location = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
  return `${fn}\t${location}`;
}

/** Paths relative to the package or the build output, never machine-specific. */
function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) return path.slice(modules + 1);
  const dist = path.lastIndexOf('/dist/');
  if (dist !== -1) return path.slice(dist + 1);
  return path;
}

function areaOf(location: string, fn: string): string {
  if (!location) return fn.startsWith('(') ? fn : '(native)';
  if (location.startsWith('node:')) return 'node internals';
  const modules = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(location);
  if (modules) return modules[1];
  const own = /^dist\/(.+?)\/src\//.exec(location);
  if (own) return own[1];
  return location.split('/')[0] || '(other)';
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Clock ticks per second of /proc CPU counters (USER_HZ), 100 on practically every Linux. */
export const CLOCK_TICKS_PER_S = readClockTicks();

function readClockTicks(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

export interface SampleTarget {
  name: string;
  pid: number | undefined;
}

/** VmRSS in kB, or null when the process is gone. */
export function readRssKb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : 0;
  } catch {
    return null;
  }
}

/** utime + stime of a process in clock ticks, or null when it is gone. */
export function readCpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may contain spaces; fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** A process's ticks plus its children's (a gateway's workers are children of its primary). */
export function readTreeCpuTicks(pid: number): number | null {
  const own = readCpuTicks(pid);
  if (own === null) return null;
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // No children file on this kernel: the process alone.
  }
  return children.reduce((sum, child) => sum + (readCpuTicks(child) ?? 0), own);
}

/** Whole-machine CPU ticks (all cores) from /proc/stat. */
export function readMachineTicks(): { total: number; idle: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  // idle + iowait
  return { total, idle: (values[3] ?? 0) + (values[4] ?? 0) };
}

/**
 * Samples the resident memory of every target process on an interval and keeps each one's peak;
 * notices a process that disappeared (a crashed service).
 */
export class ProcessSampler {
  readonly peakRssKb = new Map<string, number>();
  readonly gone = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly targets: () => SampleTarget[],
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  sample(): void {
    for (const { name, pid } of this.targets()) {
      if (pid === undefined) continue;
      const rss = readRssKb(pid);
      if (rss === null) {
        this.gone.add(name);
        continue;
      }
      if (rss > (this.peakRssKb.get(name) ?? 0)) this.peakRssKb.set(name, rss);
    }
  }
}

/** CPU counters at one moment, to turn into per-process core usage over a phase. */
export interface CpuSnapshot {
  atMs: number;
  ticks: Record<string, number>;
  /** Processes counted as one group by pid (e.g. the Postgres backends of the bench database). */
  groups: Record<string, Map<number, number>>;
  machine: { total: number; idle: number };
  benchMicros: number;
}

export function cpuSnapshot(atMs: number, targets: SampleTarget[], groups: Record<string, number[]>): CpuSnapshot {
  const ticks: Record<string, number> = {};
  // Replicas of a service add up under its name.
  for (const { name, pid } of targets) if (pid !== undefined) ticks[name] = (ticks[name] ?? 0) + (readTreeCpuTicks(pid) ?? 0);
  const groupTicks: Record<string, Map<number, number>> = {};
  for (const [name, pids] of Object.entries(groups)) {
    groupTicks[name] = new Map(pids.map((pid) => [pid, readCpuTicks(pid) ?? 0]));
  }
  const usage = process.cpuUsage();
  return { atMs, ticks, groups: groupTicks, machine: readMachineTicks(), benchMicros: usage.user + usage.system };
}

/**
 * Cores used by each process between two snapshots, plus the bench itself, `other` (everything
 * else busy on the machine: other Postgres work, other users' processes) and the machine's busy
 * share of all its cores.
 */
export function coresBetween(from: CpuSnapshot, to: CpuSnapshot): Record<string, number> {
  const seconds = (to.atMs - from.atMs) / 1000;
  if (seconds <= 0) return {};
  const cores: Record<string, number> = {};
  for (const [name, value] of Object.entries(to.ticks)) {
    cores[name] = (value - (from.ticks[name] ?? 0)) / CLOCK_TICKS_PER_S / seconds;
  }
  for (const [name, pids] of Object.entries(to.groups)) {
    let ticks = 0;
    // A process that appeared in between counts from zero; one that vanished is lost.
    for (const [pid, value] of pids) ticks += value - (from.groups[name]?.get(pid) ?? 0);
    cores[name] = ticks / CLOCK_TICKS_PER_S / seconds;
  }
  cores.bench = (to.benchMicros - from.benchMicros) / 1e6 / seconds;
  const total = to.machine.total - from.machine.total;
  const busy = total - (to.machine.idle - from.machine.idle);
  const machineCores = total > 0 ? (busy / total) * cpus().length : 0;
  const measured = Object.values(cores).reduce((sum, value) => sum + value, 0);
  cores.other = Math.max(0, machineCores - measured);
  // /proc/stat counts every core, so busy/total is a fraction of the whole machine.
  cores.machine_busy_fraction = total > 0 ? busy / total : 0;
  return cores;
}

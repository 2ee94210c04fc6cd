import { Cron } from 'croner';
import { derivedId } from '@lrs/contracts';

/** When a scheduled message fires: once at a Unix time in ms, or on a cron pattern (UTC). */
export type ScheduleSpec = { type: 'one-time'; scheduledAt: number } | { type: 'recurring'; cronExpression: string };

export interface ScheduleRules {
  /** Now, in Unix ms. */
  now: number;
  /** A one-time `scheduled_at` at most this far in the past fires at once; older is refused. */
  pastToleranceMs: number;
  /** Accept 6-field patterns (a leading seconds field): for tests only, off in production. */
  allowSeconds: boolean;
}

/** The latest `scheduled_at` accepted: 9999-12-31T23:59:59.999Z, so every time prints as ISO 8601. */
export const MAX_SCHEDULED_AT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const MAX_CRON_LENGTH = 200;

export type ParsedSchedule = { ok: true; spec: ScheduleSpec; firstFireAt: Date } | { ok: false; problem: string };

/**
 * Validates the `schedule` of a create request (the client's union of one-time and recurring) and
 * computes its first firing. Every refusal names the field and why, for a 422's detail.
 */
export function parseSchedule(raw: unknown, rules: ScheduleRules): ParsedSchedule {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return refuse('schedule must be an object');
  const schedule = raw as Record<string, unknown>;
  const type = schedule.type ?? 'one-time';
  if (type === 'one-time') {
    const at = schedule.scheduled_at;
    if (typeof at !== 'number' || !Number.isFinite(at)) return refuse('schedule.scheduled_at must be a Unix time in milliseconds (a number)');
    const scheduledAt = Math.floor(at);
    if (scheduledAt > MAX_SCHEDULED_AT) return refuse('schedule.scheduled_at is after the year 9999');
    if (scheduledAt < rules.now - rules.pastToleranceMs) {
      return refuse(`schedule.scheduled_at is in the past (${new Date(Math.max(scheduledAt, -8.64e15)).toISOString()}); a one-time schedule must be in the future`);
    }
    return { ok: true, spec: { type: 'one-time', scheduledAt }, firstFireAt: new Date(scheduledAt) };
  }
  if (type === 'recurring') {
    const expression = schedule.cron_expression;
    if (typeof expression !== 'string' || !expression.trim()) return refuse('schedule.cron_expression must be a cron expression (5 fields: minute hour day-of-month month day-of-week, UTC)');
    if (expression.length > MAX_CRON_LENGTH) return refuse(`schedule.cron_expression is longer than ${MAX_CRON_LENGTH} characters`);
    const cronExpression = expression.trim();
    let first: Date | null;
    try {
      first = nextCronTime(cronExpression, new Date(rules.now), rules.allowSeconds);
    } catch (error) {
      return refuse(`schedule.cron_expression does not parse: ${cronError(error)}`);
    }
    if (!first) return refuse(`schedule.cron_expression '${cronExpression}' never fires`);
    return { ok: true, spec: { type: 'recurring', cronExpression }, firstFireAt: first };
  }
  return refuse("schedule.type must be 'one-time' or 'recurring'");
}

function refuse(problem: string): ParsedSchedule {
  return { ok: false, problem };
}

function cronError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^CronPattern: /, '');
}

function cronOf(expression: string, allowSeconds: boolean): Cron {
  // Vixie semantics: day-of-month and day-of-week are ORed when both are restricted (croner's default).
  return new Cron(expression, { timezone: 'UTC', mode: allowSeconds ? '5-or-6-parts' : '5-part' });
}

/** The first time strictly after `after` the pattern matches (UTC), or null if it never does again. Throws on a bad pattern. */
export function nextCronTime(expression: string, after: Date, allowSeconds = false): Date | null {
  return cronOf(expression, allowSeconds).nextRun(after);
}

/** The latest time at or before `at` the pattern matches, or null. */
export function previousCronTime(expression: string, at: Date, allowSeconds = false): Date | null {
  // previousRuns looks strictly before its reference, at whole seconds: look from the next second, and step back if that overshoots.
  const cron = cronOf(expression, allowSeconds);
  const [candidate] = cron.previousRuns(1, new Date(at.getTime() + 1_000));
  if (candidate && candidate.getTime() <= at.getTime()) return candidate;
  return cron.previousRuns(1, at)[0] ?? null;
}

/** What a claimed, due schedule does now. */
export interface FiringPlan {
  /** The firing to make now (its run id derives from it), or null when every missed firing is too late. */
  fireFor: Date | null;
  /** The firing after this one, or null when the schedule is done (one-time). */
  next: Date | null;
  /** Due firings left out: too late, or older than the one made now. */
  skipped: number;
}

/**
 * Plans a due schedule's firing. `dueAt` is the firing the schedule waits on (it may be long past
 * after an outage). A firing later than `graceMs` is not made. A recurring schedule that missed
 * several firings makes one, for the latest missed time, and skips the older ones; it then waits
 * for its next time after now.
 */
export function planFiring(spec: ScheduleSpec, dueAt: Date, now: Date, graceMs: number, allowSeconds = false): FiringPlan {
  const tooLate = (at: Date) => now.getTime() - at.getTime() > graceMs;
  if (spec.type === 'one-time') {
    return tooLate(dueAt) ? { fireFor: null, next: null, skipped: 1 } : { fireFor: dueAt, next: null, skipped: 0 };
  }
  const latest = previousCronTime(spec.cronExpression, now, allowSeconds);
  const fireFor = latest && latest.getTime() > dueAt.getTime() ? latest : dueAt;
  const next = nextCronTime(spec.cronExpression, new Date(Math.max(fireFor.getTime(), now.getTime())), allowSeconds);
  const older = fireFor === dueAt ? 0 : countBetween(spec.cronExpression, dueAt, fireFor, allowSeconds);
  if (tooLate(fireFor)) return { fireFor: null, next, skipped: older + 1 };
  return { fireFor, next, skipped: older };
}

/** Firings in [from, to): counted up to 1,000 (a pattern every second missed for hours need not be walked). */
function countBetween(expression: string, from: Date, to: Date, allowSeconds: boolean): number {
  const cron = cronOf(expression, allowSeconds);
  let count = 1;
  let at: Date | null = from;
  while (count < 1_000) {
    at = cron.nextRun(at);
    if (!at || at.getTime() >= to.getTime()) break;
    count++;
  }
  return count;
}

/**
 * The run a firing makes. Derived from the schedule and the firing's time, so a firing attempted
 * twice (two replicas, a crash between the append and the commit) names one run and the second
 * append collides instead of making a second run.
 */
export function scheduleRunId(scheduleId: string, fireFor: Date): string {
  return derivedId('run', `schedule:${scheduleId}:${fireFor.getTime()}`);
}

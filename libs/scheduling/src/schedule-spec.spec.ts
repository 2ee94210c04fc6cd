import { nextCronTime, parseSchedule, planFiring, previousCronTime, scheduleRunId, type ScheduleSpec } from './schedule-spec';

const NOW = Date.parse('2026-03-04T10:20:30.000Z');
const rules = { now: NOW, pastToleranceMs: 60_000, allowSeconds: false };
const at = (iso: string) => new Date(iso);

describe('parseSchedule', () => {
  it('takes a one-time schedule in the future, with or without its type', () => {
    expect(parseSchedule({ type: 'one-time', scheduled_at: NOW + 5_000 }, rules)).toEqual({ ok: true, spec: { type: 'one-time', scheduledAt: NOW + 5_000 }, firstFireAt: new Date(NOW + 5_000) });
    expect(parseSchedule({ scheduled_at: NOW + 5_000.7 }, rules)).toMatchObject({ ok: true, spec: { scheduledAt: NOW + 5_000 } });
  });

  it('fires a one-time schedule a little in the past at once, and refuses one further back', () => {
    expect(parseSchedule({ scheduled_at: NOW - 59_000 }, rules)).toMatchObject({ ok: true });
    expect(parseSchedule({ scheduled_at: NOW - 61_000 }, rules)).toMatchObject({ ok: false, problem: expect.stringContaining('in the past') });
  });

  it.each([
    [{ scheduled_at: '1700000000000' }, 'scheduled_at must be a Unix time'],
    [{ scheduled_at: null }, 'scheduled_at must be a Unix time'],
    [{ scheduled_at: Number.NaN }, 'scheduled_at must be a Unix time'],
    [{ scheduled_at: 1e308 }, 'after the year 9999'],
    [{ scheduled_at: -1e308 }, 'in the past'],
    [{ type: 'weekly', scheduled_at: NOW + 1 }, "schedule.type must be 'one-time' or 'recurring'"],
    [{ type: 'recurring' }, 'cron_expression must be a cron expression'],
    [{ type: 'recurring', cron_expression: '   ' }, 'cron_expression must be a cron expression'],
    [{ type: 'recurring', cron_expression: '61 * * * *' }, 'does not parse'],
    [{ type: 'recurring', cron_expression: '* * * *' }, 'does not parse'],
    [{ type: 'recurring', cron_expression: '* * * * * *' }, 'does not parse'],
    [{ type: 'recurring', cron_expression: 'a b c d e' }, 'does not parse'],
    [{ type: 'recurring', cron_expression: '0 0 31 2 *' }, 'never fires'],
    [{ type: 'recurring', cron_expression: `${'1,'.repeat(150)}1 * * * *` }, 'longer than'],
    [null, 'schedule must be an object'],
    [[], 'schedule must be an object'],
    ['* * * * *', 'schedule must be an object'],
  ])('refuses %j', (schedule, problem) => {
    expect(parseSchedule(schedule, rules)).toEqual({ ok: false, problem: expect.stringContaining(problem) });
  });

  it('takes a 5-field cron pattern and computes its first firing in UTC', () => {
    expect(parseSchedule({ type: 'recurring', cron_expression: '*/15 9-17 * * 1-5' }, rules)).toEqual({
      ok: true,
      spec: { type: 'recurring', cronExpression: '*/15 9-17 * * 1-5' },
      firstFireAt: at('2026-03-04T10:30:00.000Z'),
    });
  });

  it('takes 6 fields (seconds) only when allowed', () => {
    expect(parseSchedule({ type: 'recurring', cron_expression: '*/5 * * * * *' }, { ...rules, allowSeconds: true })).toMatchObject({ ok: true, firstFireAt: at('2026-03-04T10:20:35.000Z') });
  });
});

describe('next and previous cron times (UTC)', () => {
  it.each([
    ['* * * * *', '2026-03-04T10:20:30Z', '2026-03-04T10:21:00.000Z'],
    ['* * * * *', '2026-03-04T10:21:00Z', '2026-03-04T10:22:00.000Z'],
    ['0 0 1 * *', '2026-12-15T00:00:00Z', '2027-01-01T00:00:00.000Z'],
    ['0 12 * * 0', '2026-03-04T10:20:30Z', '2026-03-08T12:00:00.000Z'],
    ['0 12 * * 7', '2026-03-04T10:20:30Z', '2026-03-08T12:00:00.000Z'],
    // Vixie: both day fields restricted means either matches.
    ['0 0 13 * 5', '2026-03-04T10:20:30Z', '2026-03-06T00:00:00.000Z'],
    ['0 0 29 2 *', '2026-03-04T10:20:30Z', '2028-02-29T00:00:00.000Z'],
  ])('%s after %s is %s', (expression, after, next) => {
    expect(nextCronTime(expression, at(after))?.toISOString()).toBe(next);
  });

  it('the previous time includes the reference itself', () => {
    expect(previousCronTime('* * * * *', at('2026-03-04T10:21:00Z'))?.toISOString()).toBe('2026-03-04T10:21:00.000Z');
    expect(previousCronTime('* * * * *', at('2026-03-04T10:21:59.999Z'))?.toISOString()).toBe('2026-03-04T10:21:00.000Z');
  });
});

describe('planFiring', () => {
  const hourly: ScheduleSpec = { type: 'recurring', cronExpression: '0 * * * *' };
  const DAY = 86_400_000;

  it('fires a one-time schedule on time and is done', () => {
    expect(planFiring({ type: 'one-time', scheduledAt: NOW }, new Date(NOW), new Date(NOW + 300), DAY)).toEqual({ fireFor: new Date(NOW), next: null, skipped: 0 });
  });

  it('fires a late one-time schedule within the grace, skips it past the grace', () => {
    expect(planFiring({ type: 'one-time', scheduledAt: NOW }, new Date(NOW), new Date(NOW + DAY), DAY).fireFor).toEqual(new Date(NOW));
    expect(planFiring({ type: 'one-time', scheduledAt: NOW }, new Date(NOW), new Date(NOW + DAY + 1), DAY)).toEqual({ fireFor: null, next: null, skipped: 1 });
  });

  it('fires a recurring schedule for its due time and moves to the next one', () => {
    expect(planFiring(hourly, at('2026-03-04T10:00:00Z'), at('2026-03-04T10:00:00.400Z'), DAY)).toEqual({ fireFor: at('2026-03-04T10:00:00Z'), next: at('2026-03-04T11:00:00Z'), skipped: 0 });
  });

  it('after hours down, fires once for the latest missed time and skips the older ones', () => {
    expect(planFiring(hourly, at('2026-03-04T02:00:00Z'), at('2026-03-04T10:20:30Z'), DAY)).toEqual({ fireFor: at('2026-03-04T10:00:00Z'), next: at('2026-03-04T11:00:00Z'), skipped: 8 });
  });

  it('skips every missed firing when even the latest is past the grace', () => {
    expect(planFiring(hourly, at('2026-03-04T02:00:00Z'), at('2026-03-04T10:20:30Z'), 60_000)).toEqual({ fireFor: null, next: at('2026-03-04T11:00:00Z'), skipped: 9 });
  });

  it('plans the same firing for the same due time, whoever plans it and when (the run id collides)', () => {
    const first = planFiring(hourly, at('2026-03-04T10:00:00Z'), at('2026-03-04T10:00:01Z'), DAY);
    const retried = planFiring(hourly, at('2026-03-04T10:00:00Z'), at('2026-03-04T10:40:00Z'), DAY);
    expect(scheduleRunId('schedule-1', first.fireFor!)).toBe(scheduleRunId('schedule-1', retried.fireFor!));
    expect(scheduleRunId('schedule-1', first.fireFor!)).not.toBe(scheduleRunId('schedule-1', first.next!));
    expect(scheduleRunId('schedule-1', first.fireFor!)).not.toBe(scheduleRunId('schedule-2', first.fireFor!));
    expect(scheduleRunId('schedule-1', first.fireFor!)).toMatch(/^run-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

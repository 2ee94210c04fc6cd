import type { RunEventType } from '../run-events';

/** Turns the data of an event written at version N into its shape at version N + 1. */
export type RunEventUpcaster = (data: Record<string, unknown>) => Record<string, unknown>;

/**
 * For each event type, the upcaster from each older version to the next (keyed by the version it
 * reads). A type without an entry for a version did not change at that step. When a payload
 * changes shape, RUN_EVENT_SCHEMA_VERSION goes up by one and the change gets its entry here, so
 * every event ever written still decodes (docs/events.md, "Versioning").
 */
export type RunEventUpcasters = Partial<Record<RunEventType, Partial<Record<number, RunEventUpcaster>>>>;

export const RUN_EVENT_UPCASTERS: RunEventUpcasters = {
  RunCreated: {
    // Version 2: approvalTimeoutSeconds is always present. Runs created before approval timeouts
    // existed never had one, which is what null says.
    1: (data) => ({ ...data, approvalTimeoutSeconds: data['approvalTimeoutSeconds'] ?? null }),
  },
};

/** `data` of an event of `type` written at `fromVersion`, carried up to `toVersion` one step at a time. */
export function upcastRunEventData(
  type: RunEventType,
  data: Record<string, unknown>,
  fromVersion: number,
  toVersion: number,
  upcasters: RunEventUpcasters = RUN_EVENT_UPCASTERS,
): Record<string, unknown> {
  let upcast = data;
  for (let version = fromVersion; version < toVersion; version++) {
    const step = upcasters[type]?.[version];
    if (step) upcast = step(upcast);
  }
  return upcast;
}

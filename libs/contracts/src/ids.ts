import { randomUUID } from 'node:crypto';

/** Letta id prefixes used by this server. */
export type IdPrefix = 'agent' | 'run' | 'message' | 'step' | 'block' | 'conv' | 'tool' | 'org' | 'user' | 'ping';

const UUID4 = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

export function newId(prefix: IdPrefix): string {
  return `${prefix}-${randomUUID()}`;
}

export function isLettaId(prefix: IdPrefix, value: unknown): value is string {
  return typeof value === 'string' && new RegExp(`^${prefix}-${UUID4}$`).test(value);
}

export function idPatternFor(prefix: IdPrefix): string {
  return `^${prefix}-${UUID4}$`;
}

/** Until authentication exists every row and event belongs to this organization (DESIGN invariant 6). */
export const DEFAULT_ORGANIZATION_ID = 'org-00000000-0000-4000-8000-000000000000';
export const DEFAULT_USER_ID = 'user-00000000-0000-4000-8000-000000000000';

import { createHash, randomUUID } from 'node:crypto';

/** Letta id prefixes used by this server. */
export type IdPrefix = 'agent' | 'run' | 'message' | 'step' | 'block' | 'conv' | 'tool' | 'org' | 'user' | 'ping' | 'archive' | 'passage' | 'schedule';

const UUID4 = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

export function newId(prefix: IdPrefix): string {
  return `${prefix}-${randomUUID()}`;
}

/**
 * A `<prefix>-<uuid4>` that is a pure function of `seed`: the same logical thing (a retried
 * request, a timer firing twice) gets the same id, so creating it twice is caught as a duplicate.
 */
export function derivedId(prefix: IdPrefix, seed: string): string {
  const hex = createHash('sha1').update(`${prefix}:${seed}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${prefix}-${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function isLettaId(prefix: IdPrefix, value: unknown): value is string {
  return typeof value === 'string' && new RegExp(`^${prefix}-${UUID4}$`).test(value);
}

export function idPatternFor(prefix: IdPrefix): string {
  return `^${prefix}-${UUID4}$`;
}

/** Until authentication exists every row and event belongs to this organization. */
export const DEFAULT_ORGANIZATION_ID = 'org-00000000-0000-4000-8000-000000000000';
export const DEFAULT_USER_ID = 'user-00000000-0000-4000-8000-000000000000';

/** A thread's lane (one run at a time): the conversation's id, or the agent's own id for its default thread. */
export function laneIdOf(agentId: string, conversationId: string | null | undefined): string {
  return conversationId ?? agentId;
}

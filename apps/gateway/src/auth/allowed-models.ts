import { UnprocessableEntityException } from '@nestjs/common';

/**
 * ALLOWED_MODELS: the model handles agents, conversations and `override_model` may name, so that
 * callers cannot spend the operator's provider key on any model they like. Empty allows any.
 */
export function requireAllowedModel(allowed: readonly string[], handle: string | null | undefined, field: string): void {
  if (!handle || allowed.length === 0 || allowed.includes(handle)) return;
  throw new UnprocessableEntityException({ detail: `Invalid request: ${field}: model '${handle}' is not allowed on this server (allowed: ${allowed.join(', ')})` });
}

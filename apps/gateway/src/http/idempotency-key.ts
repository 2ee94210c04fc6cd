import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** Printable ASCII, as Stripe and the IETF draft allow; a UUID fits many times over. */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * The request's `Idempotency-Key` header, or null. On the routes that create runs, a repeat with
 * the same key and body gets the same answer (the same run), and the same key with another body is
 * refused (422); keys are remembered for a day (README, "Idempotency").
 */
export const IdempotencyKey = createParamDecorator((_data: unknown, context: ExecutionContext): string | null => {
  const header = context.switchToHttp().getRequest<Request>().headers['idempotency-key'];
  if (header === undefined) return null;
  const value = Array.isArray(header) ? header[0] : header;
  if (Array.isArray(header) && header.length > 1) throw new BadRequestException({ detail: 'Idempotency-Key may be sent once' });
  if (!KEY_PATTERN.test(value)) throw new BadRequestException({ detail: 'Idempotency-Key must be 1 to 255 printable ASCII characters' });
  return value;
});

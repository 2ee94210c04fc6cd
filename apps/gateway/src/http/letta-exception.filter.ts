import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { BlockLabelTaken, BlockValueTooLong, FOREIGN_KEY_VIOLATION, TooManyBlocks, UnknownBlocks, UnknownCursor, sqlStateOf } from '@lrs/read-model';
import { exceedsMaxPayload } from '@lrs/jetstream';
import { Overloaded } from '../admission/admission-control';

/**
 * Every error leaves as Letta's `{"detail": "..."}` body with the right status. Unexpected
 * failures are logged and answered with a generic 500 that exposes no internals.
 */
@Catch()
export class LettaExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      // The official client retries 409s with the same body; a conflict here does not go away by itself.
      if (status === HttpStatus.CONFLICT) response.setHeader('x-should-retry', 'false');
      if (exception instanceof Overloaded) response.setHeader('retry-after', String(exception.retryAfterSeconds));
      // Letta bodies ({detail} or, for model failures, {error}) pass through; anything else is wrapped.
      const lettaShaped =
        typeof body === 'object' && body !== null && ('detail' in body || typeof (body as { error?: unknown }).error === 'object');
      response.status(status).json(lettaShaped ? body : { detail: describe(body) });
      return;
    }
    if (exception instanceof UnknownCursor) {
      response.status(HttpStatus.BAD_REQUEST).json({ detail: `INVALID_ARGUMENT: ${exception.message}` });
      return;
    }
    if (exception instanceof UnknownBlocks) {
      response.status(HttpStatus.NOT_FOUND).json({ detail: exception.message });
      return;
    }
    if (exception instanceof TooManyBlocks) {
      response.status(HttpStatus.UNPROCESSABLE_ENTITY).json({ detail: `Invalid request: block_id: ${exception.message}` });
      return;
    }
    if (exception instanceof BlockValueTooLong) {
      response.status(HttpStatus.UNPROCESSABLE_ENTITY).json({ detail: `Invalid request: ${exception.message}` });
      return;
    }
    if (exception instanceof BlockLabelTaken) {
      response.status(HttpStatus.CONFLICT).setHeader('x-should-retry', 'false').json({ detail: `CONFLICT: ${exception.message}` });
      return;
    }
    if (sqlStateOf(exception) === FOREIGN_KEY_VIOLATION) {
      // What the request refers to (an agent, a conversation) was deleted while it was being served.
      response.status(HttpStatus.CONFLICT).setHeader('x-should-retry', 'false').json({ detail: 'CONFLICT: something this request refers to was deleted meanwhile; nothing was changed' });
      return;
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`database unavailable: ${(exception as Error).message}`);
      response.status(HttpStatus.SERVICE_UNAVAILABLE).setHeader('retry-after', '2').json({ detail: 'The database is unavailable; nothing was changed. Retry shortly.' });
      return;
    }
    if (exceedsMaxPayload(exception)) {
      response.status(HttpStatus.PAYLOAD_TOO_LARGE).json({ detail: 'Request too large: what it asks for exceeds the largest message the event log takes (NATS max_payload)' });
      return;
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    response.status(HttpStatus.INTERNAL_SERVER_ERROR).json({ detail: 'An unknown error occurred' });
  }
}

/**
 * Postgres down, restarting, out of connections or too slow (a statement timeout): the request
 * may succeed in a moment, so it is a 503 with Retry-After, not a 500.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014', '08000', '08001', '08003', '08006']);
const UNAVAILABLE_MESSAGES = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i;

function isDatabaseUnavailable(exception: unknown): boolean {
  if (!(exception instanceof Error)) return false;
  const sqlState = sqlStateOf(exception);
  return (sqlState !== null && UNAVAILABLE_SQLSTATES.has(sqlState)) || UNAVAILABLE_MESSAGES.test(exception.message);
}

function describe(body: unknown): string {
  if (typeof body === 'string') return body;
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const message = (body as { message: unknown }).message;
    return Array.isArray(message) ? message.join('; ') : String(message);
  }
  return 'Request failed';
}

import { applyDecorators } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiResponse } from '@nestjs/swagger';

type Shape = string | { arrayOf: string } | 'stream';

/** Letta's operation id, summary and response shape for a route, plus the error shapes every route shares. */
export function LettaOperation(operationId: string, summary: string, shape: Shape): MethodDecorator {
  const schema =
    shape === 'stream'
      ? { $ref: '#/components/schemas/SseStream' }
      : typeof shape === 'string'
        ? { $ref: `#/components/schemas/${shape}` }
        : { type: 'array', items: { $ref: `#/components/schemas/${shape.arrayOf}` } };
  const error = { schema: { $ref: '#/components/schemas/Error' } };
  return applyDecorators(
    ApiOperation({ operationId, summary }),
    ...(shape === 'stream' ? [ApiProduces('text/event-stream')] : []),
    ApiOkResponse({ schema }),
    ApiResponse({ status: 400, description: 'Invalid argument', ...error }),
    ApiResponse({ status: 404, description: 'Not found', ...error }),
    ApiResponse({ status: 422, description: 'Validation error', ...error }),
  );
}

import { UnprocessableEntityException, type PipeTransform } from '@nestjs/common';
import { isLettaId } from '@lrs/contracts';

/** `conv-<uuid4>`, or `default` for the agent's own thread (with agent_id given separately). */
export class ConversationIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (value === 'default' || isLettaId('conv', value)) return value;
    throw new UnprocessableEntityException({
      detail: `conversation_id: String should match pattern 'conv-{uuid4}' or be 'default' (got '${value}')`,
      examples: ['conv-123e4567-e89b-42d3-a456-426614174000'],
    });
  }
}

import { UnprocessableEntityException, ValidationPipe, type ValidationError } from '@nestjs/common';
import { Transform } from 'class-transformer';

/** Flattens class-validator errors into `field.path: what is wrong` lines. */
export function describeValidationErrors(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => `${path}: ${message}`);
    return [...own, ...describeValidationErrors(error.children ?? [], path)];
  });
}

/** Request bodies and queries: 422 with a detail naming every invalid field, as Letta answers. */
export function lettaValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    forbidUnknownValues: false,
    exceptionFactory: (errors) =>
      new UnprocessableEntityException({ detail: `Invalid request: ${describeValidationErrors(errors).join('; ')}` }),
  });
}

/** On an update, `null` for a field that cannot be empty leaves it unchanged (Letta's `None`: not given). */
export const NullMeansUnchanged = (): PropertyDecorator => Transform(({ value }: { value: unknown }) => (value === null ? undefined : value));

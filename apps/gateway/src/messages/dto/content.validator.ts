import { registerDecorator, type ValidationOptions } from 'class-validator';

/**
 * What is wrong with a message content value, or null: a non-empty string, or a non-empty list
 * of text parts `{type?: "text", text}` and image parts `{type?: "image", source}` whose source
 * is `{type: "url", url}` or `{type: "base64", media_type, data}`.
 */
export function contentProblem(value: unknown): string | null {
  if (typeof value === 'string') return value.length > 0 ? null : 'must not be empty';
  if (!Array.isArray(value)) return 'must be a string or a list of content parts';
  if (value.length === 0) return 'must not be an empty list';
  for (const [index, part] of value.entries()) {
    const problem = partProblem(part);
    if (problem) return `part ${index} ${problem}`;
  }
  return null;
}

function partProblem(part: unknown): string | null {
  if (typeof part !== 'object' || part === null) return 'must be an object';
  const { type, text, source } = part as { type?: unknown; text?: unknown; source?: unknown };
  const kind = type ?? (text !== undefined ? 'text' : source !== undefined ? 'image' : undefined);
  if (kind === 'text') return typeof text === 'string' ? null : 'text must be a string';
  if (kind !== 'image') return `has unsupported type ${JSON.stringify(type)} (expected "text" or "image")`;
  if (typeof source !== 'object' || source === null) return 'source must be an object';
  const { type: sourceType, url, media_type: mediaType, data } = source as Record<string, unknown>;
  if (sourceType === 'url') return typeof url === 'string' && /^(https?|data):/i.test(url) ? null : 'source.url must be an http(s) or data URL';
  if (sourceType === 'base64') {
    if (typeof mediaType !== 'string' || !/^image\//.test(mediaType)) return 'source.media_type must be an image media type';
    return typeof data === 'string' && data.length > 0 ? null : 'source.data must be base64 text';
  }
  return `source.type must be "url" or "base64"`;
}

export function IsMessageContent(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isMessageContent',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => contentProblem(value) === null,
        defaultMessage: (args) => `${args?.property} ${contentProblem(args?.value)}`,
      },
    });
}

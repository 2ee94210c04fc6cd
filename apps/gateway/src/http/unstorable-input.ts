import type { NextFunction, Request, Response } from 'express';

/** Deepest JSON nesting a request may have (Letta's own bodies need fewer than 10 levels). */
export const MAX_JSON_DEPTH = 64;

/** NUL and lone UTF-16 surrogates: Postgres stores neither, so no request may carry them. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The first problem in a parsed JSON body, named by its path (`messages[0].content`), or null.
 * Iterative, so a body nested deeper than any stack is refused, not a crash.
 */
export function unstorableInputProblem(body: unknown): string | null {
  const pending: { value: unknown; path: string; depth: number }[] = [{ value: body, path: 'body', depth: 0 }];
  while (pending.length > 0) {
    const { value, path, depth } = pending.pop()!;
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) return `${path} contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored`;
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return `${path} is nested more than ${MAX_JSON_DEPTH} levels deep`;
    if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--) pending.push({ value: value[index], path: `${path}[${index}]`, depth: depth + 1 });
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (UNSTORABLE.test(key)) return `${path} has a key with a NUL character or an unpaired UTF-16 surrogate`;
      pending.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return null;
}

/** The path or a query parameter decoded to something that cannot be stored, or null. */
function unstorableUrlProblem(request: Request): string | null {
  let path: string;
  try {
    path = decodeURIComponent(request.path);
  } catch {
    return 'the URL path is not valid percent-encoded UTF-8';
  }
  if (UNSTORABLE.test(path)) return 'the URL path contains a NUL character or an unpaired UTF-16 surrogate';
  for (const [name, value] of Object.entries(request.query)) {
    const values = Array.isArray(value) ? value : [value];
    if (values.some((item) => typeof item === 'string' && UNSTORABLE.test(item))) {
      return `query parameter ${name} contains a NUL character or an unpaired UTF-16 surrogate`;
    }
  }
  return null;
}

/** Refuses such requests with 422 and Letta's `{"detail": ...}` before any handler runs: nothing is written. */
export function refuseUnstorableInput(request: Request, response: Response, next: NextFunction): void {
  const problem = unstorableUrlProblem(request) ?? (request.body === undefined ? null : unstorableInputProblem(request.body));
  if (problem) {
    response.status(422).json({ detail: `Invalid request: ${problem}` });
    return;
  }
  next();
}

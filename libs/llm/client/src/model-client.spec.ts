import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ModelCallError, classifyModelError } from './model-client';

const headers = () => new Headers({ 'x-request-id': 'req-1' });
const httpError = (status: number, message = 'upstream said no') =>
  APIError.generate(status, { error: { message } }, undefined, headers());

describe('classifyModelError', () => {
  it.each([
    [429, 'llm_rate_limit', true],
    [401, 'llm_authentication', false],
    [403, 'llm_authentication', false],
    [402, 'llm_insufficient_credits', false],
    [408, 'llm_timeout', true],
    [500, 'llm_error', true],
    [502, 'llm_error', true],
    [503, 'llm_error', true],
    [400, 'llm_bad_request', false],
    [404, 'llm_bad_request', false],
    [422, 'llm_bad_request', false],
  ])('classifies HTTP %i as %s (retryable: %s)', (status, errorType, retryable) => {
    const classified = classifyModelError(httpError(status));
    expect(classified).toBeInstanceOf(ModelCallError);
    expect(classified).toMatchObject({ errorType, retryable, status });
  });

  it('recognises a prompt too long for the window, and the window the refusal names', () => {
    const openai = APIError.generate(
      400,
      { error: { message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens.", code: 'context_length_exceeded' } },
      undefined,
      headers(),
    );
    expect(classifyModelError(openai)).toMatchObject({ errorType: 'llm_context_window_exceeded', retryable: false, status: 400, contextWindow: 8192 });
    // Servers that send no code say so in words.
    const other = classifyModelError(httpError(400, 'prompt is too long: 210000 tokens > 200000 maximum'));
    expect(other).toMatchObject({ errorType: 'llm_context_window_exceeded', contextWindow: null });
  });

  it('names the status and the provider message', () => {
    const classified = classifyModelError(httpError(429, 'Rate limit reached for gpt-4o'));
    expect(classified.message).toMatch(/^model endpoint answered 429 .*Rate limit reached for gpt-4o$/);
  });

  it('classifies a directly constructed APIError by its status', () => {
    const classified = classifyModelError(new APIError(503, { message: 'overloaded' }, undefined, headers()));
    expect(classified).toMatchObject({ errorType: 'llm_error', retryable: true, status: 503 });
  });

  it('treats an APIError without a status as a bad request with no status', () => {
    const classified = classifyModelError(new APIError(undefined, undefined, 'odd failure', undefined));
    expect(classified).toMatchObject({ errorType: 'llm_bad_request', retryable: false, status: null });
    expect(classified.message).toBe('model endpoint error: odd failure');
  });

  it('retries a connection failure', () => {
    const classified = classifyModelError(new APIConnectionError({ message: 'ECONNREFUSED 127.0.0.1:1' }));
    expect(classified).toMatchObject({ errorType: 'llm_error', retryable: true, status: null });
    expect(classified.message).toBe('model endpoint unreachable: ECONNREFUSED 127.0.0.1:1');
  });

  it('treats APIError.generate without headers as a connection failure', () => {
    const classified = classifyModelError(APIError.generate(undefined, new Error('socket hang up'), 'Connection error.', undefined));
    expect(classified).toMatchObject({ errorType: 'llm_error', retryable: true, status: null });
  });

  it('retries a timeout, which is also a connection error', () => {
    const classified = classifyModelError(new APIConnectionTimeoutError());
    expect(classified).toMatchObject({ errorType: 'llm_timeout', retryable: true, status: null, message: 'model request timed out' });
  });

  it('does not retry an abort', () => {
    const classified = classifyModelError(new APIUserAbortError());
    expect(classified).toMatchObject({ errorType: 'llm_aborted', retryable: false, status: null, message: 'model request aborted' });
  });

  it('returns a ModelCallError unchanged', () => {
    const original = new ModelCallError('already classified', 'llm_bad_request', false, 400);
    expect(classifyModelError(original)).toBe(original);
  });

  it('retries a plain error raised while streaming', () => {
    const classified = classifyModelError(new Error('stream ended unexpectedly'));
    expect(classified).toMatchObject({
      errorType: 'llm_error',
      retryable: true,
      status: null,
      message: 'model stream failed: stream ended unexpectedly',
    });
  });

  it('describes a thrown non-error value', () => {
    expect(classifyModelError('boom').message).toBe('model stream failed: boom');
  });
});

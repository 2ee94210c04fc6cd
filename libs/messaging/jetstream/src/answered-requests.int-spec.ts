import { TimeoutError, errors } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/transport-node';
import type { RunningNats } from '@lrs/local-stack';
import { startTestNats } from '@lrs/testing';
import { answeredRequestsPatched } from './answered-requests';
import { connectJetStream } from './connection';

/** Requests behave as the client documents them, with the patch that skips the Error of answered ones in place. */
describe('answered requests', () => {
  let nats: RunningNats;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = (await connectJetStream({ servers: nats.url, name: 'answered-requests-int-spec' })).nc;
    nc.subscribe('echo', { callback: (_error, message) => void message.respond(message.data) });
  });
  afterAll(async () => {
    await nc?.drain();
    await nats?.stop();
  });

  it('is patched into the client this build uses', () => {
    expect(answeredRequestsPatched()).toBe(true);
  });

  it('answers requests, and still rejects those with no responder or no answer in time', async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => nc.request('echo', String(i), { timeout: 2_000 })));
    expect(answers.map((answer) => answer.string())).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    await expect(nc.request('nobody.listens', '', { timeout: 2_000 })).rejects.toBeInstanceOf(errors.RequestError);
    nc.subscribe('silent', { callback: () => undefined });
    await expect(nc.request('silent', '', { timeout: 200 })).rejects.toBeInstanceOf(TimeoutError);
    // The connection is sound afterwards.
    expect((await nc.request('echo', 'again', { timeout: 2_000 })).string()).toBe('again');
  });
});

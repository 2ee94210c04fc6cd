import { startTestNats } from '@lrs/testing';
import type { RunningNats } from '@lrs/local-stack';
import { connectJetStream, type JetStreamContext } from './connection';
import { CompactionRequests, type CompactionRequest } from './compaction-requests';

const request: CompactionRequest = {
  organizationId: 'org-test',
  agentId: 'agent-1',
  laneId: 'agent-1',
  mode: 'all',
  prompt: null,
  model: null,
  keepFraction: 0.3,
};

describe('CompactionRequests over real NATS', () => {
  let nats: RunningNats;
  let gateway: JetStreamContext;
  let worker: JetStreamContext;

  beforeAll(async () => {
    nats = await startTestNats();
    gateway = await connectJetStream({ servers: nats.url, name: 'gateway' });
    worker = await connectJetStream({ servers: nats.url, name: 'worker' });
  });
  afterAll(async () => {
    await gateway?.nc.drain();
    await worker?.nc.drain();
    await nats?.stop();
  });

  it('answers 503 with a clear detail when no worker is listening', async () => {
    await expect(new CompactionRequests(gateway.nc).request(request, 2_000)).resolves.toEqual({
      ok: false,
      status: 503,
      detail: expect.stringContaining('No llm-worker is running'),
    });
  });

  it("hands each request to one worker and returns that worker's answer", async () => {
    const seen: CompactionRequest[][] = [[], []];
    const stops = [0, 1].map((index) =>
      new CompactionRequests(worker.nc).serve(async (received) => {
        seen[index].push(received);
        return { ok: true, summary: `from ${index}`, summarizedIds: ['m1'], keptIds: [], contextSize: 1, seenUpToSequence: 7 };
      }),
    );
    await worker.nc.flush();
    const replies = await Promise.all(Array.from({ length: 6 }, () => new CompactionRequests(gateway.nc).request(request, 2_000)));
    stops.forEach((stop) => stop());
    expect(replies.every((reply) => reply.ok)).toBe(true);
    expect(seen[0].length + seen[1].length).toBe(6);
    expect(seen.flat()[0]).toEqual(request);
  });

  it('turns a handler failure into a 500 answer and a slow worker into a 504', async () => {
    const stopFailing = new CompactionRequests(worker.nc).serve(async () => {
      throw new Error('relation "messages" does not exist: SELECT body FROM messages WHERE secret');
    });
    await worker.nc.flush();
    // The failure's text (SQL, here) stays in the worker's log.
    await expect(new CompactionRequests(gateway.nc).request(request, 2_000)).resolves.toEqual({
      ok: false,
      status: 500,
      detail: 'Failed to summarize the conversation; the server logged why',
    });
    stopFailing();

    const stopSlow = new CompactionRequests(worker.nc).serve(() => new Promise((resolve) => setTimeout(() => resolve({ ok: false, status: 400, detail: 'late' }), 1_500)));
    await worker.nc.flush();
    await expect(new CompactionRequests(gateway.nc).request(request, 300)).resolves.toMatchObject({ ok: false, status: 504 });
    stopSlow();
  });

  it('answers 413 when the result is too large for a NATS message, and keeps serving', async () => {
    let big = true;
    const stop = new CompactionRequests(worker.nc).serve(async () => ({
      ok: true,
      summary: big ? 'x'.repeat(2 * 1024 * 1024) : 'small',
      summarizedIds: [],
      keptIds: [],
      contextSize: 1,
      seenUpToSequence: 1,
    }));
    await worker.nc.flush();
    await expect(new CompactionRequests(gateway.nc).request(request, 2_000)).resolves.toMatchObject({ ok: false, status: 413, detail: expect.stringMatching(/is \d+ bytes, more than/) });
    big = false;
    await expect(new CompactionRequests(gateway.nc).request(request, 2_000)).resolves.toMatchObject({ ok: true, summary: 'small' });
    expect(worker.nc.isClosed()).toBe(false);
    stop();
  });
});

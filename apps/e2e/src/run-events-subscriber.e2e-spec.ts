import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { RUN_EVENTS_STREAM } from '@lrs/contracts';
import { REPO_ROOT, TestStack } from '@lrs/testing';
import { createAgent, pollRun, sendAsync, waitUntil } from './helpers';

const EXAMPLE = join(REPO_ROOT, 'dist/examples/run-finished-subscriber/src/main.js');
const DURABLE = 'e2e-run-finished';

interface FinishedLine {
  run_id: string;
  status: string;
  stop_reason: string;
  event_id: string;
}

/** The example subscriber as a child process, with the JSON lines it has printed so far. */
function startSubscriber(natsUrl: string): { lines: FinishedLine[]; stop: () => Promise<void>; stderr: () => string } {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [EXAMPLE], { env: { PATH: process.env.PATH, NATS_URL: natsUrl, DURABLE } });
  const lines: FinishedLine[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const line of complete) if (line) lines.push(JSON.parse(line) as FinishedLine);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    lines,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** examples/run-finished-subscriber against the whole stack: one line per finished run, once, across restarts. */
describe('the run-finished subscriber example', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function finishedRuns(count: number): Promise<string[]> {
    const agentId = await createAgent(stack.baseUrl);
    const runIds: string[] = [];
    for (let index = 0; index < count; index++) runIds.push(await sendAsync(stack.baseUrl, agentId, { input: `hello ${index}` }));
    for (const runId of runIds) expect(await pollRun(stack.baseUrl, runId)).toMatchObject({ status: 'completed' });
    return runIds;
  }

  it('prints each finished run exactly once, and resumes after a restart without repeating one', async () => {
    const first = await finishedRuns(3);
    const subscriber = startSubscriber(stack.nats.url);
    try {
      await waitUntil(() => first.every((runId) => subscriber.lines.some((line) => line.run_id === runId)), 30_000);
    } finally {
      await subscriber.stop();
    }
    expect(subscriber.lines.map((line) => line.run_id).sort()).toEqual([...first].sort());
    expect(subscriber.lines).toEqual(first.map(() => expect.objectContaining({ status: 'completed', stop_reason: 'end_turn', event_id: expect.stringMatching(/^evt:run-/) })));

    // Runs that finish while it is stopped are printed when it comes back, after nothing old: its
    // durable consumer hands out messages in stream order, so a repeat would come before them.
    const second = await finishedRuns(2);
    const restarted = startSubscriber(stack.nats.url);
    try {
      await waitUntil(() => second.every((runId) => restarted.lines.some((line) => line.run_id === runId)), 30_000);
    } finally {
      await restarted.stop();
    }
    expect(restarted.lines.map((line) => line.run_id).sort()).toEqual([...second].sort());
    expect(restarted.stderr()).toContain(`consuming ${RUN_EVENTS_STREAM} as ${DURABLE}`);

    // Every message was acked, none was handed out twice.
    const nc = await connect({ servers: stack.nats.url });
    try {
      const info = await (await jetstreamManager(nc)).consumers.info(RUN_EVENTS_STREAM, DURABLE);
      expect({ pending: info.num_pending, unacked: info.num_ack_pending, redelivered: info.num_redelivered }).toEqual({ pending: 0, unacked: 0, redelivered: 0 });
    } finally {
      await nc.close();
    }
  });
});

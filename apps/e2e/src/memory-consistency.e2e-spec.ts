import { TestStack } from '@lrs/testing';
import { createAgent, getJson, pollRun, postJson, sendAsync, waitUntil } from './helpers';

const KILL_MARK = 'kill-after-write';
const PAUSE_MARK = 'pause-after-write';

/**
 * No memory edit is lost (docs/memory.md): concurrent writers of one block, through the real
 * services with two llm-workers, an API edit during a step, a worker killed between its write and
 * its append, and a cancel racing a step's edit. Each case failed before edits were committed as
 * operations to the block as it is when they commit.
 */
describe('memory edits never lose an update', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({
      env: { JETSTREAM_ACK_WAIT_MS: '2000', FAULT_KILL_AFTER_STEP_WRITE: KILL_MARK, FAULT_PAUSE_AFTER_STEP_WRITE: PAUSE_MARK, FAULT_PAUSE_MS: '4000' },
    });
    stack.startReplica('llm-worker');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const blockOf = async (agentId: string, label: string) => getJson<{ id: string; value: string }>(stack.baseUrl, `/v1/agents/${agentId}/core-memory/blocks/${label}`);
  const insert = (label: string, line: string, extra = '') =>
    `note it ${extra}[fake:toolsteps=1][fake:tool=memory_insert][fake:args=${JSON.stringify({ label, new_str: line })}]`;
  const toolReturns = async (runId: string) =>
    (await getJson<{ message_type: string; tool_return?: string; status?: string }[]>(stack.baseUrl, `/v1/runs/${runId}/messages`)).filter(
      (message) => message.message_type === 'tool_return_message',
    );

  it('two agents sharing a block insert into it at the same time, round after round, on two workers: every line is kept', async () => {
    const first = await createAgent(stack.baseUrl, { memory_blocks: [{ label: 'team', value: 'Team notes:', limit: 20_000 }] });
    const team = await blockOf(first, 'team');
    const second = await createAgent(stack.baseUrl, { block_ids: [team.id] });
    const rounds = 6;
    const runs: string[] = [];
    // Every step waits 300 ms in the model, so the two agents' steps overlap: each reads the block
    // while the other's insert is in flight.
    for (let round = 0; round < rounds; round++) {
      runs.push(
        ...(await Promise.all([
          sendAsync(stack.baseUrl, first, { input: insert('team', `fromA${round}`, '[fake:delay=300]') }),
          sendAsync(stack.baseUrl, second, { input: insert('team', `fromB${round}`, '[fake:delay=300]') }),
        ])),
      );
    }
    for (const runId of runs) expect(await pollRun(stack.baseUrl, runId, undefined, 60_000)).toMatchObject({ status: 'completed' });
    const lines = (await blockOf(second, 'team')).value.split('\n');
    expect(lines[0]).toBe('Team notes:');
    const expected = Array.from({ length: rounds }, (_, round) => [`fromA${round}`, `fromB${round}`]).flat();
    expect(lines.slice(1).sort()).toEqual(expected.sort());
    // Each agent's own lines are in the order of its runs (one run at a time per agent).
    expect(lines.filter((line) => line.startsWith('fromA'))).toEqual(expected.filter((line) => line.startsWith('fromA')).sort());
  });

  it("an API edit of the block while a step runs is kept when the step's insert commits", async () => {
    const agent = await createAgent(stack.baseUrl, { memory_blocks: [{ label: 'human', value: 'Name: Sam' }] });
    const marker = `api-during-step-${Date.now()}`;
    const runId = await sendAsync(stack.baseUrl, agent, { input: insert('human', 'Allergic to nuts', `${marker} [fake:delay=1500]`) });
    // The step has read the block and is waiting for the model.
    await waitUntil(() => stack.model.requests.some((request) => JSON.stringify(request.body).includes(marker)), 10_000);
    const patched = await fetch(`${stack.baseUrl}/v1/agents/${agent}/core-memory/blocks/human`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'Name: Sam\nLikes: green tea' }),
    });
    expect(patched.status).toBe(200);
    expect(await pollRun(stack.baseUrl, runId, undefined, 30_000)).toMatchObject({ status: 'completed' });
    expect((await blockOf(agent, 'human')).value).toBe('Name: Sam\nLikes: green tea\nAllergic to nuts');
  });

  it('a worker SIGKILLed between its write and its append: the redelivered step lands once, and so does its insert', async () => {
    const agent = await createAgent(stack.baseUrl, { memory_blocks: [{ label: 'human', value: 'Name: Lee' }] });
    const line = `Birthday in May ${KILL_MARK}`;
    const runId = await sendAsync(stack.baseUrl, agent, { input: insert('human', line) });
    // Whichever worker took the step kills itself after committing its rows and edit; a supervisor starts it again.
    const workers = [stack.service('llm-worker'), ...stack.replicas];
    await waitUntil(() => workers.some((worker) => !worker.running), 20_000);
    const killed = workers.filter((worker) => !worker.running);
    expect(killed).toHaveLength(1);
    killed[0].start();
    expect(await pollRun(stack.baseUrl, runId, undefined, 60_000)).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    const value = (await blockOf(agent, 'human')).value;
    expect(value.split('\n').filter((entry) => entry === line)).toHaveLength(1);
    expect(value).toBe(`Name: Lee\n${line}`);
    expect(await toolReturns(runId)).toEqual([expect.objectContaining({ status: 'success' })]);
    expect(await getJson<unknown[]>(stack.baseUrl, `/v1/runs/${runId}/steps`)).toHaveLength(2);
  });

  it("a cancel racing a step's edit: memory and history agree (neither has the step)", async () => {
    const agent = await createAgent(stack.baseUrl, { memory_blocks: [{ label: 'human', value: 'Name: Kim' }] });
    const runId = await sendAsync(stack.baseUrl, agent, { input: insert('human', `Prefers mornings ${PAUSE_MARK}`) });
    // The step has committed its rows and its edit and waits before its append.
    await waitUntil(async () => (await blockOf(agent, 'human')).value.includes(PAUSE_MARK), 20_000);
    const cancel = await postJson(stack.baseUrl, `/v1/agents/${agent}/messages/cancel`, { run_ids: [runId] });
    expect(cancel).toEqual({ status: 200, body: { [runId]: 'cancelled' } });
    expect(await pollRun(stack.baseUrl, runId, undefined, 30_000)).toMatchObject({ status: 'cancelled' });
    // The step's append lost to the cancel: its edit is taken back with its messages.
    await waitUntil(async () => (await blockOf(agent, 'human')).value === 'Name: Kim', 20_000);
    await waitUntil(async () => (await toolReturns(runId)).length === 0, 10_000);
    const history = await getJson<{ message_type: string }[]>(stack.baseUrl, `/v1/agents/${agent}/messages`);
    expect(history.filter((message) => message.message_type === 'tool_return_message')).toEqual([]);
  });

  describe("blocks a step creates with Letta's memory tool", () => {
    const createInput = (path: string, fileText: string) => `make a note [fake:toolsteps=1][fake:tool=memory][fake:args=${JSON.stringify({ command: 'create', path, file_text: fileText })}]`;
    const labelsOf = async (agentId: string) => (await getJson<{ label: string }[]>(stack.baseUrl, `/v1/agents/${agentId}/core-memory/blocks`)).map((block) => block.label);
    const blocksLabelled = async (label: string) => getJson<{ id: string; value: string }[]>(stack.baseUrl, `/v1/blocks?label=${encodeURIComponent(label)}`);

    it('a worker SIGKILLed between its write and its append: the block is created once', async () => {
      const agent = await createAgent(stack.baseUrl, { tools: ['memory'] });
      const label = `notes-kill-${Date.now()}`;
      const runId = await sendAsync(stack.baseUrl, agent, { input: createInput(`/memories/${label}`, `Kickoff in May ${KILL_MARK}`) });
      const workers = [stack.service('llm-worker'), ...stack.replicas];
      await waitUntil(() => workers.some((worker) => !worker.running), 20_000);
      for (const worker of workers) if (!worker.running) worker.start();
      expect(await pollRun(stack.baseUrl, runId, undefined, 60_000)).toMatchObject({ status: 'completed' });
      expect((await labelsOf(agent)).filter((entry) => entry === label)).toHaveLength(1);
      // The first attempt's block went when the redelivered step ran; the organization holds one such block.
      expect((await blocksLabelled(label)).map((block) => block.value)).toEqual([`Kickoff in May ${KILL_MARK}`]);
      expect(await toolReturns(runId)).toEqual([expect.objectContaining({ status: 'success' })]);
    });

    it('a cancel racing the step: the block goes with the step', async () => {
      const agent = await createAgent(stack.baseUrl, { tools: ['memory'] });
      const label = `notes-pause-${Date.now()}`;
      const runId = await sendAsync(stack.baseUrl, agent, { input: createInput(`/memories/${label}`, `Parking on level two ${PAUSE_MARK}`) });
      // The step has committed its rows and its new block and waits before its append.
      await waitUntil(async () => (await labelsOf(agent)).includes(label), 20_000);
      expect(await postJson(stack.baseUrl, `/v1/agents/${agent}/messages/cancel`, { run_ids: [runId] })).toEqual({ status: 200, body: { [runId]: 'cancelled' } });
      await waitUntil(async () => !(await labelsOf(agent)).includes(label), 20_000);
      expect(await blocksLabelled(label)).toEqual([]);
      expect(await toolReturns(runId)).toEqual([]);
    });
  });

  describe('archival passages a step inserts', () => {
    const passageInput = (content: string) => `remember [fake:toolsteps=1][fake:tool=archival_memory_insert][fake:args=${JSON.stringify({ content })}]`;
    const passagesOf = async (agentId: string) => getJson<{ text: string }[]>(stack.baseUrl, `/v1/agents/${agentId}/archival-memory`);

    it('a worker SIGKILLed between its write and its append: the passage is stored once', async () => {
      const agent = await createAgent(stack.baseUrl, { tools: ['archival_memory_insert'] });
      const content = `The vault code changed in March ${KILL_MARK}`;
      const runId = await sendAsync(stack.baseUrl, agent, { input: passageInput(content) });
      const workers = [stack.service('llm-worker'), ...stack.replicas];
      await waitUntil(() => workers.some((worker) => !worker.running), 20_000);
      for (const worker of workers) if (!worker.running) worker.start();
      expect(await pollRun(stack.baseUrl, runId, undefined, 60_000)).toMatchObject({ status: 'completed' });
      expect((await passagesOf(agent)).map((passage) => passage.text)).toEqual([content]);
      expect(await toolReturns(runId)).toEqual([expect.objectContaining({ status: 'success' })]);
    });

    it('a cancel racing the step: the passage goes with the step', async () => {
      const agent = await createAgent(stack.baseUrl, { tools: ['archival_memory_insert'] });
      const runId = await sendAsync(stack.baseUrl, agent, { input: passageInput(`Parking is on level two ${PAUSE_MARK}`) });
      await waitUntil(async () => (await passagesOf(agent)).length === 1, 20_000);
      expect(await postJson(stack.baseUrl, `/v1/agents/${agent}/messages/cancel`, { run_ids: [runId] })).toEqual({ status: 200, body: { [runId]: 'cancelled' } });
      await waitUntil(async () => (await passagesOf(agent)).length === 0, 20_000);
      expect(await toolReturns(runId)).toEqual([]);
    });
  });
});

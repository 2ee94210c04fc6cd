import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CallbackReceiver, REPO_ROOT, TestStack } from '@lrs/testing';
import { launchChromium } from './browser';

const KEY = 'lrs-e2e-inspector-admin-key-0123456789abcdef';
const WAIT = { timeout: 20_000 };
const directives = (tool: string, args: Record<string, unknown>) => `[fake:toolsteps=1][fake:tool=${tool}][fake:args=${JSON.stringify(args)}]`;

/** With UI_SCREENSHOTS=1 (`npm run ui:screenshots`), the pages the README shows are saved into docs/. */
const SCREENSHOTS = process.env.UI_SCREENSHOTS === '1';

/**
 * The run inspector at /ui, in headless Chromium against every service: the page asks for the API
 * key the server wants, lists the runs the test makes, shows a run's steps, tool calls and callback
 * attempts, follows a running run token by token, and cancels and answers approvals from the page.
 */
describe('run inspector in the browser', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;
  let browser: Browser;
  let page: Page;
  let toolRunId: string;
  const policyViolations: string[] = [];

  const call = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${stack.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  };
  const runOf = (runId: string) => call<{ status: string; stop_reason: string | null; callback_status_code: number | null }>('GET', `/v1/runs/${runId}`);
  const waitForRun = async (runId: string, done: (run: Awaited<ReturnType<typeof runOf>>) => boolean) => {
    const deadline = Date.now() + 20_000;
    for (let run = await runOf(runId); !done(run); run = await runOf(runId)) {
      if (Date.now() > deadline) throw new Error(`run ${runId} stayed ${JSON.stringify(run)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const createAgent = async (body: Record<string, unknown> = {}) => (await call<{ id: string }>('POST', '/v1/agents', { name: 'inspected', model: 'openai/gpt-4o-mini', ...body })).id;
  const send = async (agentId: string, body: Record<string, unknown>) => (await call<{ id: string }>('POST', `/v1/agents/${agentId}/messages/async`, body)).id;
  const text = (selector: string) => page.locator(selector).innerText(WAIT);
  /** At 1280 px and at a phone's width. */
  const screenshot = async (name: string) => {
    if (!SCREENSHOTS) return;
    await page.screenshot({ path: join(REPO_ROOT, 'docs', `${name}.png`), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(REPO_ROOT, 'docs', `${name}-phone.png`), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  };

  beforeAll(async () => {
    [stack, receiver, browser] = await Promise.all([TestStack.start({ env: { BOOTSTRAP_API_KEY: KEY } }), CallbackReceiver.start(), launchChromium()]);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) policyViolations.push(message.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([stack?.stop(), receiver?.stop()]);
  });

  it('serves its files without a key under a strict policy, and asks for the key the API wants', async () => {
    const root = await fetch(`${stack.baseUrl}/`, { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, '/ui/']);
    const index = await fetch(`${stack.baseUrl}/ui/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const script = /src="(assets\/app-[^"]+\.js)"/.exec(await index.text())![1];
    expect((await fetch(`${stack.baseUrl}/ui/${script}`)).headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const missing = await fetch(`${stack.baseUrl}/ui/assets/nothing.js`);
    expect([missing.status, ((await missing.json()) as { detail: string }).detail]).toEqual([404, 'Not found: /ui/assets/nothing.js']);

    await page.goto(`${stack.baseUrl}/ui/`);
    await page.getByRole('textbox', { name: 'API key' }).fill(KEY, WAIT);
    await page.keyboard.press('Enter');
    await page.getByText('No runs yet').waitFor(WAIT);
  });

  it('lists a run the test made, live, with its status, steps, tokens and callback outcome', async () => {
    const agentId = await createAgent({ memory_blocks: [{ label: 'human', value: 'Name: Ada' }] });
    toolRunId = await send(agentId, { input: `remember tea ${directives('memory_insert', { label: 'human', new_str: 'Likes tea' })}`, callback_url: receiver.url('/ui') });
    const row = page.locator(`tr[data-run-id="${toolRunId}"]`);
    await row.waitFor(WAIT);
    await waitForRun(toolRunId, (run) => run.callback_status_code === 200);
    await page.locator(`tr[data-run-id="${toolRunId}"][data-status="completed"]`).waitFor(WAIT);
    await row.locator('td[data-label="Callback"]', { hasText: '200' }).waitFor(WAIT);
    expect(await row.locator('td[data-label="Steps"]').innerText()).toBe('2');
    expect(Number((await row.locator('td[data-label="Tokens"]').innerText()).replace(/\D/g, ''))).toBeGreaterThan(0);

    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No runs match these filters.').waitFor(WAIT);
    await page.getByLabel('Status').selectOption('completed');
    await row.waitFor(WAIT);
    await page.getByLabel('Created after').fill('2100-01-01T00:00');
    await page.getByText('No runs match these filters.').waitFor(WAIT);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await row.waitFor(WAIT);
  });

  it("opens a run from the list by keyboard and shows its steps, tool call, callback attempt, transcript and trace", async () => {
    await page.locator(`tr[data-run-id="${toolRunId}"] a.mono`).focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-entry="callback"]', { hasText: 'Callback attempt 1' }).waitFor(WAIT);
    expect(await text('[data-entry="callback"]')).toContain('200');
    expect(await page.locator('[data-entry="step"]').count()).toBe(2);
    expect(await text('[data-fact="steps"]')).toBe('2');
    const toolCall = page.locator('[data-entry="tool_call"]');
    expect(await toolCall.innerText()).toContain('memory_insert');
    await toolCall.getByText('arguments').click();
    expect(await toolCall.locator('pre').innerText()).toContain('"new_str": "Likes tea"');
    expect(await text('[data-entry="tool_return"]')).toContain('success');
    await page.locator('[data-message-type="tool_call_message"]').waitFor(WAIT);
    await page.locator('[data-span="callback"]').waitFor(WAIT);
    expect(await page.locator('[data-span="agent_step"]').count()).toBe(2);
    await screenshot('run-inspector-run');
  });

  it('follows a running run token by token through its stream while the test watches', async () => {
    const agentId = await createAgent();
    const runId = await send(agentId, { input: '[fake:reply=alpha beta gamma delta][fake:hold=live]' });
    await page.goto(`${stack.baseUrl}/ui/#/runs/${runId}`);
    await page.locator('[data-connection="live"]').waitFor(WAIT);
    stack.model.release('live', 1);
    const live = page.locator('#live [data-message-type="assistant_message"]');
    await live.filter({ hasText: 'alpha' }).waitFor(WAIT);
    expect(await live.innerText()).not.toContain('delta');
    expect(await text('h1 .badge')).toBe('running');
    const queued = await send(agentId, { input: 'after you' });
    stack.model.release('live');
    await page.locator('h1 .badge', { hasText: 'completed' }).waitFor(WAIT);
    await page.locator('#transcript [data-message-type="assistant_message"]', { hasText: 'alpha beta gamma delta' }).waitFor(WAIT);

    // The message sent meanwhile waited for this run, and its timeline says so.
    await page.goto(`${stack.baseUrl}/ui/#/runs/${queued}`);
    await page.locator(`[data-entry="queued"] a[href="#/runs/${runId}"]`).waitFor(WAIT);
  });

  it('cancels a running run from its page', async () => {
    const agentId = await createAgent();
    const runId = await send(agentId, { input: '[fake:reply=never finished][fake:hold=cancel]' });
    await page.goto(`${stack.baseUrl}/ui/#/runs/${runId}`);
    await page.locator('h1 .badge', { hasText: 'running' }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('h1 .badge', { hasText: 'cancelled' }).waitFor(WAIT);
    expect((await runOf(runId)).status).toBe('cancelled');
    await page.locator('[data-entry="finished"]', { hasText: 'Cancelled' }).waitFor(WAIT);
    stack.model.release('cancel');
  });

  it("shows the schedule a run was made by, and the agent's scheduled messages", async () => {
    const agentId = await createAgent();
    const oneTime = await call<{ id: string }>('POST', `/v1/agents/${agentId}/schedule`, { messages: [{ role: 'user', content: 'scheduled ping' }], schedule: { type: 'one-time', scheduled_at: Date.now() + 1_000 } });
    const daily = await call<{ id: string }>('POST', `/v1/agents/${agentId}/schedule`, { messages: [{ role: 'user', content: 'daily digest' }], schedule: { type: 'recurring', cron_expression: '0 4 * * *' } });
    let runId: string | null = null;
    const deadline = Date.now() + 20_000;
    while (!runId && Date.now() < deadline) {
      runId = (await call<{ last_run_id: string | null }>('GET', `/v1/agents/${agentId}/schedule/${oneTime.id}`)).last_run_id;
      if (!runId) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(runId).not.toBeNull();
    await page.goto(`${stack.baseUrl}/ui/#/runs/${runId}`);
    expect(await text('[data-fact="schedule"]')).toContain(oneTime.id);
    await page.locator('[data-fact="schedule"] a').click();
    await page.locator(`[data-schedule="${daily.id}"]`, { hasText: 'cron 0 4 * * * (UTC)' }).waitFor(WAIT);
    expect(await text(`[data-schedule="${oneTime.id}"]`)).toContain('none (done)');
    expect(await text(`[data-schedule="${oneTime.id}"]`)).toContain(runId!);
  });

  it('approves one pending tool call and denies another with a reason from the page, then opens the agent', async () => {
    const agentId = await createAgent({ memory_blocks: [{ label: 'human', value: 'Name: Bo' }] });
    await call('PATCH', `/v1/agents/${agentId}/tools/approval/memory_insert`, { requires_approval: true });
    const ask = async (fact: string) => {
      const runId = await send(agentId, { input: `${fact} ${directives('memory_insert', { label: 'human', new_str: fact })}` });
      await waitForRun(runId, (run) => run.stop_reason === 'requires_approval');
      await page.goto(`${stack.baseUrl}/ui/#/runs/${runId}`);
      await page.getByRole('heading', { name: 'Waiting for approval' }).waitFor(WAIT);
    };
    const resumedRun = async () => {
      const link = page.getByTestId('resumed-run');
      await link.waitFor(WAIT);
      const runId = await link.innerText();
      await link.click();
      await page.locator('h1 .badge', { hasText: 'completed' }).waitFor(WAIT);
      return runId;
    };

    await ask('Plays chess');
    await page.getByRole('button', { name: 'Approve' }).click();
    await resumedRun();
    await page.locator('[data-entry="approval"]', { hasText: 'Approved' }).waitFor(WAIT);

    await ask('Hates chess');
    await page.getByLabel('Reason (sent to the model when you deny)').fill('not true');
    await page.getByRole('button', { name: 'Deny' }).click();
    const denied = await resumedRun();
    await page.locator('[data-entry="approval"]', { hasText: 'Denied' }).waitFor(WAIT);
    const messages = await call<{ message_type: string; tool_return?: string }[]>('GET', `/v1/runs/${denied}/messages`);
    expect(messages.find((message) => message.message_type === 'tool_return_message')?.tool_return).toBe('Error: request to call tool denied. User reason: not true');

    await page.getByRole('link', { name: 'Open agent' }).click();
    expect(await text('[data-block="human"] pre')).toBe('Name: Bo\nPlays chess');
    await page.locator('#history [data-message-type="approval_response_message"]').first().waitFor(WAIT);

    await page.goto(`${stack.baseUrl}/ui/#/runs`);
    await page.locator(`tr[data-run-id="${denied}"]`).waitFor(WAIT);
    await screenshot('run-inspector-runs');
    // Everything the pages did ran within their Content-Security-Policy.
    expect(policyViolations).toEqual([]);
  });
});

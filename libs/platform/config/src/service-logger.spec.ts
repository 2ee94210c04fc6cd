import { Env } from './env';
import { serviceLogger } from './service-logger';

function captureStdout(work: () => void): string[] {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    work();
  } finally {
    process.stdout.write = original;
  }
  return lines.join('').split('\n').filter(Boolean);
}

describe('serviceLogger', () => {
  const runId = 'run-1b4e28ba-2fa1-41d2-883f-0016d3cca427';
  const agentId = 'agent-6ec0bd7f-11c0-43da-975e-2a8ad9ebae0b';

  it('writes one JSON object per line with LOG_FORMAT=json, naming the run and agent a line is about', () => {
    const logger = serviceLogger('llm-worker', new Env({ LOG_FORMAT: 'json', LOG_LEVEL: 'log' }));
    const [line] = captureStdout(() => logger.log(`step 1 of ${runId} for ${agentId}: done`, 'StepRequestedHandler'));
    expect(JSON.parse(line)).toMatchObject({
      level: 'log',
      service: 'llm-worker',
      context: 'StepRequestedHandler',
      message: `step 1 of ${runId} for ${agentId}: done`,
      run_id: runId,
      agent_id: agentId,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(captureStdout(() => logger.debug('hidden at LOG_LEVEL=log'))).toEqual([]);
  });

  it('writes text without colour codes when not on a terminal, and refuses an unknown format', () => {
    const [line] = captureStdout(() => serviceLogger('gateway', new Env({})).log('plain', 'Ctx'));
    expect(line).toContain('plain');
    expect(line).not.toMatch(/\u001b\[/);
    expect(() => serviceLogger('gateway', new Env({ LOG_FORMAT: 'xml' }))).toThrow(/LOG_FORMAT must be text or json/);
  });

  it("keeps Nest's start-up lines (routes, modules) out below LOG_LEVEL=debug", () => {
    const quiet = serviceLogger('gateway', new Env({ LOG_FORMAT: 'json' }));
    expect(captureStdout(() => quiet.log('Mapped {/v1/agents, GET} route', 'RouterExplorer'))).toEqual([]);
    expect(captureStdout(() => quiet.log('listening', 'Bootstrap'))).toHaveLength(1);
    const chatty = serviceLogger('gateway', new Env({ LOG_FORMAT: 'json', LOG_LEVEL: 'debug' }));
    expect(captureStdout(() => chatty.log('Mapped {/v1/agents, GET} route', 'RouterExplorer'))).toHaveLength(1);
  });
});

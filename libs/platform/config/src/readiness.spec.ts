import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ReadinessChecks, ReadinessModule, readiness } from './readiness';

describe('readiness', () => {
  it('is ready when every check answers, and names what failed or did not answer otherwise', async () => {
    await expect(readiness([{ name: 'a', check: async () => undefined }])).resolves.toEqual({ ready: true, checks: { a: 'ok' } });
    const result = await readiness(
      [
        { name: 'ok', check: async () => undefined },
        { name: 'down', check: async () => Promise.reject(new Error('connection refused')) },
        { name: 'hung', check: () => new Promise<void>(() => undefined) },
      ],
      50,
    );
    expect(result).toEqual({ ready: false, checks: { ok: 'ok', down: 'connection refused', hung: 'no answer within 50 ms' } });
  });
});

describe('ReadinessChecks', () => {
  // Two modules that own a dependency each, as the JetStream and read-model modules do.
  const owning = (name: string) => {
    @Module({ imports: [ReadinessModule], providers: [{ provide: `check:${name}`, inject: [ReadinessChecks], useFactory: (checks: ReadinessChecks) => checks.add({ name, check: async () => undefined }) }] })
    class Owner {}
    return Owner;
  };

  it('holds the checks of the modules a process is built of, one registry for all of them', async () => {
    @Module({ imports: [owning('nats'), owning('postgres')] })
    class Both {}
    @Module({ imports: [owning('nats')] })
    class NatsOnly {}
    for (const [root, names] of [[Both, ['nats', 'postgres']], [NatsOnly, ['nats']]] as const) {
      const app = await NestFactory.createApplicationContext(root, { logger: false });
      expect(app.get(ReadinessChecks, { strict: false }).all().map((check) => check.name)).toEqual(names);
      await app.close();
    }
  });
});

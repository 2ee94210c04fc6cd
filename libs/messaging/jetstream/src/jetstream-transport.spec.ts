import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { buildRunEvent, type AnyRunEvent } from '@lrs/contracts';
import { HandlerErrorsPassThrough, JetStreamTransport, onRunEvents } from './jetstream-transport';
import { RetryLater, type ConsumerRunnerOptions, type HandlerContext } from './consumer-runner';
import type { JetStreamLifecycle } from './jetstream.module';

const seen: string[] = [];

@Controller()
class StepsAndEnds {
  @EventPattern(onRunEvents('steps', 'StepRequested'))
  step(@Payload() event: AnyRunEvent, @Ctx() context: HandlerContext): void {
    seen.push(`${event.type}@${context.streamSeq}`);
  }

  @EventPattern(onRunEvents('ends', 'RunFinished', 'RunDeleted'))
  async end(@Payload() event: AnyRunEvent): Promise<void> {
    throw new RetryLater(1234, `not yet: ${event.runId}`);
  }
}

@Controller()
class Everything {
  @EventPattern(onRunEvents('all'))
  any(): void {}
}

@Controller()
class StepsAgain {
  @EventPattern(onRunEvents('steps', 'StepRequested'))
  step(): void {}
}

@Controller()
class Asking {
  @MessagePattern(onRunEvents('steps', 'StepRequested'))
  ask(): string {
    return 'answer';
  }
}

@Controller()
class Answering {
  @MessagePattern('questions')
  answer(@Payload() request: { n: number }): { ok: true; n: number } {
    if (request.n < 0) throw new Error('negative');
    return { ok: true, n: request.n * 2 };
  }
}

/** Stands in for a WorkerRequests subject: records the handler the transport serves it with. */
class Questions {
  readonly subject = 'questions';
  served: ((request: unknown) => Promise<unknown>) | null = null;
  serve(handler: (request: unknown) => Promise<unknown>): () => void {
    this.served = handler;
    return () => (this.served = null);
  }
}

/** Boots a module on the transport with a stand-in JetStream lifecycle that records the consumers started. */
async function boot(controllers: unknown[], consumers: string[], requests: Questions[] = []): Promise<{ app: INestMicroservice; started: ConsumerRunnerOptions[] }> {
  @Module({ controllers: controllers as never[] })
  class TestModule {}
  const started: ConsumerRunnerOptions[] = [];
  const lifecycle = { startConsumer: async (options: ConsumerRunnerOptions) => void started.push(options) } as unknown as JetStreamLifecycle;
  const transport = new JetStreamTransport(consumers.map((consumer) => ({ consumer, concurrency: 1, maxDeliver: 3 })));
  const app = await NestFactory.createMicroservice(TestModule, { strategy: transport, logger: false });
  app.useGlobalFilters(new HandlerErrorsPassThrough());
  transport.attach(lifecycle, requests as never[]);
  try {
    await app.listen();
  } catch (error) {
    await app.close();
    throw error;
  }
  return { app, started };
}

const event = (type: 'StepRequested' | 'RunFinished') =>
  ({ ...buildRunEvent({ runId: 'run-1', seq: 3, organizationId: 'org', agentId: 'agent', laneId: 'agent' }, type, {} as never), type }) as AnyRunEvent;
const context = (streamSeq: number): HandlerContext => ({ streamSeq, deliveryCount: 1, isLastAttempt: false, working: () => undefined });

describe('JetStreamTransport', () => {
  it("starts each declared consumer on the event types its handlers declare, and hands each event to its handler", async () => {
    const { app, started } = await boot([StepsAndEnds], ['steps', 'ends']);
    try {
      expect(started.map((options) => [options.consumer, options.eventTypes])).toEqual([
        ['steps', ['StepRequested']],
        ['ends', ['RunFinished', 'RunDeleted']],
      ]);
      await started[0].handler(event('StepRequested'), context(42));
      expect(seen).toContain('StepRequested@42');
    } finally {
      await app.close();
    }
  });

  it("passes a handler's error to the consumer runner as thrown, so a RetryLater keeps its delay", async () => {
    const { app, started } = await boot([StepsAndEnds], ['steps', 'ends']);
    try {
      const failure = started[1].handler(event('RunFinished'), context(7));
      await expect(failure).rejects.toBeInstanceOf(RetryLater);
      await expect(failure).rejects.toMatchObject({ delayMs: 1234 });
    } finally {
      await app.close();
    }
  });

  it('reads every event for a handler that names no type', async () => {
    const { app, started } = await boot([Everything], ['all']);
    try {
      expect(started.map((options) => options.eventTypes)).toEqual(['all']);
    } finally {
      await app.close();
    }
  });

  it('fails start-up when a declared consumer has no handler', async () => {
    await expect(boot([StepsAndEnds], ['steps', 'ends', 'forgotten'])).rejects.toThrow('declared consumers without a handler: forgotten');
  });

  it('fails start-up when a handler names a consumer the service does not declare', async () => {
    await expect(boot([StepsAndEnds], ['steps'])).rejects.toThrow('a handler of ends:RunFinished names no consumer this service declares');
  });

  it('fails start-up when two handlers claim the same event of a consumer', async () => {
    await expect(boot([StepsAndEnds, StepsAgain], ['steps', 'ends'])).rejects.toThrow('two handlers claim steps:StepRequested');
  });

  it('fails start-up on a request/reply pattern for a run-event consumer', async () => {
    await expect(boot([Asking], ['steps'])).rejects.toThrow('steps:StepRequested is a message pattern');
  });

  it('answers a request/reply subject with its @MessagePattern handler, errors as thrown, and stops serving at close', async () => {
    const questions = new Questions();
    const { app } = await boot([Answering, StepsAndEnds], ['steps', 'ends'], [questions]);
    await expect(questions.served!({ n: 21 })).resolves.toEqual({ ok: true, n: 42 });
    await expect(questions.served!({ n: -1 })).rejects.toThrow('negative');
    await app.close();
    expect(questions.served).toBeNull();
  });

  it('fails start-up when a declared request subject has no @MessagePattern handler', async () => {
    await expect(boot([StepsAndEnds], ['steps', 'ends'], [new Questions()])).rejects.toThrow('no @MessagePattern handler answers questions');
  });
});

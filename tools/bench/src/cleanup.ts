import { errorMessage, progress } from './util';

/**
 * Everything the bench started, stopped in reverse order exactly once: at the normal end, on a
 * failure, or on Ctrl-C / SIGTERM.
 */
export class Cleanup {
  private readonly steps: { name: string; run: () => Promise<void> | void }[] = [];
  private running: Promise<void> | null = null;

  add(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  /** Runs (and forgets) the most recently added step with this name, e.g. to stop services early. */
  async runNow(name: string): Promise<void> {
    const index = this.steps.map((step) => step.name).lastIndexOf(name);
    if (index === -1) return;
    const [step] = this.steps.splice(index, 1);
    await this.runStep(step);
  }

  runAll(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) await this.runStep(this.steps.pop()!);
    })();
    return this.running;
  }

  private async runStep(step: { name: string; run: () => Promise<void> | void }): Promise<void> {
    try {
      await withTimeout(Promise.resolve(step.run()), 30_000);
    } catch (error) {
      progress(`cleanup: ${step.name} failed: ${errorMessage(error)}`);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Polls `probe` with a short, growing pause until it yields a value or `maxWaitMs` passes.
 * Used where a service must see the read model catch up with an event it is handling.
 */
export async function pollUntil<T>(probe: () => Promise<T | null>, maxWaitMs: number): Promise<T | null> {
  const deadline = Date.now() + maxWaitMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

// Waiting for a state that arrives on its own schedule (a server noticing a
// cancellation, Redis coming back), by polling. These are functional waits,
// not timings: the limits are generous so a loaded machine stays green.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";

export interface PollOptions {
  /** Default 20 s. */
  readonly timeoutMs?: number;
  /** Pause between probes; default 50 ms. */
  readonly intervalMs?: number;
}

/** Probes until `done` holds for the value and returns it; fails naming `what` and the last value. */
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 20_000, intervalMs = 50 }: PollOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await sleep(intervalMs);
  }
}

/** Waits until `condition` holds; fails naming `what`. */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  options: PollOptions = {},
): Promise<void> {
  await eventually(what, condition, (holds) => holds, options);
}

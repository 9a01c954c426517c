// Delays for everything the guard does again: polling an owner on another
// replica, retrying a release or completion, retrying a renewal. Doubling
// from a floor to a cap, with "equal jitter" (half fixed, half random), so
// many waiters that started together spread out instead of arriving at the
// store in step.
import { setTimeout as sleep } from "node:timers/promises";

export interface Backoff {
  readonly minMs: number;
  readonly maxMs: number;
}

/** The delay before try number `attempt` (0 first). */
export function backoffDelayMs(backoff: Backoff, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Sleeps `ms`; false when `signal` ended the sleep early. */
export async function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await sleep(Math.max(0, ms), undefined, signal === undefined ? {} : { signal });
    return true;
  } catch {
    return false;
  }
}

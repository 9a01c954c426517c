// The guard's store writes that outlive the call they belong to: a release
// or completion whose first try failed is tried again, with backoff, until
// the store answers or the lease it protects is over (after that the record
// frees itself). Each is tracked, so shutdown can wait for them before it
// closes the store: a call cut by shutdown then leaves no claim behind.
import { setMaxListeners } from "node:events";
import type { Clock } from "../clock.js";
import { backoffDelayMs, pause } from "./backoff.js";
import { withTimeout } from "../util/with-timeout.js";

export interface PendingWrites {
  /**
   * Tries `write` until it resolves, `giveUpAt` (epoch ms) passes or the
   * guard closes; `write` is already bounded by the store timeout.
   * `failedBefore` counts tries already made (the first waits its backoff).
   * Resolves with the answer, or undefined when it gave up; never rejects.
   */
  retry<T>(
    write: () => Promise<T>,
    giveUpAt: () => number,
    onGiveUp: (error: unknown) => void,
    failedBefore?: number,
  ): Promise<T | undefined>;
  /** Keeps `work` counted until it settles. */
  track(work: Promise<unknown>): void;
  /** Resolves once nothing is pending or `timeoutMs` passed, with how many were still pending; then stops all retries. */
  settle(timeoutMs: number): Promise<number>;
  /** Aborted once settle() ended: loops stop at their next step. */
  readonly closing: AbortSignal;
}

const WRITE_BACKOFF = { minMs: 100, maxMs: 1_000 } as const;

export function createPendingWrites(clock: Clock): PendingWrites {
  const pending = new Set<Promise<unknown>>();
  const closing = new AbortController();
  // Every pending retry waits on it: many at once during an outage is normal.
  setMaxListeners(0, closing.signal);

  const track = (work: Promise<unknown>): void => {
    const tracked = work.then(
      () => undefined,
      () => undefined,
    );
    pending.add(tracked);
    void tracked.then(() => pending.delete(tracked));
  };

  return {
    closing: closing.signal,
    track,

    async retry<T>(
      write: () => Promise<T>,
      giveUpAt: () => number,
      onGiveUp: (error: unknown) => void,
      failedBefore = 0,
    ) {
      let lastError: unknown;
      for (let attempt = failedBefore; ; attempt += 1) {
        if (attempt > 0) {
          const delay = backoffDelayMs(WRITE_BACKOFF, attempt - 1);
          if (closing.signal.aborted || clock.now() + delay >= giveUpAt() || !(await pause(delay, closing.signal))) {
            onGiveUp(lastError);
            return undefined;
          }
        }
        try {
          return await write();
        } catch (error) {
          lastError = error;
        }
      }
    },

    async settle(timeoutMs: number): Promise<number> {
      const deadline = clock.now() + timeoutMs;
      // Settling work can start more (a completion's retry), so look again until none is left.
      while (pending.size > 0) {
        const left = deadline - clock.now();
        if (left <= 0) break;
        await withTimeout(
          Promise.allSettled([...pending]).then(() => undefined),
          left,
          () => undefined,
        );
      }
      closing.abort();
      return pending.size;
    },
  };
}

// The owner's heartbeat. A claim's lease is short, so a crashed owner's
// token is free again within one lease; a live owner renews it every
// interval while its call runs and until its final write is done. The lease
// is known to last until the send time of the last renewal that succeeded
// plus the lease (the store counts from when it receives the renewal, which
// is no earlier). One interval before that point, with no renewal through,
// the lease is given up and `lost` is aborted: the backend call stops while
// the store still holds the token for it, so a duplicate can never take over
// a call that is still running.
//
// Timers alone cannot keep that promise: a process paused (SIGSTOP, a long GC
// pause, a frozen VM) past its lease wakes with its timers due in any order,
// and an SDK retry may fire before the cut. So `held()` is asked right before
// every send to AWS: it measures, on the monotonic clock, from the send time
// of the last renewal the store confirmed, and gives the lease up when less
// than one interval is left (the line where the cut timer would have fired).
import { monotonicNow, type Clock } from "../clock.js";
import { backoffDelayMs } from "./backoff.js";
import type { RenewResult } from "./store.js";

export interface LeaseHeartbeat {
  /** Aborted, with a TimeoutError reason the backends read as a deadline, once the lease is lost. */
  readonly lost: AbortSignal;
  /** Epoch ms until which the lease certainly lasts (by the local clock). */
  knownUntil(): number;
  /**
   * Whether a send to AWS may start now: the lease lasts, by the monotonic
   * clock, at least one renewal interval more. When it does not, the lease
   * is given up first (`lost` aborts), so the call ends as lease-lost.
   */
  held(): boolean;
  /** Gives the lease up now, as if a renewal had failed: the call stops. */
  cut(reason: string): void;
  /** Stops renewing; the lease then runs out on its own, unless written over first. */
  stop(): void;
}

export interface LeaseHeartbeatOptions {
  /** One renewal through the store, already bounded by the store timeout. */
  readonly renew: () => Promise<RenewResult>;
  readonly clock: Clock;
  readonly leaseMs: number;
  readonly intervalMs: number;
  /** When the claim that granted the lease was sent. */
  readonly grantedAt: number;
  /** Why the lease was lost, for the log. */
  readonly onLost: (reason: string, error?: unknown) => void;
  /** Called when a renewal found the record gone and wrote it again. */
  readonly onRestored: () => void;
}

/** Retries of a failed renewal, well inside one interval. */
const RETRY_BACKOFF = { minMs: 50, maxMs: 400 } as const;

export function startLeaseHeartbeat(options: LeaseHeartbeatOptions): LeaseHeartbeat {
  const { clock, leaseMs, intervalMs } = options;
  const lost = new AbortController();
  // Plain state and timers rather than signals: most calls end long before
  // their first renewal is due, and stopping must cost them next to nothing.
  let stopped = false;
  let knownUntil = options.grantedAt + leaseMs;
  // The same point on the monotonic clock; the grant was sent a moment ago, by the wall clock.
  let heldUntil = monotonicNow(clock) - Math.max(0, clock.now() - options.grantedAt) + leaseMs;
  let cutTimer: NodeJS.Timeout | undefined;
  let waitTimer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;

  /** Resolves after `ms`, or at once when the heartbeat stops or the lease is lost; false then. */
  const waitFor = (ms: number): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      if (stopped || lost.signal.aborted) return resolve(false);
      wake = () => resolve(false);
      waitTimer = setTimeout(
        () => {
          wake = undefined;
          resolve(!stopped && !lost.signal.aborted);
        },
        Math.max(0, ms),
      );
    });

  const interrupt = (): void => {
    clearTimeout(waitTimer);
    wake?.();
    wake = undefined;
  };

  const lose = (reason: string, error?: unknown): void => {
    if (lost.signal.aborted || stopped) return;
    clearTimeout(cutTimer);
    options.onLost(reason, error);
    lost.abort(new DOMException(`the idempotency lease was lost: ${reason}`, "TimeoutError"));
    interrupt();
  };

  let lastError: unknown;
  const armCut = (): void => {
    clearTimeout(cutTimer);
    const cutInMs = knownUntil - intervalMs - clock.now();
    cutTimer = setTimeout(() => lose("it could not be renewed in time", lastError), Math.max(0, cutInMs));
  };

  const beat = async (): Promise<void> => {
    let next = options.grantedAt + intervalMs;
    let failures = 0;
    for (;;) {
      if (!(await waitFor(next - clock.now()))) return;
      const sentAt = clock.now();
      const sentAtMonotonic = monotonicNow(clock);
      let result: RenewResult;
      try {
        result = await options.renew();
      } catch (error) {
        lastError = error;
        next = clock.now() + backoffDelayMs(RETRY_BACKOFF, failures);
        failures += 1;
        continue;
      }
      if (result === "not_owner" || result === "already_completed") {
        lose(result === "not_owner" ? "another call took the token over" : "another call completed the token");
        return;
      }
      if (result === "restored") options.onRestored();
      failures = 0;
      lastError = undefined;
      knownUntil = sentAt + leaseMs;
      heldUntil = sentAtMonotonic + leaseMs;
      next = sentAt + intervalMs;
      if (!lost.signal.aborted && !stopped) armCut();
    }
  };

  armCut();
  void beat();
  return {
    lost: lost.signal,
    knownUntil: () => knownUntil,
    held() {
      if (lost.signal.aborted) return false;
      if (monotonicNow(clock) < heldUntil - intervalMs) return true;
      lose("its lease ran out before a send to AWS (the process was paused, or its timers ran late)");
      return false;
    },
    cut: (reason) => lose(reason),
    stop() {
      stopped = true;
      clearTimeout(cutTimer);
      interrupt();
    },
  };
}

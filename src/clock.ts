// The Clock port: injected instead of faked timers, so real sockets keep
// working in tests while time-dependent logic stays deterministic.

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Milliseconds on a monotonic clock (performance.now()), for spans that
   * must not move with the wall clock: the lease held before a send to AWS.
   * Absent on manual test clocks, where now() (which moves only when told)
   * stands in.
   */
  monotonic?(): number;
}

export const systemClock: Clock = { now: () => Date.now(), monotonic: () => performance.now() };

/** The clock's monotonic reading, or now() for a clock without one. */
export function monotonicNow(clock: Clock): number {
  return clock.monotonic?.() ?? clock.now();
}

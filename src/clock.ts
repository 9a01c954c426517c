// The Clock port: injected instead of faked timers, so real sockets keep
// working in tests while time-dependent logic stays deterministic.

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

// A Clock that moves only when the test says so.
import type { Clock } from "../../src/clock.js";

export interface ManualClock extends Clock {
  advance(ms: number): void;
}

export function manualClock(start = Date.parse("2025-03-01T12:00:00Z")): ManualClock {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

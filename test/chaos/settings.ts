// The drill's two sizes: the short one `npm test` runs, and the defaults of
// `npm run chaos` (bench/chaos.ts), which --duration and --seed change.
import type { DrillOptions } from "./drill.js";

const rates = {
  throttle: 0.08,
  throttleThenPause: 0.05,
  serverErrorAfterExecution: 0.1,
  dropAfterExecution: 0.06,
} as const;

export const SHORT_DRILL: DrillOptions = {
  seed: 18,
  durationMs: 20_000,
  replicas: 3,
  lanes: 6,
  rates,
  killEveryMs: 7_000,
  failoverEveryMs: 24_000,
};

export const LONG_DRILL: DrillOptions = {
  seed: 18,
  durationMs: 90_000,
  replicas: 3,
  lanes: 8,
  rates,
  killEveryMs: 9_000,
  failoverEveryMs: 30_000,
};

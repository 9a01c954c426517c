// What one measured round of load yields, whichever generator drove it.

/** What a load generator reports of one run. */
export interface LoadOutcome {
  /** Calls that succeeded (HTTP 2xx; for gRPC see load/h2load.ts). */
  readonly succeeded: number;
  /** Calls that failed: non-2xx, transport errors, timeouts. */
  readonly failed: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** What the first failed call answered, when the generator can tell. */
  readonly firstFailure?: string | undefined;
}

export interface RoundResult extends LoadOutcome {
  /** Highest VmRSS of the serving process during the round. */
  readonly peakRssBytes: number;
}

/** One run of a generator against one server. */
export interface GeneratorRun<L> {
  readonly baseUrl: string;
  readonly load: L;
  readonly length: RoundLength;
  readonly headers?: Readonly<Record<string, string>>;
}

export type RoundLength =
  { readonly kind: "duration"; readonly seconds: number } | { readonly kind: "count"; readonly requests: number };

/** Nearest-rank percentile of ascending `sorted` values; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Collects latencies without boxing each one. */
export function createLatencyRecorder(): { add(ms: number): void; sorted(): Float64Array } {
  let values = new Float64Array(1 << 16);
  let size = 0;
  return {
    add(ms) {
      if (size === values.length) {
        const grown = new Float64Array(values.length * 2);
        grown.set(values);
        values = grown;
      }
      values[size++] = ms;
    },
    sorted: () => values.slice(0, size).sort(),
  };
}

// Two sides measured in alternating rounds (R S R S R S) so that drift of a
// shared, busy machine lands on both alike. A ratio is the median of the
// per-pair ratios subject/reference, never a ratio of medians taken at
// different times.
import { runRound, warmUp, type Load } from "./load/drive.js";
import type { RoundLength, RoundResult } from "./load/round.js";
import type { ServerUnderTest } from "./servers.js";

export interface Side {
  readonly label: string;
  readonly server: ServerUnderTest;
  readonly load: Load;
  readonly headers?: Readonly<Record<string, string>>;
  /** Runs after each warm-up and round, outside the measured time (e.g. undoing what a cut-off round left). */
  readonly afterRound?: () => Promise<void>;
}

export interface Pacing {
  readonly pairs: number;
  readonly roundSeconds: number;
  readonly warmUpSeconds: number;
}

export interface SideSummary {
  readonly label: string;
  readonly rounds: readonly RoundResult[];
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly peakRssBytes: number;
  readonly failed: number;
}

export interface ComparisonResult {
  readonly reference: SideSummary;
  readonly subject: SideSummary;
  /** subject/reference requests per second, per pair. */
  readonly ratios: readonly number[];
  readonly ratio: number;
  /** subject p99 minus reference p99, per pair, median. */
  readonly p99DeltaMs: number;
}

export async function compareAlternating(reference: Side, subject: Side, pacing: Pacing): Promise<ComparisonResult> {
  const length: RoundLength = { kind: "duration", seconds: pacing.roundSeconds };
  for (const side of [reference, subject]) {
    await warmUp(side.server, side.load, pacing.warmUpSeconds, optionsOf(side));
    await side.afterRound?.();
  }
  const round = async (side: Side): Promise<RoundResult> => {
    const result = await runRound(side.server, side.load, length, optionsOf(side));
    await side.afterRound?.();
    return result;
  };
  const referenceRounds: RoundResult[] = [];
  const subjectRounds: RoundResult[] = [];
  for (let pair = 0; pair < pacing.pairs; pair++) {
    referenceRounds.push(await round(reference));
    subjectRounds.push(await round(subject));
  }
  const ratios = subjectRounds.map(
    (s, i) => s.requestsPerSecond / (referenceRounds[i]?.requestsPerSecond ?? Number.NaN),
  );
  const deltas = subjectRounds.map((s, i) => s.p99Ms - (referenceRounds[i]?.p99Ms ?? Number.NaN));
  return {
    reference: summarize(reference.label, referenceRounds),
    subject: summarize(subject.label, subjectRounds),
    ratios,
    ratio: median(ratios),
    p99DeltaMs: median(deltas),
  };
}

function optionsOf(side: Side): { headers?: Readonly<Record<string, string>> } {
  return side.headers === undefined ? {} : { headers: side.headers };
}

export function summarize(label: string, rounds: readonly RoundResult[]): SideSummary {
  return {
    label,
    rounds,
    requestsPerSecond: median(rounds.map((r) => r.requestsPerSecond)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    peakRssBytes: Math.max(0, ...rounds.map((r) => r.peakRssBytes)),
    failed: rounds.reduce((sum, r) => sum + r.failed, 0),
  };
}

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

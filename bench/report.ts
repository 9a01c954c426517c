// What a scenario reports, and how it is printed: a table per scenario, a
// summary line per scenario, and the JSON file of the whole run.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ComparisonResult, SideSummary } from "./compare.js";
import type { MachineInfo } from "./machine.js";
import { megabytes } from "./rss.js";
import type { TargetResult } from "./targets.js";

export type Column = "req/s" | "p50 ms" | "p99 ms" | "peak RSS MB" | "failed" | "calls" | "RSS MB" | "start ms";

export interface Row {
  readonly label: string;
  readonly values: Partial<Record<Column, number>>;
}

export interface Ratio {
  /** e.g. "gateway/baseline req/s". */
  readonly label: string;
  readonly value: number;
  readonly perPair: readonly number[];
}

export interface ScenarioReport {
  readonly id: string;
  readonly title: string;
  /** What is compared with what, in one sentence. */
  readonly measures: string;
  /** Generator and its shape: "h2load, 4 clients x 16 streams, 3 pairs of 4 s". */
  readonly generator: string;
  readonly columns: readonly Column[];
  readonly rows: readonly Row[];
  readonly ratio?: Ratio | undefined;
  /** Subject p99 minus reference p99 (median of pairs). */
  readonly p99DeltaMs?: number | undefined;
  readonly notes: readonly string[];
  /** Why it did not run; then rows are empty. */
  readonly skipped?: string | undefined;
  /** What went wrong when it could not finish (a server that did not start, a sample call that failed). */
  readonly error?: string | undefined;
}

export interface ScenarioHeading {
  readonly id: string;
  readonly title: string;
  readonly measures: string;
  readonly generator: string;
}

export const throughputColumns: readonly Column[] = ["req/s", "p50 ms", "p99 ms", "peak RSS MB", "failed"];

export function sideRow(side: SideSummary): Row {
  return {
    label: side.label,
    values: {
      "req/s": side.requestsPerSecond,
      "p50 ms": side.p50Ms,
      "p99 ms": side.p99Ms,
      "peak RSS MB": megabytes(side.peakRssBytes),
      failed: side.failed,
    },
  };
}

export function comparisonReport(
  heading: ScenarioHeading,
  ratioLabel: string,
  result: ComparisonResult,
  notes: readonly string[] = [],
): ScenarioReport {
  const failed = result.reference.failed + result.subject.failed;
  const why = [result.reference, result.subject]
    .flatMap((side) =>
      side.rounds.map((round) =>
        round.firstFailure === undefined ? undefined : `${side.label}: ${round.firstFailure}`,
      ),
    )
    .find((text) => text !== undefined);
  return {
    ...heading,
    columns: throughputColumns,
    rows: [sideRow(result.reference), sideRow(result.subject)],
    ratio: { label: ratioLabel, value: result.ratio, perPair: result.ratios },
    p99DeltaMs: result.p99DeltaMs,
    notes:
      failed > 0
        ? [...notes, `${failed} calls failed: the figures are not valid${why === undefined ? "" : `; first: ${why}`}`]
        : notes,
  };
}

export function skippedReport(heading: ScenarioHeading, reason: string): ScenarioReport {
  return { ...heading, columns: [], rows: [], notes: [], skipped: reason };
}

export function failedReport(id: string, error: unknown): ScenarioReport {
  const message = error instanceof Error ? error.message : String(error);
  return { id, title: id, measures: "", generator: "", columns: [], rows: [], notes: [], error: message };
}

function formatValue(column: Column, value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "-";
  switch (column) {
    case "req/s":
    case "failed":
    case "calls":
    case "start ms":
      return Math.round(value).toLocaleString("en-US");
    case "p50 ms":
    case "p99 ms":
      return value.toFixed(2);
    case "peak RSS MB":
    case "RSS MB":
      return value.toFixed(1);
  }
}

export function formatRatio(value: number): string {
  return Number.isNaN(value) ? "-" : value.toFixed(2);
}

export function formatScenario(report: ScenarioReport): string {
  const lines = [`\n== ${report.title} [${report.id}]`, `   ${report.measures}`];
  if (report.error !== undefined) return [...lines, `   FAILED: ${report.error.replace(/\n/g, "\n   ")}`].join("\n");
  if (report.skipped !== undefined) return [...lines, `   SKIPPED: ${report.skipped}`].join("\n");
  lines.push(`   ${report.generator}`);
  const header = ["", ...report.columns];
  const body = report.rows.map((row) => [row.label, ...report.columns.map((c) => formatValue(c, row.values[c]))]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((cells) => (cells[i] ?? "").length)));
  for (const cells of [header, ...body]) {
    lines.push(
      "   " +
        cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  "),
    );
  }
  if (report.ratio !== undefined) {
    lines.push(
      `   ${report.ratio.label}: ${formatRatio(report.ratio.value)} (per pair: ${report.ratio.perPair.map(formatRatio).join(" ")})`,
    );
  }
  if (report.p99DeltaMs !== undefined)
    lines.push(`   p99 difference: ${report.p99DeltaMs >= 0 ? "+" : ""}${report.p99DeltaMs.toFixed(2)} ms`);
  for (const note of report.notes) lines.push(`   note: ${note}`);
  return lines.join("\n");
}

/** One line per scenario: the table docs/performance.md shows. */
export function formatSummary(reports: readonly ScenarioReport[]): string {
  const lines = ["\n== Summary", "   scenario                         ratio    meaning"];
  for (const r of reports) {
    const ratio =
      r.error !== undefined
        ? "FAILED"
        : r.skipped !== undefined
          ? "skipped"
          : r.ratio === undefined
            ? "-"
            : formatRatio(r.ratio.value);
    const meaning = r.error?.split("\n")[0] ?? r.skipped ?? r.ratio?.label ?? "";
    lines.push(`   ${r.id.padEnd(32)} ${ratio.padStart(7)}  ${meaning}`);
  }
  return lines.join("\n");
}

export function formatTargets(targets: readonly TargetResult[]): string {
  const lines = ["\n== Targets (issue 11 item 3)"];
  for (const t of targets) {
    lines.push(`   [${t.status}] ${t.target}: ${t.measured}${t.note === undefined ? "" : ` (${t.note})`}`);
  }
  return lines.join("\n");
}

export function formatMachine(machine: MachineInfo): string {
  return [
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(0)} GiB; node ${machine.node}; ${machine.h2load ?? "h2load missing"}; autocannon ${machine.autocannon}`,
    `date: ${machine.date}; load average at start ${machine.loadAverage.map((l) => l.toFixed(2)).join(" ")}`,
  ].join("\n");
}

export interface RunRecord {
  readonly mode: "quick" | "full";
  readonly machine: MachineInfo;
  readonly finishedAt: string;
  readonly loadAverageAtEnd: readonly number[];
  readonly startCommand: string;
  readonly scenarios: readonly ScenarioReport[];
  readonly targets: readonly TargetResult[];
}

/** bench/results/<timestamp>.json (git-ignored). */
export async function writeRunRecord(dir: string, record: RunRecord): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${record.machine.date.replace(/[:.]/g, "-")}.json`);
  await writeFile(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}

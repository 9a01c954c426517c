// A node:test reporter that prints, after the spec output, what a person
// needs at the end of a long run: every skipped test with its file and
// reason (the REQUIRE_* variable that would make it a failure), the failed
// tests' names again, and the slowest files (how test/support/tiers.ts is
// kept honest). Used by test/support/run-tests.ts next to the spec reporter.
import { relative } from "node:path";
import type { TestEvent } from "node:test/reporters";

interface Entry {
  readonly file: string;
  readonly name: string;
  readonly reason: string;
}

const root = new URL("../../", import.meta.url).pathname;

function fileOf(data: { file?: string | undefined }): string {
  return data.file === undefined ? "(unknown file)" : relative(root, data.file);
}

export default async function* summaryReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const skipped: Entry[] = [];
  const failed: Entry[] = [];
  const fileMs = new Map<string, number>();
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const data = event.data;
    const file = fileOf(data);
    if (data.nesting === 0) fileMs.set(file, (fileMs.get(file) ?? 0) + (data.details.duration_ms ?? 0));
    if (data.skip !== undefined) {
      skipped.push({ file, name: data.name, reason: typeof data.skip === "string" ? data.skip : "(no reason given)" });
    } else if (event.type === "test:fail") {
      const error = "error" in data.details ? data.details.error : undefined;
      if (!isParentOfFailure(error)) failed.push({ file, name: data.name, reason: firstLine(error) });
    }
  }
  const lines = ["", "=== summary"];
  lines.push(skipped.length === 0 ? "skipped: none" : `skipped: ${skipped.length}`);
  for (const entry of skipped) lines.push(`  - ${entry.file}: ${entry.name}`, `      why: ${entry.reason}`);
  if (failed.length > 0) {
    lines.push(`failed: ${failed.length}`);
    for (const entry of failed) lines.push(`  - ${entry.file}: ${entry.name}`, `      ${entry.reason}`);
  }
  const slowest = [...fileMs].sort((a, b) => b[1] - a[1]).slice(0, 12);
  lines.push("slowest files (sum of their top-level tests):");
  for (const [file, ms] of slowest) lines.push(`  ${(ms / 1000).toFixed(1).padStart(7)} s  ${file}`);
  yield lines.join("\n") + "\n";
}

/** node:test fails a suite whose subtest failed ("1 subtest failed"): the subtest is the one to name. */
function isParentOfFailure(error: unknown): boolean {
  return (error as { failureType?: unknown } | undefined)?.failureType === "subtestsFailed";
}

function firstLine(error: unknown): string {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error;
  const text = cause instanceof Error ? cause.message : String(cause);
  return text.split("\n")[0] ?? "";
}

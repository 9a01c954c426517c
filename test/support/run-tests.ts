// `npm test` / `npm run test:fast` / `npm run test:slow`: the files of a tier
// (test/support/tiers.ts) under node --test with the spec reporter, then the
// summary reporter's lines (skips and why, failures, slowest files) once the
// spec output has ended, so they are the last thing on the screen.
// Usage: node --import tsx test/support/run-tests.ts [fast|slow|all] [extra node --test options]
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testFiles, type Tier } from "./tiers.js";

const [tierArg = "all", ...extra] = process.argv.slice(2);
if (tierArg !== "fast" && tierArg !== "slow" && tierArg !== "all") {
  process.stderr.write(`run-tests: tier "${tierArg}" is not valid: expected fast, slow or all\n`);
  process.exit(2);
}
const tier: Tier = tierArg;
const files = testFiles(tier);
const scratch = await mkdtemp(join(tmpdir(), "pg-test-summary-"));
const summaryFile = join(scratch, "summary.txt");
const reporter = fileURLToPath(new URL("./summary-reporter.ts", import.meta.url));
const started = Date.now();
const child = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    "--test-timeout=300000",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    `--test-reporter=${reporter}`,
    `--test-reporter-destination=${summaryFile}`,
    ...extra,
    ...files,
  ],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
const code = await new Promise<number>((resolve) => child.on("close", (status) => resolve(status ?? 1)));
const summary = await readFile(summaryFile, "utf8").catch(() => "(no summary: the run stopped early)\n");
await rm(scratch, { recursive: true, force: true });
process.stdout.write(summary);
process.stdout.write(
  `tier: ${tier} (${files.length} files), ${((Date.now() - started) / 1000).toFixed(0)} s, exit ${code}\n`,
);
process.exit(code);

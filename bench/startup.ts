// Start-up, as an operator sees it: from spawning the process to the first
// served call (a Connect JSON ListRamPermissions to the port its listening
// line names, retried until it answers), on the embedded default (fake backend, in-memory store). Launchers are
// interleaved in rounds so machine noise lands on all of them alike.
//
//   npm run bench:startup                        # builds dist/, then 15 runs per launcher
//   BENCH_STARTUP_RUNS=30 npm run bench:startup
//
// Launchers: `node dist/src/main.js` (what `npm start` execs), `npm start`
// itself (npm's own start-up included, for reference) and `tsx src/main.ts`
// (what `npm start` ran before the build: compiling TypeScript at start-up).
import { access } from "node:fs/promises";
import { join } from "node:path";
import { waitUntilServing, repoRoot, spawnGateway, type Launcher } from "../test/process/gateway-process.js";

const runs = Number(process.env["BENCH_STARTUP_RUNS"] ?? 15);
const launchers: { label: string; launcher: Launcher }[] = [
  { label: "node dist/src/main.js", launcher: "node" },
  { label: "npm start", launcher: "npm" },
  { label: "tsx src/main.ts", launcher: "tsx-cli" },
];

/** Milliseconds from spawn to the first 200, then a SIGTERM that must end it with 0. */
async function measureOnce(launcher: Launcher): Promise<number> {
  const started = performance.now();
  // PORT=0: the port comes from the listening line, so no other process can take it first.
  const gateway = spawnGateway(launcher, { PORT: "0" });
  try {
    await waitUntilServing(gateway);
  } catch (error) {
    gateway.kill();
    throw error;
  }
  const elapsed = performance.now() - started;
  gateway.child.kill("SIGTERM");
  const exit = await gateway.exited;
  if (exit.code !== 0) throw new Error(`${launcher}: exit ${JSON.stringify(exit)} after SIGTERM: ${gateway.output().stderr}`);
  return elapsed;
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

async function main(): Promise<void> {
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`BENCH_STARTUP_RUNS must be a whole number >= 1, got ${process.env["BENCH_STARTUP_RUNS"]}`);
  await access(join(repoRoot, "dist/src/main.js")).catch(() => {
    throw new Error("dist/src/main.js is missing: run `npm run build` first (npm run bench:startup does)");
  });
  const samples = new Map<Launcher, number[]>(launchers.map(({ launcher }) => [launcher, []]));
  for (const { launcher } of launchers) await measureOnce(launcher); // warm-up: page cache, npm's own files
  for (let round = 0; round < runs; round++) {
    for (const { launcher } of launchers) samples.get(launcher)?.push(await measureOnce(launcher));
  }
  console.log(`process start -> first served call, embedded default, ${runs} runs each (ms)`);
  console.log(`${"launcher".padEnd(24)} ${"median".padStart(7)} ${"p90".padStart(7)} ${"min".padStart(7)} ${"max".padStart(7)}`);
  for (const { label, launcher } of launchers) {
    const sorted = [...(samples.get(launcher) ?? [])].sort((a, b) => a - b);
    const cells = [percentile(sorted, 50), percentile(sorted, 90), sorted[0] ?? Number.NaN, sorted.at(-1) ?? Number.NaN];
    console.log(`${label.padEnd(24)} ${cells.map((ms) => ms.toFixed(0).padStart(7)).join(" ")}`);
  }
}

await main();

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
import { execFileSync } from "node:child_process";
import { access, readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import {
  childProcesses,
  repoRoot,
  spawnGateway,
  waitUntilServing,
  type Launcher,
} from "../test/process/gateway-process.js";

const runs = Number(process.env["BENCH_STARTUP_RUNS"] ?? 15);
const launchers: { label: string; launcher: Launcher }[] = [
  { label: "node dist/src/main.js", launcher: "node" },
  { label: "npm start", launcher: "npm" },
  { label: "tsx src/main.ts", launcher: "tsx-cli" },
];

interface Sample {
  /** Wall clock, spawn to the first 200. */
  readonly wallMs: number;
  /** CPU time the process tree (npm, tsx, node) had used by then: what a loaded machine changes least. */
  readonly cpuMs: number;
}

const clockTicksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** user + system CPU of `pid` and its descendants so far (Linux /proc), in ms. */
async function treeCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of stat(5), so 11 and 12 after the command name.
  const own = ((Number(fields[11]) || 0) + (Number(fields[12]) || 0)) * (1000 / clockTicksPerSecond);
  const children = await Promise.all((await childProcesses(pid)).map((child) => treeCpuMs(child.pid)));
  return children.reduce((sum, ms) => sum + ms, own);
}

/** Spawn to the first 200 (and the CPU spent), then a SIGTERM that must end it with 0. */
async function measureOnce(launcher: Launcher): Promise<Sample> {
  const started = performance.now();
  // PORT=0: the port comes from the listening line, so no other process can take it first.
  const gateway = spawnGateway(launcher, { PORT: "0" });
  try {
    await waitUntilServing(gateway);
  } catch (error) {
    gateway.kill();
    throw error;
  }
  const wallMs = performance.now() - started;
  const cpuMs = await treeCpuMs(gateway.child.pid ?? 0);
  gateway.child.kill("SIGTERM");
  const exit = await gateway.exited;
  if (exit.code !== 0)
    throw new Error(`${launcher}: exit ${JSON.stringify(exit)} after SIGTERM: ${gateway.output().stderr}`);
  return { wallMs, cpuMs };
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

function printTable(title: string, samples: ReadonlyMap<Launcher, readonly number[]>): void {
  console.log(title);
  console.log(`${"launcher".padEnd(24)} ${["median", "p90", "min", "max"].map((h) => h.padStart(7)).join(" ")}`);
  for (const { label, launcher } of launchers) {
    const sorted = [...(samples.get(launcher) ?? [])].sort((a, b) => a - b);
    const cells = [
      percentile(sorted, 50),
      percentile(sorted, 90),
      sorted[0] ?? Number.NaN,
      sorted.at(-1) ?? Number.NaN,
    ];
    console.log(`${label.padEnd(24)} ${cells.map((ms) => ms.toFixed(0).padStart(7)).join(" ")}`);
  }
}

async function main(): Promise<void> {
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`BENCH_STARTUP_RUNS must be a whole number >= 1, got ${process.env["BENCH_STARTUP_RUNS"]}`);
  await access(join(repoRoot, "dist/src/main.js")).catch(() => {
    throw new Error("dist/src/main.js is missing: run `npm run build` first (npm run bench:startup does)");
  });
  const wall = new Map<Launcher, number[]>(launchers.map(({ launcher }) => [launcher, []]));
  const cpu = new Map<Launcher, number[]>(launchers.map(({ launcher }) => [launcher, []]));
  for (const { launcher } of launchers) await measureOnce(launcher); // warm-up: page cache, npm's own files
  for (let round = 0; round < runs; round++) {
    for (const { launcher } of launchers) {
      const sample = await measureOnce(launcher);
      wall.get(launcher)?.push(sample.wallMs);
      cpu.get(launcher)?.push(sample.cpuMs);
    }
  }
  const load = loadavg()[0]?.toFixed(1) ?? "?";
  printTable(
    `process start -> first served call, embedded default, ${runs} runs each, wall clock (ms; load average ${load})`,
    wall,
  );
  printTable("CPU time of the process tree by then (ms, user + system)", cpu);
}

await main();

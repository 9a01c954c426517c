// npm run bench: the gateway, started as `npm start` runs it, against a bare
// connect-node server for the same service, driven by the same load
// generators (h2load for gRPC, autocannon for Connect JSON) in alternating
// rounds. Speed is a ratio to the baseline of the same run, never an
// absolute promise. Prints a table per scenario, a summary, the targets of
// issue 11 item 3 (met / not met; a run never fails on them) and the
// machine, and writes the whole run to bench/results/<time>.json.
//
//   npm run bench                 # the full run (under ten minutes on an idle 2-core machine)
//   npm run bench -- --quick      # every scenario with short rounds (a smoke run)
//   npm run bench -- --cpu-prof   # every gateway under V8's CPU profiler
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describeMachine } from "./machine.js";
import { BenchOptionsError, benchUsage, parseBenchOptions, plans } from "./options.js";
import { labelProfiles } from "./processes/profiles.js";
import { missingEntry, readStartCommand } from "./processes/launch.js";
import { formatMachine, formatSummary, formatTargets, writeRunRecord, type ScenarioReport } from "./report.js";
import { createContext } from "./scenarios/context.js";
import { scenarioGroups, scenarioIds } from "./scenarios/index.js";
import { evaluateTargets } from "./targets.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

async function main(argv: readonly string[]): Promise<number> {
  const machine = describeMachine(root);
  const stamp = machine.date.replace(/[:.]/g, "-");
  let options;
  try {
    options = parseBenchOptions(argv, scenarioIds, join(root, "bench", "results", `profiles-${stamp}`));
  } catch (error) {
    if (!(error instanceof BenchOptionsError)) throw error;
    process.stderr.write(`bench: ${error.message}\n\n${benchUsage}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(benchUsage);
    return 0;
  }
  const plan = plans[options.mode];
  const start = await readStartCommand(root);
  const notBuilt = missingEntry(root, start);
  if (notBuilt !== undefined) {
    process.stderr.write(`bench: ${notBuilt}\n`);
    return 2;
  }
  const startText = [
    ...Object.entries(start.env).map(([k, v]) => `${k}=${v}`),
    start.launcher,
    ...start.flags,
    ...start.args,
  ].join(" ");
  process.stdout.write(
    `permission-gateway bench (${options.mode}); the gateway runs as npm start does: ${startText}\n${formatMachine(machine)}\n`,
  );
  if (options.cpuProfDir !== undefined)
    process.stdout.write(`CPU profiles of every gateway go to ${options.cpuProfDir}\n`);

  const tmpDir = await mkdtemp(join(tmpdir(), "pg-bench-"));
  const reports: ScenarioReport[] = [];
  const profiled = new Map<number, string>();
  const ctx = createContext({ root, start, plan, options, tmpDir, reports, profiled });
  const began = Date.now();
  let failures = 0;
  try {
    for (const group of scenarioGroups) {
      // A scenario that cannot run is reported, and the others still run.
      try {
        await group.run(ctx);
      } catch (error) {
        failures++;
        const ran = new Set(reports.map((r) => r.id));
        for (const id of group.ids.filter((id) => ctx.wants(id) && !ran.has(id))) ctx.fail(id, error);
      }
    }
  } finally {
    await ctx.close();
    await rm(tmpDir, { recursive: true, force: true });
  }

  const targets = evaluateTargets(reports, options.mode);
  process.stdout.write(`${formatSummary(reports)}\n${formatTargets(targets)}\n\n${formatMachine(machine)}\n`);
  const file = await writeRunRecord(join(root, "bench", "results"), {
    mode: options.mode,
    machine,
    finishedAt: new Date().toISOString(),
    loadAverageAtEnd: loadavg(),
    startCommand: startText,
    scenarios: reports,
    targets,
  });
  process.stdout.write(`took ${((Date.now() - began) / 1000).toFixed(0)} s; results written to ${file}\n`);
  if (options.cpuProfDir !== undefined) {
    for (const path of await labelProfiles(options.cpuProfDir, profiled))
      process.stdout.write(`CPU profile: ${path}\n`);
  }
  return failures > 0 ? 1 : 0;
}

// Exit at once: a keep-alive connection of a sample call must not hold the run open.
process.exit(await main(process.argv.slice(2)));

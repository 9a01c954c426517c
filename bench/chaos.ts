// `npm run chaos [-- --duration 90 --seed 18 --replicas 3 --lanes 8]`: the
// long chaos drill (test/chaos/drill.ts), with its figures: operations,
// faults injected by kind, double executions, wrong answers, lost
// successes. Exits 1 when any of the last three is not zero. Needs
// redis-server and redis-sentinel; all traffic stays on loopback.
import { parseArgs } from "node:util";
import { runChaosDrill } from "../test/chaos/drill.js";
import { LONG_DRILL } from "../test/chaos/settings.js";
import { redisSentinelBinary } from "../test/support/redis-sentinel-group.js";
import { redisServerBinary } from "../test/support/redis-server.js";

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`chaos: --${name} must be a whole number of 1 or more, got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({
  options: {
    duration: { type: "string" },
    seed: { type: "string" },
    replicas: { type: "string" },
    lanes: { type: "string" },
    fencing: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help === true) {
  process.stdout.write(
    `npm run chaos -- [--duration seconds (${LONG_DRILL.durationMs / 1000})] [--seed n (${LONG_DRILL.seed})] [--replicas n (${LONG_DRILL.replicas})] [--lanes n (${LONG_DRILL.lanes})] [--fencing]\n`,
  );
  process.exit(0);
}
if (redisServerBinary() === undefined || redisSentinelBinary() === undefined) {
  process.stderr.write(
    "chaos: redis-server and redis-sentinel must be on PATH (Debian: redis-server, redis-sentinel)\n",
  );
  process.exit(2);
}

const options = {
  ...LONG_DRILL,
  durationMs: positiveInteger("duration", values.duration, LONG_DRILL.durationMs / 1000) * 1000,
  seed: positiveInteger("seed", values.seed, LONG_DRILL.seed),
  replicas: Math.max(2, positiveInteger("replicas", values.replicas, LONG_DRILL.replicas)),
  lanes: positiveInteger("lanes", values.lanes, LONG_DRILL.lanes),
  fencing: values.fencing === true,
  log: (line: string) => process.stderr.write(`chaos: ${line}\n`),
};
const report = await runChaosDrill(options);
const { verdict } = report;
const rows: [string, string | number][] = [
  ["seed", report.seed],
  ["seconds of traffic", (report.durationMs / 1000).toFixed(1)],
  ["replicas / lanes", `${options.replicas} / ${options.lanes}`],
  ["operations", verdict.operations],
  ["LAMBDA_REVISION_FENCING", String(options.fencing)],
  ...Object.entries(report.awsRequests).map(([operation, n]): [string, number] => [
    `requests at the fake AWS: ${operation}`,
    n,
  ]),
  ...Object.entries(report.faults).map(([kind, n]): [string, number] => [`fault: ${kind}`, n]),
  ["unplanned Sentinel failovers", report.unplannedFailovers],
  ["sends refused without a lease", report.sendsRefusedWithoutLease],
  ["double executions", verdict.doubleExecutions],
  ["wrong answers", verdict.wrongAnswers],
  ["lost successes", verdict.lostSuccesses],
];
const width = Math.max(...rows.map(([label]) => label.length));
process.stdout.write(rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n") + "\n");
for (const finding of verdict.findings) process.stdout.write(`${finding.kind}: ${finding.detail}\n`);
for (const line of report.replicaErrors) process.stdout.write(`replica error: ${line}\n`);
process.exit(verdict.doubleExecutions + verdict.wrongAnswers + verdict.lostSuccesses === 0 ? 0 : 1);

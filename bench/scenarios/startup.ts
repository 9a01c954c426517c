// Process start to first served call: the time from spawning the command to
// the first HTTP 200 of a Connect call, polled every few milliseconds over
// fresh connections. The gateway runs on the embedded default exactly as
// `npm start` runs it (plus HOST and PORT), without npm's own start-up;
// the baseline is started the same way. Starts alternate B G B G ...
import { freePort } from "../../test/support/redis-server.js";
import { median } from "../compare.js";
import { baselineCommand } from "../processes/baseline-command.js";
import { commandLine } from "../processes/launch.js";
import { waitUntilServing } from "../processes/probe.js";
import { spawnService } from "../processes/service-process.js";
import type { ScenarioHeading } from "../report.js";
import type { BenchContext } from "./context.js";

export const startupScenarioIds = ["startup"] as const;

const host = "127.0.0.1";

interface StartSpec {
  readonly label: string;
  readonly argv: (ports: readonly number[]) => string[];
  readonly env: (ports: readonly number[]) => Record<string, string>;
  /** The port the probe calls. */
  readonly probePort: (ports: readonly number[]) => number;
}

/** Milliseconds from spawn to the first served call; the process is stopped again. */
export async function measureStartToFirstCall(root: string, spec: StartSpec): Promise<number> {
  const ports = [await freePort(), await freePort()];
  const started = process.hrtime.bigint();
  const child = spawnService({ label: spec.label, root, argv: spec.argv(ports), env: spec.env(ports) });
  try {
    await waitUntilServing(`http://${host}:${spec.probePort(ports)}`, {
      timeoutMs: 60_000,
      requireOk: true,
      abandoned: () => child.exited(),
    });
    return Number(process.hrtime.bigint() - started) / 1e6;
  } catch (error) {
    throw new Error(`${spec.label}: ${(error as Error).message}\n${child.output()}`, { cause: error });
  } finally {
    await child.stop();
  }
}

export async function runStartupScenario(ctx: BenchContext): Promise<void> {
  const heading: ScenarioHeading = {
    id: "startup",
    title: "Process start to first served call, embedded default",
    measures:
      "spawn of the start command to the first answered RemoveLambdaPermission, gateway against the bare server",
    generator: `${ctx.plan.startupPairs} alternating pairs of starts; the median of each side`,
  };
  if (!ctx.wants(heading.id)) return;
  const baseline = await baselineCommand(ctx.root, ctx.start);
  const baselineSpec: StartSpec = {
    label: "baseline",
    argv: (ports) => [
      ...commandLine(ctx.root, baseline),
      `--host=${host}`,
      `--h2c-port=${ports[0]}`,
      `--http1-port=${ports[1]}`,
    ],
    env: () => ({ ...baseline.env }),
    probePort: (ports) => ports[1] ?? 0,
  };
  const gatewaySpec: StartSpec = {
    label: "gateway",
    argv: () => commandLine(ctx.root, ctx.start),
    env: (ports) => ({ ...ctx.start.env, HOST: host, PORT: String(ports[0]) }),
    probePort: (ports) => ports[0] ?? 0,
  };
  const baselineMs: number[] = [];
  const gatewayMs: number[] = [];
  for (let pair = 0; pair < ctx.plan.startupPairs; pair++) {
    baselineMs.push(await measureStartToFirstCall(ctx.root, baselineSpec));
    gatewayMs.push(await measureStartToFirstCall(ctx.root, gatewaySpec));
  }
  const ratios = gatewayMs.map((g, i) => g / (baselineMs[i] ?? Number.NaN));
  ctx.report({
    ...heading,
    columns: ["start ms"],
    rows: [
      { label: "baseline", values: { "start ms": median(baselineMs) } },
      { label: "gateway", values: { "start ms": median(gatewayMs) } },
    ],
    ratio: { label: "gateway/baseline start time", value: median(ratios), perPair: ratios },
    notes: [
      `gateway starts: ${gatewayMs.map((ms) => Math.round(ms)).join(", ")} ms; baseline: ${baselineMs.map((ms) => Math.round(ms)).join(", ")} ms`,
    ],
  });
}

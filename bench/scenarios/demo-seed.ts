// The gateway as `npm start` runs it (demo seed, in-memory store) against the
// baseline: RemoveLambdaPermission without a token over gRPC and Connect,
// the p99 of both at a fixed rate of half the baseline's peak, and a fresh
// idempotency key per call through the memory store.
import { randomUUID } from "node:crypto";
import { connectLoad, grpcLoad, sampleCall } from "../calls.js";
import type { ComparisonResult } from "../compare.js";
import { runRound, warmUp } from "../load/drive.js";
import type { ScenarioHeading } from "../report.js";
import type { ServerUnderTest } from "../servers.js";
import {
  connectConnections,
  connectText,
  fixedRequests,
  freshKeyRequests,
  grpcShape,
  grpcText,
  pacingText,
  removeAbsent,
  requireH2load,
  versusBaseline,
} from "./common.js";
import type { BenchContext } from "./context.js";

export const demoSeedScenarioIds = [
  "no-token-grpc",
  "no-token-connect",
  "half-rate-grpc",
  "half-rate-connect",
  "fresh-key-memory",
] as const;

export async function runDemoSeedScenarios(ctx: BenchContext): Promise<void> {
  if (!demoSeedScenarioIds.some((id) => ctx.wants(id))) return;
  const [baseline, gateway] = await Promise.all([ctx.baseline(), ctx.gateway("gateway (demo seed, memory store)")]);
  try {
    const noTokenGrpc = await noToken(ctx, baseline, gateway, "grpc");
    const noTokenConnect = await noToken(ctx, baseline, gateway, "connect");
    await halfRate(ctx, baseline, gateway, "grpc", noTokenGrpc);
    await halfRate(ctx, baseline, gateway, "connect", noTokenConnect);
    await freshKeyMemory(ctx, baseline, gateway);
  } finally {
    await gateway.stop();
  }
}

async function noToken(
  ctx: BenchContext,
  baseline: ServerUnderTest,
  gateway: ServerUnderTest,
  protocol: "grpc" | "connect",
): Promise<ComparisonResult | undefined> {
  const grpc = protocol === "grpc";
  const heading: ScenarioHeading = {
    id: `no-token-${protocol}`,
    title: `RemoveLambdaPermission without a token, ${grpc ? "gRPC" : "Connect JSON"}`,
    measures: "throughput and latency of the gateway's plainest call against the bare connect-node server",
    generator: `${grpc ? grpcText() : connectText()}; ${pacingText(ctx.plan)}`,
  };
  if (!ctx.wants(heading.id) || (grpc && !requireH2load(ctx, heading))) return undefined;
  for (const server of [baseline, gateway]) await sampleCall(server, protocol, removeAbsent());
  const load = grpc
    ? grpcLoad(removeAbsent(), grpcShape)
    : connectLoad(fixedRequests(removeAbsent()), connectConnections);
  return versusBaseline(ctx, heading, { baseline, gateway, load });
}

/**
 * Both servers at the same fixed rate, half of what the baseline peaked at
 * (from the no-token scenario, or measured here when it did not run): the
 * gateway's p99 may be at most 1 ms above the baseline's.
 */
async function halfRate(
  ctx: BenchContext,
  baseline: ServerUnderTest,
  gateway: ServerUnderTest,
  protocol: "grpc" | "connect",
  peak: ComparisonResult | undefined,
): Promise<void> {
  const grpc = protocol === "grpc";
  const heading: ScenarioHeading = {
    id: `half-rate-${protocol}`,
    title: `RemoveLambdaPermission without a token at half the baseline's peak rate, ${grpc ? "gRPC" : "Connect JSON"}`,
    measures: "p99 latency when neither server is saturated: gateway minus baseline",
    generator: "",
  };
  if (!ctx.wants(heading.id) || (grpc && !requireH2load(ctx, heading))) return;
  const open = grpc
    ? grpcLoad(removeAbsent(), grpcShape)
    : connectLoad(fixedRequests(removeAbsent()), connectConnections);
  let baselinePeak = peak?.reference.requestsPerSecond;
  if (baselinePeak === undefined) {
    await warmUp(baseline, open, ctx.plan.warmUpSeconds);
    baselinePeak = (await runRound(baseline, open, { kind: "duration", seconds: ctx.plan.roundSeconds }))
      .requestsPerSecond;
  }
  const rate = Math.max(1, Math.round(baselinePeak / 2));
  const load = grpc
    ? grpcLoad(removeAbsent(), {
        ...grpcShape,
        requestsPerSecondPerClient: Math.max(1, Math.round(rate / grpcShape.clients)),
      })
    : connectLoad(fixedRequests(removeAbsent()), connectConnections, rate);
  const generator = `${grpc ? grpcText() : connectText()} at ${rate.toLocaleString("en-US")} calls/s in all; ${pacingText(ctx.plan)}`;
  await versusBaseline(
    ctx,
    { ...heading, generator },
    {
      baseline,
      gateway,
      load,
      notes: ["at a fixed rate the req/s ratio is ~1 by design; the p99 difference is the figure"],
    },
  );
}

async function freshKeyMemory(ctx: BenchContext, baseline: ServerUnderTest, gateway: ServerUnderTest): Promise<void> {
  const heading: ScenarioHeading = {
    id: "fresh-key-memory",
    title: "RemoveLambdaPermission with a fresh idempotency_key per call, memory store, Connect JSON",
    measures: "claim + complete of a new record in the in-memory store on every call, against the bare server",
    generator: `${connectText()}, a new UUID key in every body; ${pacingText(ctx.plan)}`,
  };
  if (!ctx.wants(heading.id)) return;
  for (const server of [baseline, gateway])
    await sampleCall(server, "connect", removeAbsent({ idempotencyKey: randomUUID() }));
  const load = connectLoad(freshKeyRequests(), connectConnections);
  await versusBaseline(ctx, heading, { baseline, gateway, load });
}

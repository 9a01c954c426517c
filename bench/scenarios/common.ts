// Shapes and calls that several scenarios share.
import { randomUUID } from "node:crypto";
import { call, connectRequest, jsonBody, rpc, rpcPath, type Call, type GrpcShape } from "../calls.js";
import { compareAlternating, type ComparisonResult } from "../compare.js";
import type { ConnectRequest } from "../load/autocannon.js";
import type { Load } from "../load/drive.js";
import { h2loadBinary, h2loadInstallHint } from "../load/h2load.js";
import type { Plan } from "../options.js";
import { comparisonReport, type ScenarioHeading } from "../report.js";
import type { ServerUnderTest } from "../servers.js";
import type { BenchContext } from "./context.js";

/** h2load: 4 connections x 16 streams = 64 calls in flight. */
export const grpcShape: GrpcShape = { clients: 4, streams: 16 };
/** autocannon: 16 keep-alive HTTP/1.1 connections, one call in flight on each. */
export const connectConnections = 16;

/**
 * RemoveLambdaPermission of a statement that is not there, with
 * allow_missing: a real backend call each time that changes nothing, so
 * every round sees the same state.
 */
export function removeAbsent(extra: { readonly idempotencyKey?: string } = {}): Call {
  return call(rpc.removeLambdaPermission, {
    functionName: "demo",
    statementId: "bench-absent",
    allowMissing: true,
    ...extra,
  });
}

/** The same call with a new idempotency key on every request. */
export function freshKeyRequests(): ConnectRequest[] {
  const base = jsonBody(removeAbsent()) as Record<string, unknown>;
  const path = rpcPath(rpc.removeLambdaPermission);
  return [
    {
      method: "POST",
      path,
      setupRequest: (request) => ({ ...request, body: JSON.stringify({ ...base, idempotencyKey: randomUUID() }) }),
    },
  ];
}

export function fixedRequests(c: Call): ConnectRequest[] {
  return [connectRequest(c)];
}

export function pacingText(plan: Plan): string {
  return `${plan.pairs} alternating pairs of ${plan.roundSeconds} s rounds after ${plan.warmUpSeconds} s of warm-up per side`;
}

export function grpcText(shape: GrpcShape = grpcShape): string {
  return `h2load (gRPC, h2c), ${shape.clients} connections x ${shape.streams} streams`;
}

export function connectText(connections = connectConnections): string {
  return `autocannon (Connect JSON, HTTP/1.1), ${connections} connections`;
}

/** Skips (loudly) when h2load is missing; true means go on. */
export function requireH2load(ctx: BenchContext, heading: ScenarioHeading): boolean {
  if (h2loadBinary() !== undefined) return true;
  ctx.skip(heading, h2loadInstallHint);
  return false;
}

export interface VersusBaseline {
  readonly baseline: ServerUnderTest;
  readonly gateway: ServerUnderTest;
  readonly load: Load;
  readonly notes?: readonly string[];
  readonly afterGatewayRound?: () => Promise<void>;
}

/** The same load on the baseline and the gateway in alternating rounds, reported as gateway/baseline. */
export async function versusBaseline(
  ctx: BenchContext,
  heading: ScenarioHeading,
  run: VersusBaseline,
): Promise<ComparisonResult> {
  const result = await compareAlternating(
    { label: "baseline", server: run.baseline, load: run.load },
    {
      label: "gateway",
      server: run.gateway,
      load: run.load,
      ...(run.afterGatewayRound === undefined ? {} : { afterRound: run.afterGatewayRound }),
    },
    ctx.plan,
  );
  ctx.report(comparisonReport(heading, "gateway/baseline req/s", result, run.notes));
  return result;
}

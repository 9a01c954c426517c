// The gateway with IDEMPOTENCY_STORE=redis on our own redis-server (a free
// loopback port, persistence off) against the baseline: a fresh key per call
// (claim + complete in Redis) and a replay of one completed key.
import { randomUUID } from "node:crypto";
import { redisServerBinary, startRedisServer } from "../../test/support/redis-server.js";
import { connectLoad, grpcLoad, sampleCall, type Protocol } from "../calls.js";
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

export const redisScenarioIds = ["fresh-key-redis", "replay-redis-grpc", "replay-redis-connect"] as const;

export async function runRedisScenarios(ctx: BenchContext): Promise<void> {
  const wanted = redisScenarioIds.filter((id) => ctx.wants(id));
  if (wanted.length === 0) return;
  if (redisServerBinary() === undefined) {
    for (const id of wanted) {
      ctx.skip(
        heading(id),
        "redis-server is not installed: apt-get install redis-server (Debian), then run the bench again",
      );
    }
    return;
  }
  const redis = await startRedisServer();
  try {
    const baseline = await ctx.baseline();
    const gateway = await ctx.gateway("gateway (Redis store)", { IDEMPOTENCY_STORE: "redis", REDIS_URL: redis.url });
    try {
      await freshKeyRedis(ctx, baseline, gateway);
      await replay(ctx, baseline, gateway, "grpc");
      await replay(ctx, baseline, gateway, "connect");
    } finally {
      await gateway.stop();
    }
  } finally {
    await redis.close();
  }
}

function heading(id: (typeof redisScenarioIds)[number]): ScenarioHeading {
  switch (id) {
    case "fresh-key-redis":
      return {
        id,
        title: "RemoveLambdaPermission with a fresh idempotency_key per call, Redis store, Connect JSON",
        measures: "claim + complete of a new record in Redis on every call, against the bare server",
        generator: connectText(),
      };
    case "replay-redis-grpc":
    case "replay-redis-connect":
      return {
        id,
        title: `RemoveLambdaPermission replaying one completed idempotency_key through Redis, ${id.endsWith("grpc") ? "gRPC" : "Connect JSON"}`,
        measures: "the stored answer read back from Redis on every call (no backend call), against the bare server",
        generator: id.endsWith("grpc") ? grpcText() : connectText(),
      };
  }
}

async function freshKeyRedis(ctx: BenchContext, baseline: ServerUnderTest, gateway: ServerUnderTest): Promise<void> {
  const h = heading("fresh-key-redis");
  if (!ctx.wants(h.id)) return;
  for (const server of [baseline, gateway])
    await sampleCall(server, "connect", removeAbsent({ idempotencyKey: randomUUID() }));
  const load = connectLoad(freshKeyRequests(), connectConnections);
  await versusBaseline(
    ctx,
    { ...h, generator: `${h.generator}, a new UUID key in every body; ${pacingText(ctx.plan)}` },
    { baseline, gateway, load },
  );
}

async function replay(
  ctx: BenchContext,
  baseline: ServerUnderTest,
  gateway: ServerUnderTest,
  protocol: Protocol,
): Promise<void> {
  const h = heading(protocol === "grpc" ? "replay-redis-grpc" : "replay-redis-connect");
  if (!ctx.wants(h.id) || (protocol === "grpc" && !requireH2load(ctx, h))) return;
  const replayed = removeAbsent({ idempotencyKey: `bench-replay-${randomUUID()}` });
  // The first call completes the record; the second must come from it.
  await sampleCall(gateway, protocol, replayed);
  const second = await sampleCall(gateway, protocol, replayed);
  if (second.header.get("idempotent-replayed") !== "true") {
    throw new Error(
      `${gateway.label}: the second call with one idempotency key was not answered as a replay (no idempotent-replayed: true)`,
    );
  }
  await sampleCall(baseline, protocol, replayed);
  const load =
    protocol === "grpc" ? grpcLoad(replayed, grpcShape) : connectLoad(fixedRequests(replayed), connectConnections);
  await versusBaseline(
    ctx,
    { ...h, generator: `${h.generator}; ${pacingText(ctx.plan)}` },
    { baseline, gateway, load },
  );
}

// Cost of idempotency, measured side by side: the same RPC through the same
// gateway with no token (the baseline), with a fresh token per call (claim +
// complete) and with one token repeated (replay). Variants are interleaved in
// rounds so machine noise lands on all of them alike; results are ratios
// against the baseline of the same round, never absolute promises.
//
//   npm run bench                 # memory store, plus Redis when redis-server is installed
//   BENCH_CALLS=4000 BENCH_ROUNDS=7 BENCH_CONCURRENCY=32 npm run bench
import { randomUUID } from "node:crypto";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { PermissionService } from "../gen/permission/v1/permission_pb.js";
import { createFakeBackend } from "../src/backend/fake/fake-backend.js";
import { systemClock } from "../src/clock.js";
import { createIdempotency } from "../src/idempotency/config.js";
import type { IdempotencyConfig } from "../src/idempotency/config.js";
import { silentLogger } from "../src/logger.js";
import { startServer } from "../src/server.js";
import { redisServerBinary, startRedisServer } from "../test/support/redis-server.js";

const calls = Number(process.env["BENCH_CALLS"] ?? 2000);
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 5);
const concurrency = Number(process.env["BENCH_CONCURRENCY"] ?? 16);

type Variant = "no token" | "fresh token" | "replayed token";
const variants: Variant[] = ["no token", "fresh token", "replayed token"];

const limits = { ttlMs: 60_000, leaseMs: 5_000, maxExecutionMs: 30_000, maxWaitMs: 5_000, pollMinMs: 25, pollMaxMs: 1_000 };

async function measureStore(label: string, config: IdempotencyConfig): Promise<void> {
  const backend = createFakeBackend();
  const idempotency = await createIdempotency(config, { clock: systemClock, logger: silentLogger });
  const server = await startServer(
    { backend, idempotency: idempotency.guard, logger: silentLogger, clock: systemClock },
    { host: "127.0.0.1", port: 0 },
  );
  const client = createClient(PermissionService, createGrpcTransport({ baseUrl: server.url }));
  try {
    await runVariant(client, "no token", 200); // warm-up: JIT, connections
    const samples = new Map<Variant, number[]>(variants.map((v) => [v, []]));
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) samples.get(variant)?.push(await runVariant(client, variant, calls));
    }
    report(label, samples);
  } finally {
    await server.close();
    await idempotency.close();
    await backend.close();
  }
}

/** Calls per second for `count` RemoveLambdaPermission calls that change nothing. */
async function runVariant(client: Client<typeof PermissionService>, variant: Variant, count: number): Promise<number> {
  const replayKey = randomUUID();
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      const idempotencyKey = variant === "no token" ? undefined : variant === "fresh token" ? randomUUID() : replayKey;
      // allowMissing on an absent statement: a real backend call every time
      // that leaves the fake's state untouched, so rounds stay comparable.
      await client.removeLambdaPermission({
        functionName: "demo",
        statementId: "bench-absent",
        allowMissing: true,
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return count / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function report(label: string, samples: Map<Variant, number[]>): void {
  const baseline = samples.get("no token") ?? [];
  console.log(`\n${label}: ${rounds} rounds x ${calls} calls, concurrency ${concurrency}`);
  console.log("variant          median calls/s   cost vs no token (median of per-round ratios)");
  for (const variant of variants) {
    const values = samples.get(variant) ?? [];
    const ratios = values.map((v, i) => (baseline[i] ?? v) / v);
    console.log(`${variant.padEnd(16)} ${median(values).toFixed(0).padStart(14)}   x${median(ratios).toFixed(2)}`);
  }
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, RemoveLambdaPermission(allowMissing) over gRPC h2c, fake backend`);
  await measureStore("memory store", { store: "memory", ignoredRedisVariables: [], ...limits });
  if (redisServerBinary() === undefined) {
    console.log("\nredis-server not installed: Redis store not measured");
    return;
  }
  const redis = await startRedisServer();
  try {
    await measureStore("redis store (local redis-server)", {
      store: "redis",
      redis: {
        connection: { shape: "standalone", url: redis.url },
        tls: false,
        commandTimeoutMs: 1000,
        connectTimeoutMs: 2000,
      },
      ...limits,
    });
  } finally {
    await redis.close();
  }
}

await main();

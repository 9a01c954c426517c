// What a dead master does to a real 3-master Cluster, and what the gateway
// answers (docs/idempotency.md's Redis Cluster paragraph says this). With
// cluster-require-full-coverage yes, the default, the Cluster fails every
// slot once it notices: every call with a token is UNAVAILABLE at once and
// readiness is false. With no, only the dead master's slots fail; the rest
// keep working and readiness stays true. Either way nothing runs unclaimed
// and the gateway recovers by itself when the master returns.
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { afterEach, test } from "node:test";
import type { TestContext } from "node:test";
import { ConnectError } from "@connectrpc/connect";
import type { Cluster } from "ioredis";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { systemClock } from "../../src/clock.js";
import { parseIdempotencyConfig } from "../../src/idempotency/config.js";
import { createIdempotency } from "../../src/idempotency/create-idempotency.js";
import type { Idempotency } from "../../src/idempotency/create-idempotency.js";
import { IDEMPOTENCY_SCRIPTS } from "../../src/idempotency/redis-scripts.js";
import { silentLogger } from "../../src/logger.js";
import { clusterClientConnected, redisClusterTools, startRedisCluster } from "../support/redis-cluster.js";
import type { RedisCluster } from "../support/redis-cluster.js";
import { LOOPBACK, skipWithoutRedis } from "../support/redis-server.js";
import { cleanUpGuards, deleteCall, deleteResponse, recordingObserver } from "./guard-harness.js";
import { until } from "../support/eventually.js";

afterEach(cleanUpGuards);

const CALLS = 30;
// redis-cli runs a process per probe: poll at a calmer pace, and wait long for a Cluster to settle.
const slowly = { timeoutMs: 30_000, intervalMs: 100 };

async function clusterWith(t: TestContext, fullCoverage: "yes" | "no") {
  if (redisClusterTools() === undefined) {
    skipWithoutRedis(t, "a Redis Cluster needs redis-server and redis-cli on PATH");
    return undefined;
  }
  const cluster = await startRedisCluster(3, ["--cluster-require-full-coverage", fullCoverage]);
  const watched = recordingObserver();
  const config = parseIdempotencyConfig({
    IDEMPOTENCY_STORE: "redis",
    REDIS_CLUSTER_NODES: cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(","),
    // The calls before the fault check that every slot works, not how fast:
    // on a loaded machine a claim that took longer than the default 500 ms
    // failed one of them. Still well under a lease (3 x this <= 5 s).
    REDIS_COMMAND_TIMEOUT_MS: "1500",
  });
  const idempotency = await createIdempotency(config, {
    clock: systemClock,
    logger: silentLogger,
    observer: watched.observer,
  });
  t.after(async () => {
    await idempotency.close();
    await cluster.close();
  });
  await until(
    "the gateway's client is connected to every master, scripts loaded",
    () => clientSettled(idempotency),
    slowly,
  );
  return { cluster, idempotency, watched };
}

const SCRIPT_SHAS = IDEMPOTENCY_SCRIPTS.map((source) => createHash("sha1").update(source).digest("hex"));

/**
 * The gateway's Cluster client knows all three masters (its slot map is
 * whole), each connection is ready, and each node holds the scripts (loaded
 * on connect), so the first claims do not pay for a connection or a
 * NOSCRIPT round trip.
 */
async function clientSettled(idempotency: Idempotency): Promise<boolean> {
  const client = idempotency.redis as Cluster | undefined;
  if (client === undefined || !clusterClientConnected(client, 3)) return false;
  const masters = client.nodes("master");
  const loaded = await Promise.all(masters.map((node) => node.script("EXISTS", ...SCRIPT_SHAS) as Promise<number[]>));
  return loaded.every((flags) => flags.every((flag) => flag === 1));
}

/** CALLS calls with fresh tokens (spread over every slot): how each ended, and how often the backend ran. */
async function calls(idempotency: Idempotency) {
  let executions = 0;
  const answers: string[] = [];
  for (let i = 0; i < CALLS; i += 1) {
    try {
      await idempotency.guard.run(deleteCall({ token: randomUUID() }), async () => {
        executions += 1;
        return deleteResponse;
      });
      answers.push("ok");
    } catch (error) {
      const failure = ConnectError.from(error);
      answers.push(`${failure.code} ${failure.findDetails(ErrorInfoSchema)[0]?.reason ?? ""}`);
    }
  }
  const count = (answer: string) => answers.filter((a) => a === answer).length;
  return {
    ok: count("ok"),
    unavailable: count("14 IDEMPOTENCY_STORE_UNAVAILABLE"),
    other: answers.length - count("ok") - count("14 IDEMPOTENCY_STORE_UNAVAILABLE"),
    executions,
  };
}

async function clusterState(cluster: RedisCluster, port: number): Promise<string> {
  return (
    (await cluster.cli(port, "cluster", "info"))
      .split("\n")
      .find((line) => line.startsWith("cluster_state:"))
      ?.trim() ?? ""
  );
}

/** Whether CLUSTER NODES flags the node at `port` "fail" (agreed by the masters, not only suspected: "fail?"). */
function isMarkedFailed(nodes: string, port: number): boolean {
  const line = nodes.split("\n").find((entry) => entry.split(" ")[1]?.startsWith(`${LOOPBACK}:${port}@`));
  return line?.split(" ")[2]?.split(",").includes("fail") ?? false;
}

function slowestFailedClaimMs(watched: ReturnType<typeof recordingObserver>, from: number): number {
  const failed = watched.commands.slice(from).filter((c) => c.operation === "claim" && c.failed);
  return Math.max(0, ...failed.map((c) => c.ms));
}

test("cluster-require-full-coverage yes (default): a dead master fails every token, at once; readiness goes false", async (t) => {
  const setup = await clusterWith(t, "yes");
  if (setup === undefined) return;
  const { cluster, idempotency, watched } = setup;
  assert.deepEqual(await calls(idempotency), { ok: CALLS, unavailable: 0, other: 0, executions: CALLS });
  const [survivor, , victim] = cluster.servers;
  assert.ok(survivor !== undefined && victim !== undefined);
  await victim.stop();
  await until(
    "the Cluster marks itself failed",
    async () => (await clusterState(cluster, survivor.port)) === "cluster_state:fail",
    slowly,
  );
  const from = watched.commands.length;
  const down = await calls(idempotency);
  assert.deepEqual(down, { ok: 0, unavailable: CALLS, other: 0, executions: 0 }, "every slot fails, nothing runs");
  t.diagnostic(`slowest failed claim while the Cluster was down: ${slowestFailedClaimMs(watched, from)} ms`);
  const readiness = await idempotency.checkReady();
  assert.equal(readiness.ready, false);
  assert.match(readiness.detail ?? "", /cluster_state is not ok/);
  await victim.start();
  await until("ready again", async () => (await idempotency.checkReady()).ready, slowly);
  await until("every token works again", async () => (await calls(idempotency)).ok === CALLS, slowly);
});

test("cluster-require-full-coverage no: a dead master fails only its slots; the rest keep working, readiness stays true", async (t) => {
  const setup = await clusterWith(t, "no");
  if (setup === undefined) return;
  const { cluster, idempotency, watched } = setup;
  const [survivor, , victim] = cluster.servers;
  assert.ok(survivor !== undefined && victim !== undefined);
  await victim.stop();
  await until(
    "the survivor marks the dead master failed (past the 2 s node timeout)",
    async () => isMarkedFailed(await cluster.cli(survivor.port, "cluster", "nodes"), victim.port),
    slowly,
  );
  assert.equal(await clusterState(cluster, survivor.port), "cluster_state:ok");
  const from = watched.commands.length;
  const partial = await calls(idempotency);
  assert.ok(partial.ok > 0 && partial.unavailable > 0, `some slots fail, the others work: ${JSON.stringify(partial)}`);
  assert.equal(partial.other, 0, "a failure is always UNAVAILABLE IDEMPOTENCY_STORE_UNAVAILABLE");
  assert.equal(partial.executions, partial.ok, "nothing runs without a claim");
  t.diagnostic(
    `with one of three masters dead: ${JSON.stringify(partial)}; slowest failed claim ${slowestFailedClaimMs(watched, from)} ms`,
  );
  assert.deepEqual(await idempotency.checkReady(), { ready: true });
  await victim.start();
  await until("every token works again", async () => (await calls(idempotency)).ok === CALLS, slowly);
});

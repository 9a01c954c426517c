// Operations through the whole gateway as main.ts composes it: readiness
// that follows a real redis-server down and up (over /readyz and
// grpc.health.v1), turns NOT_SERVING first on shutdown; server reflection
// that buf curl reads without a proto; /metrics that counts a known sequence
// of calls exactly; one access line per call with its fields and no secret.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import type { Gateway } from "../../src/gateway.js";
import { createLogger } from "../../src/logger.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { startRedisServer, redisServerBinary, skipWithoutRedis, type RedisServer } from "../support/redis-server.js";
import { eventually } from "../support/eventually.js";

const run = promisify(execFile);

describe("readiness follows Redis", () => {
  let redis: RedisServer | undefined;
  let gateway: Gateway | undefined;
  before(async () => {
    if (redisServerBinary() === undefined) return;
    redis = await startRedisServer();
    gateway = await startConfiguredGateway({
      IDEMPOTENCY_STORE: "redis",
      REDIS_URL: redis.url,
      HEALTH_CHECK_INTERVAL_MS: "100",
      HEALTH_CHECK_TIMEOUT_MS: "300",
    });
  });
  after(async () => {
    await gateway?.close();
    await redis?.close();
  });

  test("NOT_SERVING while redis-server is stopped, SERVING again when it returns; /healthz stays live", async (t) => {
    if (redis === undefined || gateway === undefined)
      return skipWithoutRedis(t, "readiness needs a redis-server to stop");
    const url = gateway.url;
    const health = createClient(Health, createGrpcTransport({ baseUrl: url }));
    const ready = async () => (await fetch(`${url}/readyz`)).status;
    const grpcStatus = async () => (await health.check({ service: PermissionService.typeName })).status;
    await eventually("ready at start", ready, (s) => s === 200);
    assert.equal(await grpcStatus(), HealthCheckResponse_ServingStatus.SERVING);
    await redis.stop();
    await eventually("not ready with Redis stopped", ready, (s) => s === 503);
    assert.equal(await grpcStatus(), HealthCheckResponse_ServingStatus.NOT_SERVING);
    const body = (await (await fetch(`${url}/readyz`)).json()) as Record<string, unknown>;
    assert.match(JSON.stringify(body), /store/, "the failing check is named");
    assert.equal((await fetch(`${url}/healthz`)).status, 200, "still live");
    await redis.start();
    await eventually("ready again", ready, (s) => s === 200);
    assert.equal(await grpcStatus(), HealthCheckResponse_ServingStatus.SERVING);
  });
});

describe("health probes need no credentials", () => {
  test("grpc.health.v1 answers without credentials, with authentication and the rate limit on", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pg-ops-probe-"));
    await writeFile(join(dir, "keys"), `${createHash("sha256").update("some-key").digest("hex")} someone\n`);
    const gateway = await startConfiguredGateway({
      AUTH_MODE: "api-key",
      API_KEYS_FILE: join(dir, "keys"),
      RATE_LIMIT_CALLS: "1",
    });
    try {
      const health = createClient(Health, createGrpcTransport({ baseUrl: gateway.url }));
      await eventually(
        "ready",
        async () => (await health.check({})).status,
        (s) => s === HealthCheckResponse_ServingStatus.SERVING,
      );
      for (let i = 0; i < 3; i++)
        assert.equal(
          (await health.check({})).status,
          HealthCheckResponse_ServingStatus.SERVING,
          "not rate limited either",
        );
      const refused = await createClient(PermissionService, createGrpcTransport({ baseUrl: gateway.url }))
        .listRamPermissions({})
        .then(
          () => "allowed",
          (error: unknown) => String(error),
        );
      assert.match(refused, /unauthenticated/, "the service itself still needs credentials");
    } finally {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("shutdown turns readiness NOT_SERVING first", () => {
  test("readiness is false while a call in flight is still being answered", async () => {
    const gateway = await startConfiguredGateway({ FAKE_LATENCY_MS: "600", SHUTDOWN_GRACE_MS: "10000" });
    const call = createClient(PermissionService, createGrpcTransport({ baseUrl: gateway.url })).listRamPermissions({});
    await sleep(100);
    const closing = gateway.close();
    assert.equal(gateway.health.status(""), "NOT_SERVING");
    assert.equal(gateway.health.status(PermissionService.typeName), "NOT_SERVING");
    await call;
    assert.deepEqual(await closing, { cutCalls: 0 });
  });
});

describe("reflection, metrics and the access log", () => {
  let dir: string;
  let gateway: Gateway;
  const lines: string[] = [];
  const key = "api-key-for-operations-test-0123456789";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pg-ops-"));
    await writeFile(join(dir, "keys"), `${createHash("sha256").update(key).digest("hex")} ops-caller\n`);
    const logger = createLogger({ level: "info", destination: { write: (line: string) => void lines.push(line) } });
    gateway = await startConfiguredGateway({ AUTH_MODE: "api-key", API_KEYS_FILE: join(dir, "keys") }, logger);
  });
  after(async () => {
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  const client = () =>
    createClient(
      PermissionService,
      createGrpcTransport({
        baseUrl: gateway.url,
        interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${key}`), next(req))],
      }),
    );

  test("buf curl --reflect lists the service and calls it without a proto (authenticated, like any call)", async () => {
    const buf = join(process.cwd(), "node_modules/.bin/buf");
    const auth = ["-H", `authorization: Bearer ${key}`, "--reflect-header", `authorization: Bearer ${key}`];
    await assert.rejects(
      run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--reflect", "--list-methods", gateway.url]),
      "no credentials, no schema",
    );
    const listed = await run(buf, [
      "curl",
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--reflect",
      "--reflect-header",
      `authorization: Bearer ${key}`,
      "--list-methods",
      gateway.url,
    ]);
    assert.match(listed.stdout, /permission\.v1\.PermissionService\/RemoveLambdaPermission/);
    const called = await run(buf, [
      "curl",
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--reflect",
      ...auth,
      "-d",
      "{}",
      `${gateway.url}/permission.v1.PermissionService/ListRamPermissions`,
    ]);
    assert.match(called.stdout, /demo-permission/);
  });

  test("/metrics counts a known sequence of calls exactly", async () => {
    const metric = async (name: string, labels: Record<string, string>): Promise<number> => {
      const text = await (await fetch(`${gateway.url}/metrics`)).text();
      const wanted = Object.entries(labels);
      let total = 0;
      for (const line of text.split("\n")) {
        if (!line.startsWith(`${name}{`)) continue;
        if (wanted.every(([k, v]) => line.includes(`${k}="${v}"`)))
          total += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
      return total;
    };
    const rpc = "permission.v1.PermissionService/GetRamPermission";
    const before = {
      ok: await metric("permission_gateway_rpc_calls_total", { rpc, code: "OK" }),
      notFound: await metric("permission_gateway_rpc_calls_total", { rpc, code: "NOT_FOUND" }),
      backend: await metric("permission_gateway_backend_calls_total", { operation: "GetPermission" }),
    };
    const arn = "arn:aws:ram:us-east-1:123456789012:permission/demo-permission";
    for (let i = 0; i < 3; i++) await client().getRamPermission({ permissionArn: arn });
    for (let i = 0; i < 2; i++)
      await client()
        .getRamPermission({ permissionArn: `${arn}-gone` })
        .catch(() => undefined);
    assert.equal(await metric("permission_gateway_rpc_calls_total", { rpc, code: "OK" }), before.ok + 3);
    assert.equal(await metric("permission_gateway_rpc_calls_total", { rpc, code: "NOT_FOUND" }), before.notFound + 2);
    assert.equal(
      await metric("permission_gateway_backend_calls_total", { operation: "GetPermission" }),
      before.backend + 5,
    );
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.doesNotMatch(text, /demo-permission|arn:aws|ops-caller/, "no ARN or caller in a label");
  });

  test("one access line per call, with its fields, and no secret", async () => {
    lines.length = 0;
    await client().removeLambdaPermission({
      functionName: "demo",
      statementId: "nope",
      allowMissing: true,
      idempotencyKey: "ops-secret-token-1",
    });
    const calls = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry["message"] === "call");
    assert.equal(calls.length, 1, lines.join("\n"));
    const [line] = calls;
    assert.equal(line?.["rpc"], "permission.v1.PermissionService/RemoveLambdaPermission");
    assert.equal(line?.["protocol"], "grpc");
    assert.equal(line?.["code"], "OK");
    assert.equal(line?.["caller"], "ops-caller");
    assert.equal(line?.["idempotency"], "claimed");
    assert.equal(typeof line?.["durationMs"], "number");
    assert.match(String(line?.["traceId"]), /^[0-9a-f]{32}$/);
    assert.equal(line?.["peer"], "127.0.0.1");

    // The same key again: replayed; with another request: the guard's refusal, by name.
    const request = {
      functionName: "demo",
      statementId: "nope",
      allowMissing: true,
      idempotencyKey: "ops-secret-token-1",
    };
    await client().removeLambdaPermission(request);
    await assert.rejects(client().removeLambdaPermission({ ...request, statementId: "other" }));
    const decisions = lines
      .map((entry) => JSON.parse(entry) as Record<string, unknown>)
      .filter((entry) => entry["message"] === "call")
      .map((entry) => [entry["code"], entry["idempotency"]]);
    assert.deepEqual(decisions, [
      ["OK", "claimed"],
      ["OK", "replayed"],
      ["FAILED_PRECONDITION", "mismatch"],
    ]);
    const all = lines.join("\n");
    assert.ok(!all.includes(key) && !all.includes("ops-secret-token-1"), "no key or token in the logs");
  });
});

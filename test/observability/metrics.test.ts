// /metrics counts a known sequence of calls exactly: RPCs over the Connect
// protocol, gRPC, gRPC-Web and grpc-js through the metrics interceptor, the
// backend calls under them (the fake backend, instrumented), a streaming
// call, the idempotency observer and rejected requests; read back over HTTP
// in the text format, on the gateway's port and on a port of its own.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Health } from "../../gen/health/v1/health_pb.js";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { createHealthService } from "../../src/health/health-service.js";
import { createHealthState, type HealthState } from "../../src/health/health-state.js";
import { silentLogger } from "../../src/logger.js";
import { startOpsServer } from "../../src/observability/http-endpoint.js";
import { instrumentBackend } from "../../src/observability/instrument-backend.js";
import { createMetricsEndpoint } from "../../src/observability/metrics-endpoint.js";
import { createMetricsInterceptor } from "../../src/observability/metrics-interceptor.js";
import {
  IDEMPOTENCY_OUTCOMES,
  createMetrics,
  type GatewayMetrics,
  type RejectReason,
} from "../../src/observability/metrics.js";
import { createTracing } from "../../src/observability/tracing.js";
import { parsePrometheusText, sampleValue, type Sample } from "./support/prometheus-text.js";
import { startTestServer, type TestServer } from "./support/connect-server.js";
import { createTestPermissionService } from "./support/test-service.js";
import { createRecordingLogger } from "../support/recording-logger.js";
import { eventually, until } from "../support/eventually.js";

const rpc = (method: string) => `permission.v1.PermissionService/${method}`;

let metrics: GatewayMetrics;
let server: TestServer;
let health: HealthState;
let releaseSlow: () => void = () => {};
let slowStarted: () => void = () => {};

before(async () => {
  metrics = createMetrics();
  const backend = instrumentBackend(createFakeBackend(), { metrics, tracing: await createTracing() });
  health = createHealthState({ checks: { backend: async () => ({ ready: true }) } });
  await health.start();
  server = await startTestServer({
    routes(router) {
      router.service(
        PermissionService,
        createTestPermissionService(backend, {
          slow: () =>
            new Promise<void>((resolve) => {
              releaseSlow = resolve;
              slowStarted();
            }),
        }),
      );
      router.service(Health, createHealthService(health));
    },
    interceptors: [createMetricsInterceptor(metrics)],
    endpoints: [createMetricsEndpoint(metrics, silentLogger)],
  });
});
after(async () => {
  health.close();
  await server.close();
});

async function scrape(url = server.http1Url): Promise<Sample[]> {
  const response = await fetch(url + "/metrics");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

function grpcJsPermissionClient(url: string): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  const protoPath = fileURLToPath(new URL("../../proto/permission/v1/permission.proto", import.meta.url));
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as unknown as {
    permission: { v1: { PermissionService: grpc.ServiceClientConstructor } };
  };
  return new loaded.permission.v1.PermissionService(new URL(url).host, grpc.credentials.createInsecure()) as never;
}

async function expectFailure(call: Promise<unknown>): Promise<void> {
  await assert.rejects(call);
}

describe("a known sequence of calls", () => {
  test("is counted exactly, by RPC, protocol and code, with the backend calls under it", async () => {
    const connect: Client<typeof PermissionService> = createClient(
      PermissionService,
      createConnectTransport({ baseUrl: server.http1Url, httpVersion: "1.1" }),
    );
    const grpcClient = createClient(PermissionService, createGrpcTransport({ baseUrl: server.h2Url }));
    const grpcWeb = createClient(
      PermissionService,
      createGrpcWebTransport({ baseUrl: server.http1Url, httpVersion: "1.1" }),
    );
    const grpcJs = grpcJsPermissionClient(server.h2Url);

    await connect.addLambdaPermission({
      functionName: "demo",
      statementId: "s1",
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
    });
    for (let i = 0; i < 3; i++) await connect.getLambdaPolicy({ functionName: "demo" });
    for (let i = 0; i < 2; i++) await expectFailure(grpcClient.getLambdaPolicy({ functionName: "no-such-function" }));
    await grpcWeb.removeLambdaPermission({ functionName: "demo", statementId: "s1" });
    await expectFailure(grpcWeb.removeLambdaPermission({ functionName: "demo", statementId: "s1" }));
    await new Promise<void>((resolve) => grpcJs["GetLambdaPolicy"]?.({ functionName: "" }, () => resolve()));
    grpcJs.close();

    const samples = await scrape();
    const calls = (method: string, protocol: string, code: string) =>
      sampleValue(samples, "permission_gateway_rpc_calls_total", { rpc: rpc(method), protocol, code });
    assert.equal(calls("AddLambdaPermission", "connect", "OK"), 1);
    assert.equal(calls("GetLambdaPolicy", "connect", "OK"), 3);
    assert.equal(calls("GetLambdaPolicy", "grpc", "NOT_FOUND"), 2);
    assert.equal(calls("GetLambdaPolicy", "grpc", "INVALID_ARGUMENT"), 1);
    assert.equal(calls("RemoveLambdaPermission", "grpc_web", "OK"), 1);
    assert.equal(calls("RemoveLambdaPermission", "grpc_web", "NOT_FOUND"), 1);
    const callSeries = samples.filter((s) => s.name === "permission_gateway_rpc_calls_total");
    assert.equal(
      callSeries.reduce((sum, s) => sum + s.value, 0),
      9,
      "nothing else was counted",
    );

    const histogram = (suffix: string, method: string) =>
      sampleValue(samples, `permission_gateway_rpc_duration_seconds_${suffix}`, { rpc: rpc(method) });
    assert.equal(histogram("count", "GetLambdaPolicy"), 6);
    assert.equal(histogram("count", "RemoveLambdaPermission"), 2);
    assert.ok((histogram("sum", "GetLambdaPolicy") ?? 0) > 0);
    assert.equal(
      sampleValue(samples, "permission_gateway_rpc_duration_seconds_bucket", {
        rpc: rpc("GetLambdaPolicy"),
        le: "+Inf",
      }),
      6,
    );
    assert.equal(sampleValue(samples, "permission_gateway_rpc_in_flight", { rpc: rpc("GetLambdaPolicy") }), 0);

    // The backend saw every call that passed the handler's own check.
    const backend = (name: string, operation: string, extra: Record<string, string> = {}) =>
      sampleValue(samples, name, { service: "lambda", operation, ...extra });
    assert.equal(backend("permission_gateway_backend_calls_total", "AddPermission"), 1);
    assert.equal(backend("permission_gateway_backend_calls_total", "GetPolicy"), 5);
    assert.equal(backend("permission_gateway_backend_calls_total", "RemovePermission"), 2);
    assert.equal(
      backend("permission_gateway_backend_errors_total", "GetPolicy", { error: "ResourceNotFoundException" }),
      2,
    );
    assert.equal(
      backend("permission_gateway_backend_errors_total", "RemovePermission", { error: "ResourceNotFoundException" }),
      1,
    );
    assert.equal(backend("permission_gateway_backend_duration_seconds_count", "GetPolicy"), 5);

    // Bounded labels: no function name, statement ID or action became a label value.
    for (const sample of samples) {
      for (const value of Object.values(sample.labels)) {
        assert.doesNotMatch(
          value,
          /demo|no-such-function|\bs1\b|lambda:InvokeFunction|s3\.amazonaws/,
          `${sample.name} ${value}`,
        );
      }
    }
  });

  test("a call in flight is counted until it ends", async () => {
    const connect = createClient(
      PermissionService,
      createConnectTransport({ baseUrl: server.http1Url, httpVersion: "1.1" }),
    );
    const started = new Promise<void>((resolve) => (slowStarted = resolve));
    const call = connect.getLambdaPolicy({ functionName: "slow" }).catch(() => undefined);
    await started;
    assert.equal(sampleValue(await scrape(), "permission_gateway_rpc_in_flight", { rpc: rpc("GetLambdaPolicy") }), 1);
    releaseSlow();
    await call;
    assert.equal(sampleValue(await scrape(), "permission_gateway_rpc_in_flight", { rpc: rpc("GetLambdaPolicy") }), 0);
  });

  test("a streaming call counts when its stream ends: CANCELLED when the client leaves, OK when the server ends it", async () => {
    const watchRpc = "grpc.health.v1.Health/Watch";
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.h2Url }));
    const leaving = new AbortController();
    const left = client.watch({ service: "" }, { signal: leaving.signal })[Symbol.asyncIterator]();
    await left.next();
    assert.equal(sampleValue(await scrape(), "permission_gateway_rpc_in_flight", { rpc: watchRpc }), 1);
    leaving.abort();
    await left.next().catch(() => undefined);
    // The server learns of the cancellation on its own schedule: wait for it, bounded.
    const cancelled = await eventually(
      "the CANCELLED count",
      async () =>
        sampleValue(await scrape(), "permission_gateway_rpc_calls_total", {
          rpc: watchRpc,
          protocol: "grpc",
          code: "CANCELLED",
        }),
      (count) => count !== undefined,
      { intervalMs: 25 },
    );
    assert.equal(cancelled, 1);

    const kept = client.watch({ service: "" });
    const messages: unknown[] = [];
    const reading = (async () => {
      for await (const message of kept) messages.push(message);
    })();
    await until("the first Watch message", () => messages.length > 0, { intervalMs: 5 });
    health.setShuttingDown();
    await reading;
    const samples = await scrape();
    assert.equal(
      sampleValue(samples, "permission_gateway_rpc_calls_total", { rpc: watchRpc, protocol: "grpc", code: "OK" }),
      1,
    );
    assert.equal(sampleValue(samples, "permission_gateway_rpc_in_flight", { rpc: watchRpc }), 0);
    assert.equal(sampleValue(samples, "permission_gateway_rpc_duration_seconds_count", { rpc: watchRpc }), 2);
  });
});

describe("what the gateway reports itself", () => {
  test("idempotency outcomes and store commands, rejected requests, with bounded labels", async () => {
    for (const [index, kind] of IDEMPOTENCY_OUTCOMES.entries()) {
      for (let i = 0; i <= index; i++) metrics.idempotency.onOutcome(kind);
    }
    metrics.idempotency.onStoreCommand("claim", 2, false);
    metrics.idempotency.onStoreCommand("claim", 3, false);
    metrics.idempotency.onStoreCommand("claim", 600, true);
    metrics.idempotency.onStoreCommand("complete", 1, false);
    metrics.idempotency.onStoreCommand("pg:idem:{0123abcd} with spaces", 1, true);
    const reasons: RejectReason[] = ["unknown_path", "unknown_path", "decode_error"];
    for (const reason of reasons) metrics.countRejectedRequest(reason);
    metrics.countRejectedRequest("/some/path?token=secret" as RejectReason);

    const samples = await scrape();
    for (const [index, kind] of IDEMPOTENCY_OUTCOMES.entries()) {
      assert.equal(
        sampleValue(samples, "permission_gateway_idempotency_outcomes_total", { outcome: kind }),
        index + 1,
        kind,
      );
    }
    const command = (name: string, operation: string) => sampleValue(samples, name, { operation });
    assert.equal(command("permission_gateway_idempotency_store_command_duration_seconds_count", "claim"), 3);
    assert.equal(command("permission_gateway_idempotency_store_command_duration_seconds_sum", "claim"), 0.605);
    assert.equal(command("permission_gateway_idempotency_store_command_errors_total", "claim"), 1);
    assert.equal(command("permission_gateway_idempotency_store_command_duration_seconds_count", "complete"), 1);
    assert.equal(
      command("permission_gateway_idempotency_store_command_errors_total", "other"),
      1,
      "a malformed name is 'other'",
    );
    const rejected = (reason: string) => sampleValue(samples, "permission_gateway_rejected_requests_total", { reason });
    assert.equal(rejected("unknown_path"), 2);
    assert.equal(rejected("decode_error"), 1);
    assert.equal(rejected("overloaded"), 0);
    assert.equal(rejected("other"), 1);
    assert.ok(!samples.some((s) => Object.values(s.labels).some((v) => v.includes("secret"))));
  });

  test("process metrics come from prom-client's collectors, on our registry only", async () => {
    const samples = await scrape();
    assert.ok(sampleValue(samples, "process_cpu_user_seconds_total") !== undefined);
    assert.ok(samples.some((s) => s.name === "nodejs_eventloop_lag_seconds"));
    assert.ok(samples.some((s) => s.name === "nodejs_heap_size_used_bytes"));
    const bare = await createMetrics({ processMetrics: false }).render();
    assert.doesNotMatch(bare, /process_cpu/);
    assert.match(bare, /permission_gateway_rpc_calls_total/);
  });

  test("/metrics on a port of its own; other paths and methods are refused", async () => {
    const opsLog = createRecordingLogger();
    const ops = await startOpsServer({
      host: "127.0.0.1",
      port: 0,
      endpoints: [createMetricsEndpoint(metrics, opsLog)],
    });
    try {
      assert.ok(
        sampleValue(await scrape(ops.url), "permission_gateway_rejected_requests_total", { reason: "decode_error" }) !==
          undefined,
      );
      assert.equal((await fetch(ops.url + "/other")).status, 404);
      const post = await fetch(ops.url + "/metrics", { method: "POST" });
      assert.equal(post.status, 405);
      assert.equal(await post.text(), "POST is not allowed on /metrics: use GET or HEAD\n");
      assert.equal(opsLog.lines.find((line) => line.message === "request rejected")?.fields?.["path"], "/metrics");
      const head = await fetch(ops.url + "/metrics", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), "");
    } finally {
      await ops.close();
    }
  });
});

// docs/operations.md's sections, run as written: the health, reflection
// and metrics commands against a server made of this folder's modules (the
// way the gateway serves them), the metrics table against the registry, and
// the tracing example's variables through the configuration parser.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { Health } from "../../gen/health/v1/health_pb.js";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { createHealthEndpoint } from "../../src/health/health-endpoint.js";
import { createHealthService } from "../../src/health/health-service.js";
import { createHealthState, type HealthState } from "../../src/health/health-state.js";
import { silentLogger } from "../../src/logger.js";
import { parseObservabilityConfig } from "../../src/observability/config.js";
import { createMetricsEndpoint } from "../../src/observability/metrics-endpoint.js";
import { createMetricsInterceptor } from "../../src/observability/metrics-interceptor.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { GATEWAY_DESCRIPTOR_FILES } from "../../src/reflection/gateway-files.js";
import { registerReflectionServices } from "../../src/reflection/reflection-service.js";
import { skipWithoutCurl } from "../support/require-tool.js";
import { codeBlocks, readDoc, repoRoot, sectionOf } from "../support/readme.js";
import { parsePrometheusText } from "./support/prometheus-text.js";
import { startTestServer, type TestServer } from "./support/connect-server.js";
import { createTestPermissionService } from "./support/test-service.js";

const run = promisify(execFile);
const operations = await readDoc("docs/operations.md");
const section = (heading: string): string => sectionOf(operations, heading);
const shellBlocks = (text: string): string[] => codeBlocks(text, "sh");

let server: TestServer;
let health: HealthState;

before(async () => {
  const metrics = createMetrics();
  health = createHealthState({
    checks: { store: async () => ({ ready: true }), backend: async () => ({ ready: true }) },
    services: { [PermissionService.typeName]: ["store", "backend"] },
  });
  await health.start();
  server = await startTestServer({
    routes(router) {
      router.service(PermissionService, createTestPermissionService(createFakeBackend()));
      router.service(Health, createHealthService(health));
      registerReflectionServices(router, GATEWAY_DESCRIPTOR_FILES);
    },
    interceptors: [createMetricsInterceptor(metrics)],
    endpoints: [createHealthEndpoint(health, silentLogger), createMetricsEndpoint(metrics, silentLogger)],
  });
});
after(async () => {
  health.close();
  await server.close();
});

/** The gateway serves h2c and HTTP/1.1 on one port; this server has one port for each. */
function pointAtServer(script: string): string {
  const url = script.includes("--http2-prior-knowledge") ? server.h2Url : server.http1Url;
  return script.replaceAll("http://localhost:8080", url).replaceAll("localhost:8080", url);
}

async function bash(script: string): Promise<string> {
  const { stdout } = await run("bash", ["-euo", "pipefail", "-c", pointAtServer(script)], { cwd: repoRoot });
  return stdout;
}

test("Health and readiness: the commands answer as shown", async (t) => {
  if (skipWithoutCurl(t)) return;
  const [block] = shellBlocks(section("## Health and readiness"));
  assert.ok(block !== undefined);
  const lines = block.trim().split("\n");
  assert.equal(lines.length, 4);
  for (const line of lines) {
    const shown = /#\s+(.*)$/.exec(line)?.[1];
    const out = (await bash(line)).trim();
    if (shown !== undefined) assert.equal(out, shown, line);
    else assert.deepEqual(JSON.parse(out), { status: "SERVING" }, line);
  }
});

test("Reflection: buf curl lists and calls without a proto", async () => {
  const [block] = shellBlocks(section("## Reflection"));
  assert.ok(block !== undefined);
  const out = await bash(block);
  const listed = out.split("\n");
  for (const service of [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "permission.v1.PermissionService",
  ]) {
    assert.equal(listed.filter((line) => line === service).length, 2, `${service} listed by v1 and v1alpha`);
  }
  assert.ok(listed.includes("permission.v1.PermissionService/RemoveLambdaPermission"));
  assert.match(
    out,
    /"arn": "arn:aws:ram::aws:permission\/AWSRAMDefaultPermissionEC2Subnet"/,
    "a method called through reflection",
  );
});

test("Metrics: the command shows the line docs/operations.md shows", async (t) => {
  if (skipWithoutCurl(t)) return;
  const [block] = shellBlocks(section("## Metrics"));
  assert.ok(block !== undefined);
  const [command, , shown] = block.trim().split("\n");
  assert.ok(command !== undefined && shown !== undefined);
  // "on a fresh gateway, after one GetLambdaPolicy of the demo function ... with curl"
  await run("curl", [
    "-s",
    `${server.http1Url}/permission.v1.PermissionService/GetLambdaPolicy`,
    "-H",
    "content-type: application/json",
    "-d",
    '{"functionName":"demo"}',
  ]);
  assert.equal((await bash(command)).trim(), shown.replace(/^# /, ""));
});

test("Metrics: the table lists every metric with its type and labels", async () => {
  const metrics = createMetrics({ processMetrics: false });
  // Touch every metric once, so each shows its labels.
  metrics.rpcSeries(PermissionService.method.getLambdaPolicy).calls(0, 0).inc();
  metrics.rpcSeries(PermissionService.method.getLambdaPolicy).duration.observe(0.001);
  metrics.idempotency.onStoreCommand("claim", 1, true);
  metrics.backendSeries("lambda", "GetPolicy").observe(1, "ThrottlingException");
  const text = await metrics.render();
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
  const labels = new Map<string, Set<string>>();
  for (const sample of parsePrometheusText(text)) {
    const name =
      [...types.keys()].find((metric) => sample.name === metric || sample.name.startsWith(`${metric}_`)) ?? sample.name;
    const set = labels.get(name) ?? new Set<string>();
    for (const key of Object.keys(sample.labels)) if (key !== "le") set.add(key);
    labels.set(name, set);
  }
  const table = section("## Metrics");
  assert.ok(types.size >= 10);
  for (const [name, type] of types) {
    const row = table.split("\n").find((line) => line.startsWith(`| \`${name}\` |`));
    assert.ok(row !== undefined, `${name} has a row`);
    const cells = row.split(" | ");
    assert.equal(cells[1], type, `${name} is a ${type}`);
    for (const label of labels.get(name) ?? [])
      assert.ok(cells[2]?.includes(`\`${label}\``), `${name} lists its label ${label}`);
  }
  assert.match(table, /\| `process_\*`, `nodejs_\*` \|/);
});

test("Tracing: the example's variables configure spans as described", () => {
  const [block] = shellBlocks(section("## Tracing"));
  const assignments = Object.fromEntries(
    [...(block ?? "").matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1] ?? "", m[2] ?? ""]),
  );
  assert.deepEqual(parseObservabilityConfig(assignments).tracing, {
    tracesEndpoint: "http://otel-collector:4318/v1/traces",
    headers: {},
    serviceName: "permission-gateway-eu",
  });
});

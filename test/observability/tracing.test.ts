// Trace context and spans through a real server: with spans on (the SDK's
// InMemorySpanExporter), one SERVER span per RPC, child of the caller's
// traceparent, and one CLIENT span per backend call, whose traceparent is
// what an outgoing AWS request carries; with spans off, the caller's context
// passes through unchanged; and spans reach a real OTLP/HTTP endpoint.
import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import type { PermissionBackend } from "../../src/backend/backend.js";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { systemClock } from "../../src/clock.js";
import { createLogger } from "../../src/logger.js";
import { createAccessLogInterceptor } from "../../src/observability/access-log.js";
import { instrumentBackend } from "../../src/observability/instrument-backend.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { createTraceIdSource, parseTraceparent, parseTracestate } from "../../src/observability/trace-context.js";
import { createTracing, type Tracing } from "../../src/observability/tracing.js";
import { startTestServer, type TestServer } from "./support/connect-server.js";
import { createTestPermissionService } from "./support/test-service.js";

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const callerSpan = "00f067aa0ba902b7";

interface Stack {
  readonly server: TestServer;
  readonly tracing: Tracing;
  /** What the backend saw as the outgoing trace headers, one entry per backend call. */
  readonly outgoing: Record<string, string>[];
  readonly logged: Record<string, unknown>[];
  close(): Promise<void>;
}

/** A backend that records the headers an AWS SDK middleware would add, then lets the fake answer. */
function recordingOutgoing(
  backend: PermissionBackend,
  tracing: Tracing,
  outgoing: Record<string, string>[],
): PermissionBackend {
  return {
    ...backend,
    getLambdaPolicy(input, options) {
      outgoing.push(tracing.outgoingTraceHeaders());
      return backend.getLambdaPolicy(input, options);
    },
  };
}

async function startStack(tracing: Tracing): Promise<Stack> {
  const outgoing: Record<string, string>[] = [];
  const logged: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: "info",
    destination: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const backend = instrumentBackend(recordingOutgoing(createFakeBackend(), tracing, outgoing), {
    metrics: createMetrics({ processMetrics: false }),
    tracing,
  });
  const server = await startTestServer({
    routes: (router) => router.service(PermissionService, createTestPermissionService(backend)),
    interceptors: [tracing.interceptor, createAccessLogInterceptor({ logger, clock: systemClock })],
  });
  return { server, tracing, outgoing, logged, close: () => server.close() };
}

describe("spans on", () => {
  const exporter = new InMemorySpanExporter();
  let stack: Stack;
  before(async () => {
    stack = await startStack(await createTracing({ exporter }));
  });
  after(async () => {
    await stack.close();
    await stack.tracing.shutdown();
  });

  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  const byKind = (kind: SpanKind) => spans().filter((span) => span.kind === kind);

  test("a SERVER span per RPC, child of the caller's span, and a CLIENT span per backend call", async () => {
    exporter.reset();
    assert.equal(stack.tracing.spansEnabled, true);
    const client = createClient(
      PermissionService,
      createConnectTransport({ baseUrl: stack.server.http1Url, httpVersion: "1.1" }),
    );
    await client
      .getLambdaPolicy(
        { functionName: "no-such-function" },
        { headers: { traceparent: `00-${traceId}-${callerSpan}-01`, tracestate: "vendor=abc,other=1" } },
      )
      .catch((error: unknown) => assert.equal(ConnectError.from(error).code, Code.NotFound));

    const [server] = byKind(SpanKind.SERVER);
    const [backend] = byKind(SpanKind.CLIENT);
    assert.ok(server !== undefined && backend !== undefined);
    assert.equal(spans().length, 2);
    assert.equal(server.name, "permission.v1.PermissionService/GetLambdaPolicy");
    assert.equal(server.spanContext().traceId, traceId);
    assert.equal(server.parentSpanContext?.spanId, callerSpan);
    assert.deepEqual(server.attributes, {
      "rpc.system": "connect_rpc",
      "rpc.service": "permission.v1.PermissionService",
      "rpc.method": "GetLambdaPolicy",
      "rpc.grpc.status_code": Code.NotFound,
    });
    assert.equal(server.status.code, SpanStatusCode.UNSET, "NOT_FOUND is the caller's problem, not a server fault");
    assert.equal(server.resource.attributes["service.name"], "permission-gateway");

    assert.equal(backend.name, "Lambda.GetPolicy");
    assert.equal(backend.spanContext().traceId, traceId);
    assert.equal(backend.parentSpanContext?.spanId, server.spanContext().spanId);
    assert.deepEqual(backend.attributes, {
      "rpc.system": "aws-api",
      "rpc.service": "Lambda",
      "rpc.method": "GetPolicy",
      "error.type": "ResourceNotFoundException",
    });
    assert.equal(backend.status.code, SpanStatusCode.ERROR);

    // The AWS request would carry the backend span as its parent, and the caller's tracestate.
    assert.deepEqual(stack.outgoing.at(-1), {
      traceparent: `00-${traceId}-${backend.spanContext().spanId}-01`,
      tracestate: "vendor=abc,other=1",
    });
    assert.equal(stack.logged.at(-1)?.["traceId"], traceId);
  });

  test("a call without trace context starts a trace; server faults mark the span as an error", async () => {
    exporter.reset();
    const client = createClient(PermissionService, createGrpcTransport({ baseUrl: stack.server.h2Url }));
    await client.getLambdaPolicy({ functionName: "demo" }).catch(() => undefined);
    await assert.rejects(
      client.deleteRamPermission({ permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/x" }),
    );

    const servers = byKind(SpanKind.SERVER);
    assert.equal(servers.length, 2);
    const [read, unimplemented] = servers as [ReadableSpan, ReadableSpan];
    assert.equal(read.parentSpanContext, undefined, "a root span");
    assert.equal(read.attributes["rpc.system"], "grpc");
    assert.match(read.spanContext().traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(read.spanContext().traceId, traceId);
    assert.equal(stack.logged.at(-2)?.["traceId"], read.spanContext().traceId, "the log line names the span's trace");
    assert.equal(unimplemented.attributes["rpc.grpc.status_code"], Code.Unimplemented);
    assert.equal(unimplemented.status.code, SpanStatusCode.ERROR);
    assert.equal(unimplemented.status.message, "UNIMPLEMENTED");
  });

  test("an unsampled caller: no span is exported, the context still propagates", async () => {
    exporter.reset();
    const client = createClient(
      PermissionService,
      createConnectTransport({ baseUrl: stack.server.http1Url, httpVersion: "1.1" }),
    );
    await client
      .getLambdaPolicy({ functionName: "demo" }, { headers: { traceparent: `00-${traceId}-${callerSpan}-00` } })
      .catch(() => undefined);
    assert.equal(spans().length, 0);
    assert.match(stack.outgoing.at(-1)?.["traceparent"] ?? "", new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
  });

  test("outside a call there is nothing to propagate, and child spans are not started", async () => {
    exporter.reset();
    assert.deepEqual(stack.tracing.outgoingTraceHeaders(), {});
    assert.equal(await stack.tracing.inChildSpan("x", {}, async () => 42), 42);
    assert.equal(spans().length, 0);
  });
});

describe("spans off", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack(await createTracing());
  });
  after(() => stack.close());

  test("the caller's traceparent and tracestate go on unchanged; none is invented", async () => {
    assert.equal(stack.tracing.spansEnabled, false);
    const client = createClient(
      PermissionService,
      createConnectTransport({ baseUrl: stack.server.http1Url, httpVersion: "1.1" }),
    );
    await client
      .getLambdaPolicy(
        { functionName: "demo" },
        { headers: { traceparent: `00-${traceId}-${callerSpan}-01`, tracestate: "vendor=abc" } },
      )
      .catch(() => undefined);
    assert.deepEqual(stack.outgoing.at(-1), {
      traceparent: `00-${traceId}-${callerSpan}-01`,
      tracestate: "vendor=abc",
    });
    assert.equal(stack.logged.at(-1)?.["traceId"], traceId);

    await client
      .getLambdaPolicy({ functionName: "demo" }, { headers: { traceparent: "00-bad", tracestate: "vendor=abc" } })
      .catch(() => undefined);
    assert.deepEqual(stack.outgoing.at(-1), {});
    assert.match(String(stack.logged.at(-1)?.["traceId"]), /^[0-9a-f]{32}$/);
    assert.notEqual(stack.logged.at(-1)?.["traceId"], traceId);
  });
});

describe("OTLP/HTTP export", () => {
  test("spans are posted to the configured endpoint with the configured headers", async () => {
    const received: { path: string | undefined; headers: http.IncomingHttpHeaders; body: string }[] = [];
    const collector = http.createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      req.on("end", () => {
        received.push({ path: req.url, headers: req.headers, body });
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const stack = await startStack(
      await createTracing({
        tracesEndpoint: `${url}/v1/traces`,
        headers: { "x-collector-key": "k-123" },
        serviceName: "pg-under-test",
      }),
    );
    try {
      const client = createClient(
        PermissionService,
        createConnectTransport({ baseUrl: stack.server.http1Url, httpVersion: "1.1" }),
      );
      await client
        .getLambdaPolicy({ functionName: "demo" }, { headers: { traceparent: `00-${traceId}-${callerSpan}-01` } })
        .catch(() => undefined);
      await stack.tracing.shutdown();
      assert.equal(received.length, 1);
      const [post] = received as [(typeof received)[number]];
      assert.equal(post.path, "/v1/traces");
      assert.equal(post.headers["x-collector-key"], "k-123");
      assert.match(String(post.headers["content-type"]), /^application\/json/);
      const body = JSON.parse(post.body) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue?: string } }[] };
          scopeSpans: { spans: { name: string; traceId: string }[] }[];
        }[];
      };
      const resourceSpans = body.resourceSpans[0];
      assert.ok(resourceSpans !== undefined);
      assert.equal(
        resourceSpans.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue,
        "pg-under-test",
      );
      const names = resourceSpans.scopeSpans.flatMap((scope) => scope.spans.map((span) => span.name)).sort();
      assert.deepEqual(names, ["Lambda.GetPolicy", "permission.v1.PermissionService/GetLambdaPolicy"]);
      assert.ok(resourceSpans.scopeSpans.every((scope) => scope.spans.every((span) => span.traceId === traceId)));
    } finally {
      await stack.close();
      collector.closeAllConnections();
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});

describe("W3C trace context parsing", () => {
  test("traceparent: valid, future versions, and everything the spec says to ignore", () => {
    const valid = `00-${traceId}-${callerSpan}-01`;
    assert.deepEqual(parseTraceparent(valid), { traceId, spanId: callerSpan, flags: 1 });
    assert.deepEqual(parseTraceparent(` ${valid} `), { traceId, spanId: callerSpan, flags: 1 });
    assert.deepEqual(parseTraceparent(`cc-${traceId}-${callerSpan}-09-what-the-future-adds`), {
      traceId,
      spanId: callerSpan,
      flags: 9,
    });
    const ignored = [
      undefined,
      null,
      "",
      `00-${traceId}-${callerSpan}-01-extra`,
      `ff-${traceId}-${callerSpan}-01`,
      `00-${traceId.toUpperCase()}-${callerSpan}-01`,
      `00-${"0".repeat(32)}-${callerSpan}-01`,
      `00-${traceId}-${"0".repeat(16)}-01`,
      `00-${traceId.slice(1)}-${callerSpan}-01`,
      `00-${traceId}-${callerSpan}-1`,
      `00_${traceId}_${callerSpan}_01`,
    ];
    for (const header of ignored) assert.equal(parseTraceparent(header), undefined, String(header));
  });

  test("fresh trace IDs: 32 hex digits, distinct, across refills of the pool", () => {
    const next = createTraceIdSource();
    const ids = new Set(Array.from({ length: 1000 }, next));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
    assert.ok(!ids.has("0".repeat(32)));
  });

  test("tracestate: kept when well-formed, dropped whole otherwise", () => {
    assert.equal(parseTracestate("vendor=abc, other@tenant=x-1 ,"), "vendor=abc,other@tenant=x-1");
    const dropped = [
      undefined,
      "",
      "Vendor=abc",
      "vendor=",
      "vendor=a,b",
      "vendor=abc,vendor=def",
      Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(","),
      `vendor=${"x".repeat(600)}`,
    ];
    for (const header of dropped) assert.equal(parseTracestate(header), undefined, String(header));
  });
});

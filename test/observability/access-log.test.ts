// The access log through a real server: exactly one `info` line per call
// with every field, on each protocol, the caller's trace ID when it sent a
// valid traceparent (a fresh one otherwise), a line for a request that
// never reached an RPC, and no token or secret of the caller in the output.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createContextKey, createClient, createContextValues, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import type { Clock } from "../../src/clock.js";
import { createLogger } from "../../src/logger.js";
import { createAccessLogInterceptor, logRejectedRequest } from "../../src/observability/access-log.js";
import { createTracing } from "../../src/observability/tracing.js";
import { startTestServer, type TestServer } from "./support/connect-server.js";
import { createTestPermissionService } from "./support/test-service.js";

type Line = Record<string, unknown>;

const peerKey = createContextKey<string | undefined>(undefined);
const outcomeKey = createContextKey<string | undefined>(undefined);

const secrets = {
  bearer: "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.sig-7f3a",
  apiKey: "ak_live_4d9e8b1c2f",
  idempotencyKey: "idem-key-very-secret-91",
};

let lines: Line[];
let server: TestServer;
/** Each read is 7 ms after the previous one: a call's two reads make 7 ms. */
const steppingClock: Clock = (() => {
  let now = 1_700_000_000_000;
  return { now: () => (now += 7) };
})();

/** Stands in for the gateway's code that records what idempotency did during the call. */
const recordOutcome: Interceptor = (next) => (req) => {
  req.contextValues.set(outcomeKey, req.header.get("x-test-outcome") ?? "none");
  return next(req);
};

before(async () => {
  lines = [];
  const logger = createLogger({
    level: "info",
    destination: { write: (chunk: string) => void lines.push(JSON.parse(chunk) as Line) },
  });
  const tracing = await createTracing();
  server = await startTestServer({
    routes: (router) => router.service(PermissionService, createTestPermissionService(createFakeBackend())),
    contextValues: (req) => createContextValues().set(peerKey, `${req.socket.remoteAddress}:${req.socket.remotePort}`),
    interceptors: [
      tracing.interceptor,
      createAccessLogInterceptor({
        logger,
        clock: steppingClock,
        describe: (req, error) => ({
          caller: req.header.get("x-caller-id") ?? "anonymous",
          idempotency: req.contextValues.get(outcomeKey),
          awsRequestId: error === undefined ? undefined : "req-from-aws-1",
          peer: req.contextValues.get(peerKey),
        }),
      }),
      recordOutcome,
    ],
  });
});
after(() => server.close());

const callLines = () => lines.filter((line) => line["message"] === "call");

describe("one access line per call", () => {
  test("with every field, on every protocol", async () => {
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const connect = createClient(
      PermissionService,
      createConnectTransport({ baseUrl: server.http1Url, httpVersion: "1.1" }),
    );
    const grpcClient = createClient(PermissionService, createGrpcTransport({ baseUrl: server.h2Url }));
    const grpcWeb = createClient(
      PermissionService,
      createGrpcWebTransport({ baseUrl: server.http1Url, httpVersion: "1.1" }),
    );
    const before = callLines().length;

    await connect.addLambdaPermission(
      {
        functionName: "demo",
        statementId: "log-1",
        action: "lambda:InvokeFunction",
        principal: "s3.amazonaws.com",
        idempotencyKey: secrets.idempotencyKey,
      },
      {
        headers: {
          traceparent,
          "x-caller-id": "team-a",
          authorization: secrets.bearer,
          "x-api-key": secrets.apiKey,
          "x-test-outcome": "replayed",
        },
      },
    );
    await assert.rejects(
      grpcClient.getLambdaPolicy({ functionName: "no-such-function" }, { headers: { authorization: secrets.bearer } }),
    );
    await grpcWeb.getLambdaPolicy(
      { functionName: "demo" },
      { headers: { traceparent: "00-not-a-valid-traceparent-01" } },
    );

    const logged = callLines().slice(before);
    assert.equal(logged.length, 3, "one line per call");
    const [added, missing, read] = logged as [Line, Line, Line];
    const fields = [
      "caller",
      "code",
      "durationMs",
      "idempotency",
      "level",
      "message",
      "peer",
      "protocol",
      "rpc",
      "time",
      "traceId",
    ];
    assert.deepEqual(Object.keys(added).sort(), fields, "a success has no AWS request ID here");
    assert.deepEqual(Object.keys(missing).sort(), [...fields, "awsRequestId"].sort());
    assert.equal(added["level"], "info");
    assert.equal(added["rpc"], "permission.v1.PermissionService/AddLambdaPermission");
    assert.equal(added["protocol"], "connect");
    assert.equal(added["code"], "OK");
    assert.equal(added["durationMs"], 7);
    assert.equal(added["caller"], "team-a");
    assert.equal(added["idempotency"], "replayed");
    assert.match(String(added["peer"]), /^127\.0\.0\.1:\d+$/);
    assert.equal(added["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736", "the caller's trace");
    assert.match(String(added["time"]), /^\d{4}-\d\d-\d\dT/);

    assert.equal(missing["protocol"], "grpc");
    assert.equal(missing["code"], "NOT_FOUND");
    assert.equal(missing["caller"], "anonymous");
    assert.equal(missing["idempotency"], "none");
    assert.equal(missing["awsRequestId"], "req-from-aws-1");
    assert.match(String(missing["traceId"]), /^[0-9a-f]{32}$/, "a fresh trace ID without a traceparent");

    assert.equal(read["protocol"], "grpc_web");
    assert.equal(read["code"], "OK");
    assert.match(String(read["traceId"]), /^[0-9a-f]{32}$/, "an invalid traceparent is ignored");
    assert.notEqual(read["traceId"], missing["traceId"]);
  });

  test("with LOG_LEVEL above info it is not in the call's path at all", () => {
    const written: string[] = [];
    const logger = createLogger({ level: "warn", destination: { write: (chunk: string) => void written.push(chunk) } });
    const next: Parameters<Interceptor>[0] = () => Promise.reject(new Error("not called"));
    assert.equal(
      createAccessLogInterceptor({ logger, clock: { now: () => 0 } })(next),
      next,
      "Connect's next, unwrapped",
    );
    const atInfo = createLogger({ level: "info", destination: { write: (chunk: string) => void written.push(chunk) } });
    assert.notEqual(createAccessLogInterceptor({ logger: atInfo, clock: { now: () => 0 } })(next), next);
    assert.deepEqual(written, []);
  });

  test("a request that never reached an RPC gets its own line", () => {
    const logger = createLogger({
      level: "info",
      destination: { write: (chunk: string) => void lines.push(JSON.parse(chunk) as Line) },
    });
    logRejectedRequest(logger, {
      path: "/permission.v1.PermissionService/NoSuchMethod?token=" + secrets.apiKey,
      protocol: "grpc",
      reason: "unknown_path",
      code: 12,
      peer: "127.0.0.1:50000",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    });
    logRejectedRequest(logger, { path: "/" + "x".repeat(1000), protocol: "connect", reason: "decode_error", code: 3 });
    const [unknown, long] = lines.filter((line) => line["message"] === "request rejected").slice(-2) as [Line, Line];
    assert.deepEqual(
      { ...unknown, time: undefined },
      {
        level: "info",
        time: undefined,
        message: "request rejected",
        path: "/permission.v1.PermissionService/NoSuchMethod",
        protocol: "grpc",
        reason: "unknown_path",
        code: "UNIMPLEMENTED",
        peer: "127.0.0.1:50000",
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      },
    );
    assert.equal(String(long["path"]).length, 256);
    assert.equal(long["code"], "INVALID_ARGUMENT");
  });

  test("no token or secret of the caller appears anywhere in the output", () => {
    const output = lines.map((line) => JSON.stringify(line)).join("\n");
    assert.ok(lines.length >= 5);
    for (const secret of Object.values(secrets)) assert.ok(!output.includes(secret), `${secret} leaked`);
    assert.ok(!output.includes("eyJhbGciOiJIUzI1NiJ9"), "not even part of the bearer token");
  });
});

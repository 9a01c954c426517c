// The HTTP surface that is not an RPC: one port for HTTP/1.1 and h2c, the
// health check, CORS for browser front ends, and a close() that ends open
// connections instead of hanging.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as http2 from "node:http2";
import * as net from "node:net";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { PermissionService } from "../gen/permission/v1/permission_pb.js";
import { createFakeBackend } from "../src/backend/fake/fake-backend.js";
import { systemClock } from "../src/clock.js";
import { silentLogger } from "../src/logger.js";
import { startServer, type RunningServer } from "../src/server.js";
import { opensslAvailable, skipWithoutOpenssl } from "./auth/support/pki.js";
import { memoryGuard } from "./support/gateway.js";

const path = "/permission.v1.PermissionService/GetRamPermission";
const body = JSON.stringify({ permissionArn: "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet" });

async function start(corsAllowedOrigins: string[] = []): Promise<RunningServer> {
  const backend = createFakeBackend();
  return startServer(
    { backend, idempotency: memoryGuard(), logger: silentLogger, clock: systemClock },
    { host: "127.0.0.1", port: 0, corsAllowedOrigins },
  );
}

function h2Request(
  url: string,
  headers: http2.OutgoingHttpHeaders,
  payload: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const stream = session.request(headers);
    let text = "";
    let status = 0;
    stream.setEncoding("utf8");
    stream.on("response", (h) => (status = Number(h[":status"])));
    stream.on("data", (chunk: string) => (text += chunk));
    stream.on("end", () => {
      session.close();
      resolve({ status, body: text });
    });
    stream.on("error", reject);
    stream.end(payload);
  });
}

describe("one port, two HTTP versions", () => {
  let server: RunningServer;
  before(async () => (server = await start()));
  after(() => server.close());

  test("HTTP/1.1 Connect JSON", async () => {
    const res = await fetch(server.url + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /AWSRAMDefaultPermissionEC2Subnet/);
  });

  test("h2c prior knowledge Connect JSON", async () => {
    const res = await h2Request(
      server.url,
      { ":method": "POST", ":path": path, "content-type": "application/json" },
      body,
    );
    assert.equal(res.status, 200);
    assert.match(res.body, /AWSRAMDefaultPermissionEC2Subnet/);
  });

  test("a preface that arrives byte by byte still reaches the HTTP/2 server", async () => {
    const socket = net.connect(server.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    for (const byte of preface.subarray(0, 4)) {
      socket.write(Buffer.from([byte]));
      await new Promise((r) => setTimeout(r, 5));
    }
    socket.write(preface.subarray(4));
    // An empty SETTINGS frame: the server answers with its own SETTINGS (type 4).
    socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]));
    const reply = await new Promise<Buffer>((resolve) => socket.once("data", resolve));
    assert.equal(reply[3], 4, "an HTTP/2 SETTINGS frame came back");
    socket.destroy();
  });

  test("an HTTP/1.1 request that arrives byte by byte is still HTTP/1.1", async () => {
    const socket = net.connect(server.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    const request = Buffer.from("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let reply = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => (reply += chunk));
    for (const byte of request.subarray(0, 3)) {
      socket.write(Buffer.from([byte]));
      await new Promise((r) => setTimeout(r, 5));
    }
    socket.end(request.subarray(3));
    await new Promise((resolve) => socket.once("close", resolve));
    assert.match(reply, /^HTTP\/1\.1 200/);
  });

  test("/healthz answers 200; an unknown path 404", async () => {
    assert.equal((await fetch(server.url + "/healthz")).status, 200);
    assert.equal((await fetch(server.url + "/nope")).status, 404);
  });
});

describe("CORS", () => {
  let server: RunningServer;
  before(async () => (server = await start(["https://console.example.com"])));
  after(() => server.close());

  test("a preflight from an allowed origin is answered", async () => {
    const res = await fetch(server.url + path, {
      method: "OPTIONS",
      headers: {
        origin: "https://console.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-grpc-web",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "https://console.example.com");
    assert.match(res.headers.get("access-control-allow-headers") ?? "", /x-grpc-web/);
  });

  test("a call from an allowed origin can read the replay and gRPC headers", async () => {
    const res = await fetch(server.url + path, {
      method: "POST",
      headers: { origin: "https://console.example.com", "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("access-control-expose-headers") ?? "", /idempotent-replayed/);
    assert.match(res.headers.get("access-control-expose-headers") ?? "", /grpc-status-details-bin/);
  });

  test("another origin gets no CORS headers", async () => {
    const res = await fetch(server.url + path, {
      method: "POST",
      headers: { origin: "https://evil.example.com", "content-type": "application/json" },
      body,
    });
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  });
});

test("close() ends idle keep-alive and HTTP/2 connections and resolves", async () => {
  const server = await start();
  const session = http2.connect(server.url);
  await new Promise<void>((resolve) => session.once("connect", () => resolve()));
  await fetch(server.url + "/healthz", { keepalive: true });
  await server.close();
  assert.ok(session.closed || session.destroyed || (await new Promise((r) => session.once("close", () => r(true)))));
});

describe("requests the gateway refuses before any handler runs", () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(
      { backend: createFakeBackend(), idempotency: memoryGuard(), logger: silentLogger, clock: systemClock },
      { host: "127.0.0.1", port: 0, maxRequestBytes: 4096 },
    );
  });
  after(() => server.close());

  test("an unknown JSON field is INVALID_ARGUMENT naming it, not silently dropped", async () => {
    // AWS's spelling of principalOrgId: dropping it would widen the grant to everyone.
    const res = await fetch(server.url + "/permission.v1.PermissionService/AddLambdaPermission", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        functionName: "demo",
        statementId: "org",
        action: "lambda:InvokeFunction",
        principal: "*",
        PrincipalOrgID: "o-abcdefghij",
      }),
    });
    assert.equal(res.status, 400);
    const error = (await res.json()) as { code: string; message: string };
    assert.equal(error.code, "invalid_argument");
    assert.match(error.message, /PrincipalOrgID/);
  });

  test("a request over MAX_REQUEST_BYTES is RESOURCE_EXHAUSTED", async () => {
    const res = await fetch(server.url + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ permissionArn: "x".repeat(10_000) }),
    });
    const error = (await res.json()) as { code: string };
    assert.equal(error.code, "resource_exhausted");
  });
});

describe("graceful shutdown", () => {
  test("close() lets an in-flight call finish within the grace period", async () => {
    const backend = createFakeBackend({ faults: { latencyMs: 300 } });
    const server = await startServer(
      { backend, idempotency: memoryGuard(), logger: silentLogger, clock: systemClock },
      { host: "127.0.0.1", port: 0, shutdownGraceMs: 10_000 },
    );
    const call = fetch(server.url + path, { method: "POST", headers: { "content-type": "application/json" }, body });
    await new Promise((r) => setTimeout(r, 100));
    await server.close();
    const res = await call;
    assert.equal(res.status, 200);
    assert.match(await res.text(), /AWSRAMDefaultPermissionEC2Subnet/);
  });

  test("a call still running when the grace period ends is cut, and close() resolves", async () => {
    const backend = createFakeBackend({ faults: { latencyMs: 60_000 } });
    const server = await startServer(
      { backend, idempotency: memoryGuard(), logger: silentLogger, clock: systemClock },
      { host: "127.0.0.1", port: 0, shutdownGraceMs: 100 },
    );
    const call = fetch(server.url + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    }).then(
      (res) => res.status,
      (error: unknown) => error,
    );
    await new Promise((r) => setTimeout(r, 100));
    await server.close();
    assert.ok((await call) instanceof Error, "the connection was cut");
    await backend.close();
  });
});

describe("TLS", () => {
  let dir: string;
  let cert: Buffer;
  let key: Buffer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pg-tls-"));
    if (!opensslAvailable()) return;
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    cert = await readFile(join(dir, "cert.pem"));
    key = await readFile(join(dir, "key.pem"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("serves gRPC over HTTP/2 and Connect over HTTP/1.1 on one TLS port", async (t) => {
    // .ci/run installs openssl; a developer machine without it skips loudly.
    if (skipWithoutOpenssl(t)) return;
    const server = await startServer(
      { backend: createFakeBackend(), idempotency: memoryGuard(), logger: silentLogger, clock: systemClock },
      { host: "127.0.0.1", port: 0, tls: { context: { cert, key } } },
    );
    try {
      assert.match(server.url, /^https:\/\//);
      const client = createClient(
        PermissionService,
        createGrpcTransport({ baseUrl: server.url, nodeOptions: { ca: cert } }),
      );
      const res = await client.getRamPermission({
        permissionArn: "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet",
      });
      assert.equal(res.permission?.name, "AWSRAMDefaultPermissionEC2Subnet");
      const connect = createClient(
        PermissionService,
        createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { ca: cert } }),
      );
      const policy = await connect
        .getLambdaPolicy({ functionName: "demo" })
        .catch((error: unknown) => ConnectError.from(error));
      assert.ok(policy instanceof ConnectError && policy.code === Code.NotFound);
    } finally {
      await server.close();
    }
  });
});

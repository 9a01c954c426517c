// The HTTP surface that is not an RPC: one port for HTTP/1.1 and h2c, the
// health check, CORS for browser front ends, and a close() that ends open
// connections instead of hanging.
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import * as net from "node:net";
import { after, before, describe, test } from "node:test";
import { createFakeBackend } from "../src/backend/fake/fake-backend.js";
import { systemClock } from "../src/clock.js";
import { silentLogger } from "../src/logger.js";
import { startServer, type RunningServer } from "../src/server.js";
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

function h2Request(url: string, headers: http2.OutgoingHttpHeaders, payload: string): Promise<{ status: number; body: string }> {
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
    const res = await fetch(server.url + path, { method: "POST", headers: { "content-type": "application/json" }, body });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /AWSRAMDefaultPermissionEC2Subnet/);
  });

  test("h2c prior knowledge Connect JSON", async () => {
    const res = await h2Request(server.url, { ":method": "POST", ":path": path, "content-type": "application/json" }, body);
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
      headers: { origin: "https://console.example.com", "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-grpc-web" },
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

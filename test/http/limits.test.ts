// Each limit of the server, through a real server and real sockets: HTTP/2
// streams per connection, header size, open connections, slow headers and
// bodies, idle connections, calls in flight (shed before the store is
// touched), and a shutdown whose count of calls in flight stays exact.
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import * as net from "node:net";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { systemClock } from "../../src/clock.js";
import { createIdempotencyGuard } from "../../src/idempotency/guard-machine.js";
import { createMemoryIdempotencyStore } from "../../src/idempotency/memory-store.js";
import type { IdempotencyStore } from "../../src/idempotency/store.js";
import { silentLogger } from "../../src/logger.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { connectStatusOf, h1Exchange, h2Exchange, rawExchange, statusCodes } from "../support/raw-http.js";
import { until } from "../support/eventually.js";

const service = "/permission.v1.PermissionService";
const listBody = Buffer.from("{}");
const json = { "content-type": "application/json" };
const quickly = { timeoutMs: 10_000, intervalMs: 10 };

describe("HTTP/2 streams per connection", () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway({
      backend: createFakeBackend({ faults: { latencyMs: 300 } }),
      listen: { limits: { http2MaxConcurrentStreams: 8 } },
    });
  });
  after(() => gateway.close());

  test("the server advertises its limit and never runs more streams of one connection at once", async () => {
    const session = http2.connect(gateway.url);
    await new Promise<void>((resolve) => session.once("remoteSettings", () => resolve()));
    assert.equal(session.remoteSettings.maxConcurrentStreams, 8);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, gateway.inFlight())), 5);
    const calls = Array.from(
      { length: 24 },
      () =>
        new Promise<number>((resolve) => {
          const stream = session.request({ ":method": "POST", ":path": `${service}/ListRamPermissions`, ...json });
          let status = 0;
          stream.on("response", (h) => (status = Number(h[":status"])));
          stream.on("data", () => undefined);
          stream.on("close", () => resolve(status));
          stream.end("{}");
        }),
    );
    const statuses = await Promise.all(calls);
    clearInterval(sampler);
    session.close();
    assert.ok(peak <= 8, `at most 8 calls at once, saw ${peak}`);
    assert.ok(peak >= 2, `streams did run concurrently, saw ${peak}`);
    assert.deepEqual(new Set(statuses), new Set([200]), "every stream was served in turn");
  });
});

describe("header size", () => {
  let gateway: TestGateway;
  before(async () => (gateway = await startTestGateway({ listen: { limits: { maxHeaderBytes: 4096 } } })));
  after(() => gateway.close());

  test("HTTP/1.1: a header block over the limit is 431", async () => {
    const exchange = await rawExchange(gateway.port, [
      `POST ${service}/ListRamPermissions HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(8192)}\r\n\r\n`,
    ]);
    assert.equal(statusCodes(exchange.text)[0], 431);
  });

  test("HTTP/2: a header block over the limit is refused with 431, and the server goes on", async () => {
    const refused = await h2Exchange(
      gateway.url,
      `${service}/ListRamPermissions`,
      { ...json, "x-big": "b".repeat(8192) },
      listBody,
    );
    assert.equal(refused.httpStatus, 431);
    const answer = await h2Exchange(gateway.url, `${service}/ListRamPermissions`, json, listBody);
    assert.equal(answer.httpStatus, 200);
  });
});

describe("open connections", () => {
  let gateway: TestGateway;
  before(async () => (gateway = await startTestGateway({ listen: { limits: { maxConnections: 4 } } })));
  after(() => gateway.close());

  test("connections past the limit are closed as they arrive; freed places are taken again", async () => {
    const held: net.Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const socket = net.connect(gateway.port, "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      held.push(socket);
    }
    await sleep(50);
    const refused = await rawExchange(gateway.port, [`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`], { timeoutMs: 5_000 });
    assert.equal(refused.closedByServer, true);
    assert.equal(refused.text, "", "no answer on a refused connection");
    for (const socket of held) socket.destroy();
    await sleep(50);
    const served = await rawExchange(gateway.port, [`GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
    assert.equal(statusCodes(served.text)[0], 200);
  });
});

describe("slow and idle clients", () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway({
      listen: {
        limits: {
          headersTimeoutMs: 300,
          requestTimeoutMs: 600,
          http1KeepAliveTimeoutMs: 200,
          http2IdleTimeoutMs: 1_000,
        },
      },
    });
  });
  after(() => gateway.close());

  test("HTTP/1.1: headers sent a byte at a time are cut with 408", async () => {
    const request = `POST ${service}/ListRamPermissions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`;
    const exchange = await rawExchange(gateway.port, [...request].slice(0, 60), { gapMs: 100, timeoutMs: 10_000 });
    assert.equal(exchange.closedByServer, true);
    assert.equal(statusCodes(exchange.text)[0], 408);
  });

  test("HTTP/1.1: a body sent a byte at a time is cut", async () => {
    const head = `POST ${service}/ListRamPermissions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
    const exchange = await rawExchange(gateway.port, [head, ..."{".repeat(99)], { gapMs: 100, timeoutMs: 10_000 });
    assert.equal(exchange.closedByServer, true);
    assert.notEqual(statusCodes(exchange.text)[0], 200);
  });

  test("HTTP/2: a body sent a byte at a time is cut", async () => {
    const session = http2.connect(gateway.url);
    session.on("error", () => undefined);
    const stream = session.request({ ":method": "POST", ":path": `${service}/ListRamPermissions`, ...json });
    stream.on("error", () => undefined);
    stream.on("data", () => undefined);
    const trickle = setInterval(() => {
      if (!stream.destroyed) stream.write("{");
    }, 100);
    const closed = new Promise<void>((resolve) => stream.once("close", () => resolve()));
    await Promise.race([closed, sleep(10_000).then(() => assert.fail("the stream was not cut"))]);
    clearInterval(trickle);
    assert.notEqual(stream.rstCode, http2.constants.NGHTTP2_NO_ERROR, "reset by the server");
    session.destroy();
  });

  test("HTTP/1.1: an idle keep-alive connection is closed", async () => {
    const exchange = await rawExchange(gateway.port, [`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`], {
      timeoutMs: 10_000,
    });
    assert.equal(statusCodes(exchange.text)[0], 200);
    assert.equal(exchange.closedByServer, true);
  });

  test("HTTP/2: a session without streams is closed, one with streams is not", async () => {
    const session = http2.connect(gateway.url);
    session.on("error", () => undefined);
    const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
    await h2Request(session, `${service}/ListRamPermissions`);
    await Promise.race([goaway, sleep(10_000).then(() => assert.fail("no GOAWAY for an idle session"))]);
    session.destroy();
  });

  test("a connection that never sends a byte is dropped", async () => {
    const exchange = await rawExchange(gateway.port, [], { timeoutMs: 20_000 });
    assert.equal(exchange.closedByServer, true);
  });
});

function h2Request(session: http2.ClientHttp2Session, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...json });
    let status = 0;
    stream.on("response", (h) => (status = Number(h[":status"])));
    stream.on("data", () => undefined);
    stream.on("end", () => resolve(status));
    stream.on("error", reject);
    stream.end("{}");
  });
}

/** A store that counts what it is asked, to show a shed call never reached it. */
function countingStore(inner: IdempotencyStore): IdempotencyStore & { claims: number } {
  const counted = {
    claims: 0,
    claim: (input: Parameters<IdempotencyStore["claim"]>[0]) => {
      counted.claims++;
      return inner.claim(input);
    },
    complete: (input: Parameters<IdempotencyStore["complete"]>[0]) => inner.complete(input),
    release: (input: Parameters<IdempotencyStore["release"]>[0]) => inner.release(input),
    read: (key: string) => inner.read(key),
  };
  return counted as IdempotencyStore & { claims: number };
}

describe("calls in flight", () => {
  test("past the limit, calls are shed with RESOURCE_EXHAUSTED and RetryInfo before the store is touched", async () => {
    const store = countingStore(createMemoryIdempotencyStore({ clock: systemClock }));
    const idempotency = createIdempotencyGuard({
      store,
      clock: systemClock,
      logger: silentLogger,
      ttlMs: 60_000,
      leaseMs: 30_000,
      maxWaitMs: 1_000,
    });
    const gateway = await startTestGateway({
      backend: createFakeBackend({ faults: { latencyMs: 400 } }),
      idempotency,
      listen: { limits: { maxInFlightCalls: 3 } },
    });
    try {
      const calls = Array.from({ length: 12 }, (_, i) =>
        h1Exchange(
          gateway.url,
          `${service}/RemoveLambdaPermission`,
          json,
          Buffer.from(
            JSON.stringify({
              functionName: "demo",
              statementId: `s${i}`,
              allowMissing: true,
              idempotencyKey: `key-${i}`,
            }),
          ),
        ),
      );
      const answers = await Promise.all(calls);
      const shed = answers.filter((answer) => answer.httpStatus === 429);
      const served = answers.filter((answer) => answer.httpStatus === 200);
      assert.equal(shed.length + served.length, 12, answers.map((a) => a.body.toString()).join("\n"));
      assert.ok(served.length >= 3 && shed.length >= 1, `served ${served.length}, shed ${shed.length}`);
      for (const answer of shed) {
        const status = connectStatusOf(answer);
        assert.deepEqual(status?.reasons, ["OVERLOADED"]);
        assert.match(answer.body.toString(), /google\.rpc\.RetryInfo/);
      }
      assert.equal(store.claims, served.length, "only admitted calls claimed a token");
    } finally {
      await gateway.close();
    }
  });
});

describe("shutdown", () => {
  test("pipelined HTTP/1.1 requests on a connection that goes away do not hold up close()", async () => {
    const gateway = await startTestGateway({
      backend: createFakeBackend({ faults: { latencyMs: 200 } }),
      listen: { shutdownGraceMs: 60_000 },
    });
    const one = `POST ${service}/ListRamPermissions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`;
    await rawExchange(gateway.port, [one + one + one + one], { timeoutMs: 50 });
    await until("no call in flight", () => gateway.inFlight() === 0, quickly);
    const report = await Promise.race([gateway.close(), sleep(30_000).then(() => "timed out" as const)]);
    assert.deepEqual(report, { cutCalls: 0 });
  });

  test("calls past the grace period are cut, reported, and have returned when close() resolves", async () => {
    const gateway = await startTestGateway({
      backend: createFakeBackend({ faults: { latencyMs: 60_000 } }),
      listen: { shutdownGraceMs: 200 },
    });
    const calls = Array.from({ length: 3 }, () =>
      h1Exchange(gateway.url, `${service}/ListRamPermissions`, json, listBody).catch((error: unknown) => error),
    );
    await until("3 calls in flight", () => gateway.inFlight() === 3, quickly);
    const report = await gateway.close();
    assert.deepEqual(report, { cutCalls: 3 });
    assert.equal(gateway.inFlight(), 0);
    for (const outcome of await Promise.all(calls)) assert.ok(outcome instanceof Error, "the connection was cut");
  });

  test("a call that arrives on an open connection while draining is refused with UNAVAILABLE", async () => {
    const gateway = await startTestGateway({
      backend: createFakeBackend({ faults: { latencyMs: 500 } }),
      listen: { shutdownGraceMs: 10_000 },
    });
    const session = http2.connect(gateway.url);
    session.on("error", () => undefined);
    const first = h2Request(session, `${service}/ListRamPermissions`);
    await until("1 call in flight", () => gateway.inFlight() === 1, quickly);
    const closing = gateway.close();
    const late = await h2Exchange(gateway.url, `${service}/ListRamPermissions`, json, listBody).then(
      (answer) => answer.httpStatus,
      () => "refused" as const,
    );
    assert.ok(late === "refused" || late === 503, `a new call is refused, got ${String(late)}`);
    assert.equal(await first, 200, "the call in flight finished");
    assert.deepEqual(await closing, { cutCalls: 0 });
    session.destroy();
  });
});

// Health and readiness through a real server and real clients: a readiness
// probe that pings a real redis-server (with ioredis, failing fast), stopped
// and started under the gateway; gRPC Check, List and Watch over connect-es
// and grpc-js; GET /healthz and /readyz over HTTP/1.1; shutdown first; the
// bound on Watch streams, through a whole gateway.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Redis } from "ioredis";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/health/v1/health_pb.js";
import { createHealthEndpoint } from "../../src/health/health-endpoint.js";
import { createHealthService } from "../../src/health/health-service.js";
import { createHealthState, type HealthState, type ReadinessProbe } from "../../src/health/health-state.js";
import { redisServerBinary, skipWithoutRedis, startRedisServer, type RedisServer } from "../support/redis-server.js";
import { startTestServer, type TestServer } from "../observability/support/connect-server.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { eventually } from "../support/eventually.js";
import { createRecordingLogger } from "../support/recording-logger.js";

const permissionService = "permission.v1.PermissionService";

/** Values as they arrive, read in order; next() waits for one. */
function createQueue<T>(): { push(value: T): void; next(): Promise<T>; readonly seen: T[] } {
  const seen: T[] = [];
  let read = 0;
  const waiting: (() => void)[] = [];
  return {
    seen,
    push(value) {
      seen.push(value);
      waiting.shift()?.();
    },
    async next() {
      while (read >= seen.length) await new Promise<void>((resolve) => waiting.push(resolve));
      return seen[read++] as T;
    },
  };
}

/** A readiness probe on a real Redis: PING through a client that fails at once while disconnected. */
function redisPingProbe(redis: Redis): ReadinessProbe {
  return async () => {
    await redis.ping();
    return { ready: true };
  };
}

function grpcJsHealthClient(url: string): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  const protoPath = fileURLToPath(
    new URL("../../node_modules/grpc-health-check/proto/health/v1/health.proto", import.meta.url),
  );
  const definition = protoLoader.loadSync(protoPath, { enums: String, defaults: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  return new loaded.grpc.health.v1.Health(new URL(url).host, grpc.credentials.createInsecure()) as never;
}

function grpcJsCheck(client: ReturnType<typeof grpcJsHealthClient>, service: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client["Check"]?.({ service }, (error: grpc.ServiceError | null, response: { status: string }) =>
      error === null ? resolve(response.status) : reject(error),
    );
  });
}

/** What the served endpoints log (their refusals). */
const endpointLog = createRecordingLogger();

/** Starts the state's polling and serves it: gRPC Health, /healthz and /readyz. */
async function serveHealth(state: HealthState): Promise<TestServer> {
  await state.start();
  return startTestServer({
    routes: (router) => router.service(Health, createHealthService(state)),
    endpoints: [createHealthEndpoint(state, endpointLog)],
  });
}

async function readyz(server: TestServer): Promise<{ status: number; body: unknown }> {
  const response = await fetch(server.http1Url + "/readyz");
  return { status: response.status, body: await response.json() };
}

describe("readiness follows a real Redis", () => {
  let redisServer: RedisServer | undefined;
  let redis: Redis;
  let state: HealthState;
  let server: TestServer;

  before(async () => {
    if (redisServerBinary() === undefined) return;
    redisServer = await startRedisServer();
    redis = new Redis({
      host: redisServer.host,
      port: redisServer.port,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 500,
      retryStrategy: () => 100,
    });
    redis.on("error", () => {});
    await new Promise((resolve) => redis.once("ready", resolve));
    state = createHealthState({
      checks: { store: redisPingProbe(redis), backend: async () => ({ ready: true }) },
      services: { [permissionService]: ["store", "backend"] },
      intervalMs: 100,
      timeoutMs: 1000,
    });
    server = await serveHealth(state);
  });
  after(async () => {
    state?.close();
    await server?.close();
    redis?.disconnect();
    await redisServer?.close();
  });

  test("SERVING -> NOT_SERVING when Redis stops -> SERVING when it returns -> NOT_SERVING first at shutdown", async (t) => {
    if (redisServer === undefined) return skipWithoutRedis(t, "readiness needs a Redis to stop and start");
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.h2Url }));
    const grpcJs = grpcJsHealthClient(server.h2Url);
    const overall = createQueue<Status>();
    const perService = createQueue<string>();
    const watching = new AbortController();
    const overallDone = (async () => {
      for await (const message of health.watch({ service: "" }, { signal: watching.signal }))
        overall.push(message.status);
    })();
    const grpcJsWatch = grpcJs["Watch"]?.({ service: permissionService }) as grpc.ClientReadableStream<{
      status: string;
    }>;
    grpcJsWatch.on("data", (message: { status: string }) => perService.push(message.status));
    const grpcJsEnded = new Promise<void>((resolve) => grpcJsWatch.on("end", resolve));

    try {
      assert.equal(await overall.next(), Status.SERVING);
      assert.equal(await perService.next(), "SERVING");
      assert.equal((await health.check({ service: "" })).status, Status.SERVING);
      assert.equal(await grpcJsCheck(grpcJs, permissionService), "SERVING");
      assert.deepEqual(await readyz(server), { status: 200, body: { status: "SERVING" } });

      await redisServer.stop();
      assert.equal(await overall.next(), Status.NOT_SERVING);
      assert.equal(await perService.next(), "NOT_SERVING");
      assert.equal((await health.check({ service: permissionService })).status, Status.NOT_SERVING);
      assert.equal(await grpcJsCheck(grpcJs, ""), "NOT_SERVING");
      const down = await readyz(server);
      assert.equal(down.status, 503);
      const failing = (down.body as { failing: { check: string; detail?: string }[] }).failing;
      assert.deepEqual(
        failing.map((f) => f.check),
        ["store"],
      );
      assert.ok((failing[0]?.detail ?? "").length > 0, "the failing check says why");
      assert.equal((await fetch(server.http1Url + "/healthz")).status, 200, "live while not ready");

      await redisServer.start();
      assert.equal(await overall.next(), Status.SERVING);
      assert.equal(await perService.next(), "SERVING");
      assert.equal((await health.check({ service: "" })).status, Status.SERVING);
      assert.equal((await readyz(server)).status, 200);

      // Shutdown: NOT_SERVING at once (Redis is up), watchers told and ended.
      state.setShuttingDown();
      assert.equal((await health.check({ service: "" })).status, Status.NOT_SERVING);
      assert.deepEqual(await readyz(server), {
        status: 503,
        body: { status: "NOT_SERVING", failing: [{ check: "shutdown", detail: "the gateway is shutting down" }] },
      });
      assert.equal(await overall.next(), Status.NOT_SERVING);
      assert.equal(await perService.next(), "NOT_SERVING");
      await overallDone;
      await grpcJsEnded;
      assert.deepEqual(overall.seen, [Status.SERVING, Status.NOT_SERVING, Status.SERVING, Status.NOT_SERVING]);
      assert.deepEqual(perService.seen, ["SERVING", "NOT_SERVING", "SERVING", "NOT_SERVING"]);
      assert.equal((await fetch(server.http1Url + "/healthz")).status, 200, "live while draining");
    } finally {
      watching.abort();
      await overallDone.catch(() => {});
      grpcJsWatch.cancel();
      grpcJs.close();
    }
  });
});

describe("the health service and endpoints", () => {
  let state: HealthState;
  let server: TestServer;
  let storeReady = true;

  before(async () => {
    state = createHealthState({
      checks: {
        store: async () => (storeReady ? { ready: true } : { ready: false, detail: "store says no" }),
        backend: async () => ({ ready: true }),
      },
      services: { [permissionService]: ["store", "backend"], "other.v1.Unprobed": ["backend"] },
      intervalMs: 60_000,
    });
    server = await serveHealth(state);
  });
  after(async () => {
    state.close();
    await server.close();
  });

  test("an unknown service: Check is NOT_FOUND, Watch sends SERVICE_UNKNOWN and stays open", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.h2Url }));
    await assert.rejects(health.check({ service: "no.such.Service" }), (error: unknown) => {
      assert.ok(error instanceof ConnectError);
      assert.equal(error.code, Code.NotFound);
      assert.match(error.rawMessage, /no\.such\.Service/);
      assert.equal(error.findDetails(ErrorInfoSchema)[0]?.reason, "SERVICE_NOT_FOUND");
      return true;
    });
    const watching = new AbortController();
    const stream = health.watch({ service: "no.such.Service" }, { signal: watching.signal })[Symbol.asyncIterator]();
    const first = await stream.next();
    assert.equal(first.done === true ? undefined : first.value.status, Status.SERVICE_UNKNOWN);
    const more = stream.next();
    watching.abort();
    await assert.rejects(more, (error: unknown) => ConnectError.from(error).code === Code.Canceled);
  });

  test("per service: a service needs only its own checks; List names them all", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.h2Url }));
    storeReady = false;
    await state.refresh();
    try {
      assert.equal((await health.check({ service: permissionService })).status, Status.NOT_SERVING);
      assert.equal((await health.check({ service: "other.v1.Unprobed" })).status, Status.SERVING);
      const list = await health.list({});
      assert.deepEqual(
        Object.fromEntries(Object.entries(list.statuses).map(([name, response]) => [name, response.status])),
        { "": Status.NOT_SERVING, [permissionService]: Status.NOT_SERVING, "other.v1.Unprobed": Status.SERVING },
      );
      assert.deepEqual(await readyz(server), {
        status: 503,
        body: { status: "NOT_SERVING", failing: [{ check: "store", detail: "store says no" }] },
      });
    } finally {
      storeReady = true;
      await state.refresh();
    }
    assert.equal((await health.check({ service: permissionService })).status, Status.SERVING);
  });

  test("/healthz and /readyz: GET and HEAD only, no caching", async () => {
    const head = await fetch(server.http1Url + "/readyz", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("cache-control"), "no-store");
    assert.equal(await head.text(), "");
    const post = await fetch(server.http1Url + "/healthz", { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    assert.equal(await post.text(), "POST is not allowed on /healthz: use GET or HEAD\n");
    const logged = endpointLog.lines.find((line) => line.message === "request rejected");
    assert.deepEqual(
      { path: logged?.fields?.["path"], reason: logged?.fields?.["reason"] },
      { path: "/healthz", reason: "malformed_request" },
    );
    const live = await fetch(server.http1Url + "/healthz?probe=1");
    assert.equal(live.status, 200);
    assert.equal(await live.text(), "ok\n");
    assert.equal((await fetch(server.http1Url + "/elsewhere")).status, 404);
  });
});

describe("probes", () => {
  test("a probe that hangs, throws or says no is not ready, with its reason", async () => {
    const state = createHealthState({
      checks: {
        hangs: (signal) =>
          new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))),
        throws: async () => {
          throw new Error("connection refused");
        },
        saysNo: async () => ({ ready: false, detail: "x".repeat(500) }),
        fine: async () => ({ ready: true }),
      },
      timeoutMs: 50,
    });
    const snapshot = await state.refresh();
    assert.equal(snapshot.ready, false);
    assert.deepEqual(
      snapshot.checks.map(({ name, ready }) => [name, ready]),
      [
        ["hangs", false],
        ["throws", false],
        ["saysNo", false],
        ["fine", true],
      ],
    );
    assert.equal(snapshot.checks[0]?.detail, "no answer within 50 ms");
    assert.equal(snapshot.checks[1]?.detail, "connection refused");
    assert.equal(snapshot.checks[2]?.detail?.length, 200, "details are kept short");
    state.close();
  });

  test("rounds do not overlap: a refresh during a round joins it", async () => {
    let runs = 0;
    let release: () => void = () => {};
    const state = createHealthState({
      checks: {
        slow: async () => {
          runs++;
          await new Promise<void>((resolve) => (release = resolve));
          return { ready: true };
        },
      },
    });
    const first = state.refresh();
    const second = state.refresh();
    release();
    assert.equal(await first, await second);
    assert.equal(runs, 1);
    state.close();
  });

  test("before the first round nothing is SERVING; a service naming an unknown check is refused", () => {
    const state = createHealthState({ checks: { store: async () => ({ ready: true }) } });
    assert.equal(state.status(""), "NOT_SERVING");
    assert.equal(state.snapshot().checks[0]?.detail, "not checked yet");
    assert.throws(
      () => createHealthState({ checks: {}, services: { "a.B": ["store"] } }),
      /service "a\.B" needs unknown checks: store/,
    );
  });
});

describe("Watch streams have a bound of their own", () => {
  test("past HEALTH_MAX_WATCH_STREAMS a new Watch is RESOURCE_EXHAUSTED (grpc-js); the open ones keep working", async (t) => {
    const bound = 5;
    const gateway = await startConfiguredGateway({
      HEALTH_MAX_WATCH_STREAMS: String(bound),
      MAX_IN_FLIGHT_CALLS: "2",
    });
    t.after(() => gateway.close());
    const client = grpcJsHealthClient(gateway.url);
    t.after(() => client.close());
    type WatchStream = grpc.ClientReadableStream<{ status: string }>;
    const open = (): {
      stream: WatchStream;
      messages: ReturnType<typeof createQueue<string>>;
      ended: Promise<grpc.ServiceError | undefined>;
    } => {
      const stream = client["Watch"]?.({ service: "" }) as WatchStream;
      const messages = createQueue<string>();
      stream.on("data", (response: { status: string }) => messages.push(response.status));
      const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
        stream.on("error", (error: grpc.ServiceError) => resolve(error));
        stream.on("end", () => resolve(undefined));
      });
      return { stream, messages, ended };
    };
    const watchers = Array.from({ length: bound }, open);
    for (const watcher of watchers) assert.equal(await watcher.messages.next(), "SERVING");

    // More than the bound, and more than MAX_IN_FLIGHT_CALLS: each one past the bound is refused.
    for (let i = 0; i < 3; i++) {
      const excess = open();
      const error = await excess.ended;
      assert.equal(error?.code, grpc.status.RESOURCE_EXHAUSTED, `watch #${bound + i + 1}`);
      assert.match(error.details, /limit of 5 open health Watch streams/);
      assert.deepEqual(excess.messages.seen, []);
    }
    // Check still answers: only Watch streams count.
    assert.equal(await grpcJsCheck(client, ""), "SERVING");

    // The open ones keep working: a shutdown reaches each as NOT_SERVING.
    watchers[0]?.stream.cancel();
    await watchers[0]?.ended;
    // The gateway frees the slot once it sees the cancellation, a moment after the client.
    const again = await eventually(
      "a slot freed by a leaving watcher is usable",
      async () => {
        const watcher = open();
        const first = await Promise.race([watcher.messages.next(), watcher.ended.then((error) => error?.code)]);
        return { watcher, first };
      },
      ({ first }) => first === "SERVING",
    );
    gateway.health.setShuttingDown();
    for (const watcher of [...watchers.slice(1), again.watcher])
      assert.equal(await watcher.messages.next(), "NOT_SERVING");
  });
});

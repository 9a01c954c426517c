// Idempotency through the real gateway: Connect clients over HTTP/1.1, the
// fake backend, and a real redis-server shared by several gateway instances,
// each with its own guard and ioredis client built from configuration.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { TestContext } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type { CallOptions, Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  AddLambdaPermissionRequestSchema,
  AddLambdaPermissionResponseSchema,
  CreateRamPermissionResponseSchema,
  PermissionService,
} from "../../gen/permission/v1/permission_pb.js";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import type { FakeBackend } from "../../src/backend/fake/fake-backend.js";
import { systemClock } from "../../src/clock.js";
import { parseIdempotencyConfig } from "../../src/idempotency/config.js";
import { requestFingerprint } from "../../src/idempotency/fingerprint.js";
import { idempotencyRecordKey } from "../../src/idempotency/record-key.js";
import { createIdempotency } from "../../src/idempotency/create-idempotency.js";
import type { Idempotency } from "../../src/idempotency/create-idempotency.js";
import { silentLogger } from "../../src/logger.js";
import { startServer } from "../../src/server.js";
import type { RunningServer } from "../../src/server.js";
import { acquireStandaloneRedis, skipWithoutRedis } from "../support/redis-server.js";
import type { StandaloneRedis } from "../support/redis-server.js";
import { until } from "../support/eventually.js";

const REPLAYED = "idempotent-replayed";
const DEMO_FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:demo";
const DEMO_PERMISSION = "arn:aws:ram:us-east-1:123456789012:permission/demo-permission";
const DEMO_ATTACHED_PERMISSION = "arn:aws:ram:us-east-1:123456789012:permission/demo-attached";
const CLIENT_TOKEN = "client-token";

let redis: StandaloneRedis | undefined;

before(async () => {
  redis = await acquireStandaloneRedis();
});

after(async () => {
  await redis?.close();
});

interface Gateway {
  readonly server: RunningServer;
  readonly idempotency: Idempotency;
  readonly client: Client<typeof PermissionService>;
}

/** N gateway instances sharing one Redis and one fake backend. */
async function startGateways(t: TestContext, count: number, backend: FakeBackend): Promise<Gateway[] | undefined> {
  if (redis === undefined || redis.kind === "none") {
    skipWithoutRedis(t, redis?.kind === "none" ? redis.reason : "no Redis");
    return undefined;
  }
  const config = parseIdempotencyConfig({ IDEMPOTENCY_STORE: "redis", REDIS_URL: redis.url });
  const gateways: Gateway[] = [];
  t.after(async () => {
    for (const gateway of gateways) {
      await gateway.server.close();
      await gateway.idempotency.close();
    }
    await backend.close();
  });
  for (let i = 0; i < count; i += 1) {
    const idempotency = await createIdempotency(config, { clock: systemClock, logger: silentLogger });
    const server = await startServer(
      { backend, idempotency: idempotency.guard, logger: silentLogger, clock: systemClock },
      { host: "127.0.0.1", port: 0 },
    );
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: true });
    gateways.push({ server, idempotency, client: createClient(PermissionService, transport) });
  }
  return gateways;
}

/** Calls with a fresh caller id (so tests never share tokens) and records the replay header. */
function headerRecorder(callerId: string): { options: CallOptions; replayed: () => string | null } {
  let replayed: string | null = null;
  return {
    options: { headers: { "x-caller-id": callerId }, onHeader: (headers) => void (replayed = headers.get(REPLAYED)) },
    replayed: () => replayed,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  return assert.fail("expected the call to fail");
}

function reasonOf(error: ConnectError): string | undefined {
  return error.findDetails(ErrorInfoSchema)[0]?.reason;
}

function addRequest(statementId: string, idempotencyKey: string) {
  return create(AddLambdaPermissionRequestSchema, {
    functionName: DEMO_FUNCTION,
    statementId,
    action: "lambda:InvokeFunction",
    principal: "s3.amazonaws.com",
    idempotencyKey,
  });
}

/** POSTs binary Connect unary and returns the raw body bytes and headers. */
async function rawUnary<I extends DescMessage>(
  baseUrl: string,
  method: string,
  schema: I,
  request: MessageInitShape<I>,
  callerId: string,
): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const response = await fetch(`${baseUrl}/${PermissionService.typeName}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/proto", "x-caller-id": callerId },
    body: toBinary(schema, create(schema, request)),
  });
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()), headers: response.headers };
}

describe("idempotency through the gateway (Redis)", () => {
  test("an identical retry gets a byte-identical response, marked replayed, and the backend runs once", async (t) => {
    const backend = createFakeBackend();
    const gateways = await startGateways(t, 1, backend);
    if (gateways === undefined) return;
    const [gateway] = gateways;
    assert.ok(gateway !== undefined);
    const caller = `caller-${randomUUID()}`;
    const request = addRequest("s3-invoke", "key-1");

    const first = await rawUnary(
      gateway.server.url,
      "AddLambdaPermission",
      AddLambdaPermissionRequestSchema,
      request,
      caller,
    );
    const retry = await rawUnary(
      gateway.server.url,
      "AddLambdaPermission",
      AddLambdaPermissionRequestSchema,
      request,
      caller,
    );
    assert.equal(first.status, 200, first.body.toString());
    assert.equal(retry.status, 200);
    assert.ok(first.body.length > 0);
    assert.deepEqual(retry.body, first.body, "byte-identical body");
    assert.equal(first.headers.get(REPLAYED), null);
    assert.equal(retry.headers.get(REPLAYED), "true");
    assert.equal(backend.callCount("AddPermission"), 1);
    const statement = fromBinary(AddLambdaPermissionResponseSchema, retry.body).statement;
    assert.match(statement, /s3-invoke/);

    // And through the Connect client, with the header seen by onHeader.
    const seen = headerRecorder(caller);
    const viaClient = await gateway.client.addLambdaPermission(request, seen.options);
    assert.equal(seen.replayed(), "true");
    assert.equal(viaClient.statement, statement);
    assert.equal(backend.callCount("AddPermission"), 1);
  });

  test("50 concurrent identical calls over 3 gateways sharing one Redis: one execution, 50 identical answers", async (t) => {
    const backend = createFakeBackend();
    const gateways = await startGateways(t, 3, backend);
    if (gateways === undefined) return;
    // Latency keeps the first call in flight while the others arrive.
    backend.setFaults({ latencyMs: 300 });
    const caller = `caller-${randomUUID()}`;
    const token = randomUUID();
    const request = {
      name: "concurrent-permission",
      resourceType: "ec2:Subnet",
      policyTemplate: '{"Effect":"Allow","Action":["ec2:DescribeSubnets"]}',
      clientToken: token,
    };
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const gateway = gateways[i % gateways.length];
        assert.ok(gateway !== undefined);
        return gateway.client.createRamPermission(request, { headers: { "x-caller-id": caller } });
      }),
    );
    assert.equal(backend.callCount("CreatePermission"), 1, "exactly one backend execution");
    const bytes = answers.map((answer) => Buffer.from(toBinary(CreateRamPermissionResponseSchema, answer)));
    for (const each of bytes) assert.deepEqual(each, bytes[0]);
    assert.equal(answers[0]?.clientToken, token);
    assert.equal(answers[0]?.permission?.name, "concurrent-permission");
  });

  const transient: [string, string, Code][] = [
    ["UNAVAILABLE", "ServiceException", Code.Unavailable],
    ["RESOURCE_EXHAUSTED", "TooManyRequestsException", Code.ResourceExhausted],
  ];
  for (const [name, errorCode, code] of transient) {
    test(`a transient backend error (${name}) is not remembered: the retry runs again`, async (t) => {
      const backend = createFakeBackend();
      const gateways = await startGateways(t, 1, backend);
      if (gateways === undefined) return;
      const client = gateways[0]!.client;
      const caller = { headers: { "x-caller-id": `caller-${randomUUID()}` } };
      const request = addRequest("retried", "key-transient");
      backend.setFaults({ errorRate: 1, errorCode, operations: ["AddPermission"] });
      const failure = await failureOf(client.addLambdaPermission(request, caller));
      assert.equal(failure.code, code, failure.message);
      backend.setFaults({});
      const seen = headerRecorder(caller.headers["x-caller-id"]);
      const success = await client.addLambdaPermission(request, seen.options);
      assert.match(success.statement, /retried/);
      assert.equal(seen.replayed(), null, "the retry ran, it was not replayed");
      assert.equal(backend.callCount("AddPermission"), 2);
    });
  }

  test("a definitive backend error (NOT_FOUND) is remembered and replayed", async (t) => {
    const backend = createFakeBackend();
    const gateways = await startGateways(t, 1, backend);
    if (gateways === undefined) return;
    const client = gateways[0]!.client;
    const callerId = `caller-${randomUUID()}`;
    const request = { functionName: DEMO_FUNCTION, statementId: "no-such-statement", idempotencyKey: "key-404" };
    const first = await failureOf(client.removeLambdaPermission(request, { headers: { "x-caller-id": callerId } }));
    assert.equal(first.code, Code.NotFound, first.message);
    const again = await failureOf(client.removeLambdaPermission(request, { headers: { "x-caller-id": callerId } }));
    // An error's response headers arrive as ConnectError.metadata.
    assert.equal(first.metadata.get(REPLAYED), null);
    assert.equal(again.metadata.get(REPLAYED), "true");
    assert.equal(again.code, Code.NotFound);
    assert.equal(again.rawMessage, first.rawMessage);
    assert.deepEqual(again.findDetails(ErrorInfoSchema), first.findDetails(ErrorInfoSchema));
    assert.deepEqual(
      again.details.map((detail) => ("type" in detail ? [detail.type, Buffer.from(detail.value)] : detail)),
      first.details.map((detail) => ("type" in detail ? [detail.type, Buffer.from(detail.value)] : detail)),
    );
    assert.equal(backend.callCount("RemovePermission"), 1);
  });

  test("DeleteRamPermission without a token: the gateway returns the one it generated, and a retry with it replays", async (t) => {
    const backend = createFakeBackend();
    const gateways = await startGateways(t, 1, backend);
    if (gateways === undefined) return;
    const client = gateways[0]!.client;
    const callerId = `caller-${randomUUID()}`;
    const first = await client.deleteRamPermission(
      { permissionArn: DEMO_PERMISSION },
      { headers: { "x-caller-id": callerId } },
    );
    assert.match(first.clientToken, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const seen = headerRecorder(callerId);
    const retry = await client.deleteRamPermission(
      { permissionArn: DEMO_PERMISSION, clientToken: first.clientToken },
      seen.options,
    );
    assert.equal(seen.replayed(), "true");
    assert.deepEqual(retry, first);
    assert.equal(backend.callCount("DeletePermission"), 1);
  });

  test("a failing DeleteRamPermission without a token still tells the caller the generated token, and a retry with it replays", async (t) => {
    const backend = createFakeBackend();
    const gateways = await startGateways(t, 1, backend);
    if (gateways === undefined) return;
    const client = gateways[0]!.client;
    const callerId = `caller-${randomUUID()}`;
    // Attached to a resource share: RAM refuses the delete, a definitive error that is remembered.
    const request = { permissionArn: DEMO_ATTACHED_PERMISSION };
    const first = await failureOf(client.deleteRamPermission(request, { headers: { "x-caller-id": callerId } }));
    assert.equal(first.code, Code.FailedPrecondition, first.message);
    // An error has no body: the token arrives in the response headers, which Connect puts in the metadata.
    const token = first.metadata.get(CLIENT_TOKEN) ?? assert.fail("no client-token header on the error");
    assert.match(token, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const retry = await failureOf(
      client.deleteRamPermission({ ...request, clientToken: token }, { headers: { "x-caller-id": callerId } }),
    );
    assert.equal(retry.metadata.get(REPLAYED), "true");
    assert.equal(retry.metadata.get(CLIENT_TOKEN), token);
    assert.equal(retry.code, first.code);
    assert.equal(retry.rawMessage, first.rawMessage);
    assert.equal(backend.callCount("DeletePermission"), 1);
  });

  test("the client-token header echoes a given token on success", async (t) => {
    const backend = createFakeBackend();
    const gateways = await startGateways(t, 1, backend);
    if (gateways === undefined) return;
    let header: string | null = null;
    const token = randomUUID();
    const response = await gateways[0]!.client.deleteRamPermission(
      { permissionArn: DEMO_PERMISSION, clientToken: token },
      {
        headers: { "x-caller-id": `caller-${randomUUID()}` },
        onHeader: (headers) => void (header = headers.get(CLIENT_TOKEN)),
      },
    );
    assert.equal(header, token);
    assert.equal(response.clientToken, token);
  });

  test("the same token with other parameters is FAILED_PRECONDITION IDEMPOTENT_PARAMETER_MISMATCH", async (t) => {
    const backend = createFakeBackend();
    const gateways = await startGateways(t, 1, backend);
    if (gateways === undefined) return;
    const client = gateways[0]!.client;
    const caller = { headers: { "x-caller-id": `caller-${randomUUID()}` } };
    await client.addLambdaPermission(addRequest("first", "key-mismatch"), caller);
    const failure = await failureOf(client.addLambdaPermission(addRequest("second", "key-mismatch"), caller));
    assert.equal(failure.code, Code.FailedPrecondition);
    assert.equal(reasonOf(failure), "IDEMPOTENT_PARAMETER_MISMATCH");
    assert.equal(failure.findDetails(ErrorInfoSchema).length, 1);
    assert.equal(backend.callCount("AddPermission"), 1);
  });

  test("invokedViaFunctionUrl false is not the same request as invokedViaFunctionUrl absent (JSON, as a caller sends it)", async (t) => {
    const backend = createFakeBackend();
    const gateways = await startGateways(t, 1, backend);
    if (gateways === undefined) return;
    const url = `${gateways[0]!.server.url}/${PermissionService.typeName}/AddLambdaPermission`;
    const callerId = `caller-${randomUUID()}`;
    const body = {
      functionName: DEMO_FUNCTION,
      statementId: "url-condition",
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
      idempotencyKey: "key-url-condition",
    };
    const post = (json: object) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-caller-id": callerId },
        body: JSON.stringify(json),
      });
    const first = await post(body);
    assert.equal(first.status, 200);
    const { statement } = (await first.json()) as { statement: string };
    assert.doesNotMatch(statement, /InvokedViaFunctionUrl/, "absent: no condition");
    // The second request would write a Bool condition: it is not a retry of the first.
    const second = await post({ ...body, invokedViaFunctionUrl: false });
    assert.equal(second.status, 400, "FAILED_PRECONDITION is HTTP 400 in the Connect protocol");
    assert.equal(second.headers.get(REPLAYED), null);
    const error = (await second.json()) as { code: string; details?: { debug?: { reason?: string } }[] };
    assert.equal(error.code, "failed_precondition");
    assert.equal(error.details?.[0]?.debug?.reason, "IDEMPOTENT_PARAMETER_MISMATCH");
    assert.equal(backend.callCount("AddPermission"), 1);
  });

  test("a record stored by an older replica (v1 fingerprint) replays the same request and refuses another", async (t) => {
    const backend = createFakeBackend();
    const gateways = await startGateways(t, 1, backend);
    if (gateways === undefined) return;
    const { client, idempotency } = gateways[0]!;
    const callerId = `caller-${randomUUID()}`;
    const request = addRequest("older-replica", "key-older-replica");
    const rpc = `${PermissionService.typeName}/AddLambdaPermission`;
    const key = idempotencyRecordKey({ callerId, rpc, token: request.idempotencyKey! });
    // What an older replica wrote: the unprefixed v1 fingerprint and its answer.
    const fingerprint = requestFingerprint(AddLambdaPermissionRequestSchema, request, "idempotencyKey", 1);
    assert.match(fingerprint, /^[0-9a-f]{64}$/);
    const stored = create(AddLambdaPermissionResponseSchema, { statement: '{"Sid":"older-replica"}' });
    const outcome = { kind: "response" as const, response: toBinary(AddLambdaPermissionResponseSchema, stored) };
    const lease = { key, fingerprint, owner: "older-replica", leaseMs: 10_000, ttlMs: 60_000 };
    assert.deepEqual(await idempotency.store.claim(lease), { kind: "claimed" });
    assert.equal(await idempotency.store.complete({ ...lease, outcome }), "applied");
    const recorder = headerRecorder(callerId);
    const response = await client.addLambdaPermission(request, recorder.options);
    assert.equal(response.statement, stored.statement, "the older replica's answer, replayed");
    assert.equal(recorder.replayed(), "true");
    const changed = create(AddLambdaPermissionRequestSchema, { ...request, principal: "sns.amazonaws.com" });
    const failure = await failureOf(client.addLambdaPermission(changed, { headers: { "x-caller-id": callerId } }));
    assert.equal(reasonOf(failure), "IDEMPOTENT_PARAMETER_MISMATCH");
    assert.equal(backend.callCount("AddPermission"), 0);
  });

  test("a token that fails validation never reaches the store or the backend", async (t) => {
    const backend = createFakeBackend();
    const gateways = await startGateways(t, 1, backend);
    if (gateways === undefined || redis === undefined || redis.kind === "none") return;
    const raw = new Redis(redis.url);
    t.after(() => raw.disconnect());
    const client = gateways[0]!.client;
    const caller = { headers: { "x-caller-id": `caller-${randomUUID()}` } };
    const before = await raw.dbsize();
    for (const token of ["", "x".repeat(65), "has space", "caf\u00e9"]) {
      const failure = await failureOf(client.addLambdaPermission(addRequest("valid", token), caller));
      assert.equal(failure.code, Code.InvalidArgument, `token ${JSON.stringify(token)}: ${failure.message}`);
    }
    assert.equal(await raw.dbsize(), before, "no record was written");
    assert.equal(backend.callCount(), 0);
  });

  test("Redis stopped: UNAVAILABLE IDEMPOTENCY_STORE_UNAVAILABLE and no backend call; Redis back: the same gateway works", async (t) => {
    if (redis?.kind !== "server") {
      skipWithoutRedis(t, "stopping and restarting Redis needs our own redis-server");
      return;
    }
    const server = redis.server;
    const backend = createFakeBackend();
    const gateways = await startGateways(t, 1, backend);
    if (gateways === undefined) return;
    const client = gateways[0]!.client;
    const caller = { headers: { "x-caller-id": `caller-${randomUUID()}` } };
    await client.addLambdaPermission(addRequest("before-outage", randomUUID()), caller);
    assert.equal(backend.callCount("AddPermission"), 1);

    await server.stop();
    t.after(() => server.start()); // later tests in this file need it
    for (let i = 0; i < 3; i += 1) {
      const started = Date.now();
      const failure = await failureOf(client.addLambdaPermission(addRequest(`during-${i}`, randomUUID()), caller));
      assert.equal(failure.code, Code.Unavailable, failure.message);
      assert.equal(reasonOf(failure), "IDEMPOTENCY_STORE_UNAVAILABLE");
      assert.ok(Date.now() - started < 5_000, "fails fast");
    }
    assert.equal(backend.callCount("AddPermission"), 1, "the backend was not called");

    await server.start();
    const token = randomUUID();
    const recovered = async (): Promise<boolean> => {
      try {
        await client.addLambdaPermission(addRequest("after-outage", token), caller);
        return true;
      } catch (error) {
        assert.equal(reasonOf(ConnectError.from(error)), "IDEMPOTENCY_STORE_UNAVAILABLE", String(error));
        return false;
      }
    };
    await until("the gateway recovers", recovered, { intervalMs: 100 });
    assert.equal(backend.callCount("AddPermission"), 2);
  });
});

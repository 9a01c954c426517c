// Strict fencing by RevisionId (src/backend/fencing.ts): a late write fails
// at AWS instead of undoing the work of whoever wrote since its read; and
// what it costs in AWS calls, counted at the fake AWS endpoint. Two gateway
// replicas are two AWS adapters, each with its own fake AWS endpoint over
// one model, so the endpoint can hold back one replica's request.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PermissionBackend } from "../../src/backend/backend.js";
import { decorateBackend } from "../../src/backend/decorate.js";
import { AwsApiError } from "../../src/backend/errors.js";
import { createFakeBackend, type FakeBackend } from "../../src/backend/fake/fake-backend.js";
import { createFencingBackend } from "../../src/backend/fencing.js";
import { startFakeAwsServer, type FakeAwsServer } from "../../src/fake-aws/server.js";
import { loadConfig } from "../../src/config.js";
import { silentLogger } from "../../src/logger.js";
import { createGatewayClient, responseOf } from "../support/clients.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { awsBackendAt, fn, noDeadline, rejectionOf } from "./aws/aws-test-stack.js";

const invoke = { action: "lambda:InvokeFunction", principal: "s3.amazonaws.com" } as const;
const add = (statementId: string, sourceArn: string) => ({
  function: fn("demo"),
  statementId,
  sourceArn,
  ...invoke,
});

interface Replica {
  readonly endpoint: FakeAwsServer;
  readonly backend: PermissionBackend;
}

/** A replica whose endpoint holds its first RemovePermission until `release` is called. */
async function replicaOf(model: FakeBackend, fencing: boolean, hold?: Promise<void>): Promise<Replica> {
  let held = false;
  const endpoint = await startFakeAwsServer({
    backend: decorateBackend(model, undefined, {
      removeLambdaPermission: async (input, options) => {
        if (hold !== undefined && !held) {
          held = true;
          await hold;
        }
        return model.removeLambdaPermission(input, options);
      },
    }),
  });
  const adapter = awsBackendAt(endpoint.port);
  return { endpoint, backend: fencing ? createFencingBackend(adapter, { logger: silentLogger }) : adapter };
}

async function sourceArnOf(model: FakeBackend, sid: string): Promise<string | undefined> {
  const read = await model.getLambdaPolicy({ function: fn("demo") }, noDeadline()).catch(() => undefined);
  if (read === undefined) return undefined; // no policy at all
  const { policy } = read;
  const statement = (JSON.parse(policy) as { Statement: { Sid: string; Condition?: unknown }[] }).Statement.find(
    (s) => s.Sid === sid,
  );
  return (statement?.Condition as { ArnLike?: Record<string, string> } | undefined)?.ArnLike?.["AWS:SourceArn"];
}

/**
 * A's RemovePermission is held at its endpoint; meanwhile B removes the
 * statement and adds a new one under the same Sid; then A's write arrives.
 */
async function lateRemove(fencing: boolean) {
  const model = createFakeBackend();
  let release: () => void = () => {};
  const hold = new Promise<void>((resolve) => (release = resolve));
  const a = await replicaOf(model, fencing, hold);
  const b = await replicaOf(model, fencing);
  try {
    await b.backend.addLambdaPermission(add("s", "arn:aws:s3:::first"), noDeadline());
    const late = a.backend.removeLambdaPermission({ function: fn("demo"), statementId: "s" }, noDeadline());
    late.catch(() => {});
    while (a.endpoint.callCount("RemovePermission") === 0) await new Promise((r) => setTimeout(r, 5));
    await b.backend.removeLambdaPermission({ function: fn("demo"), statementId: "s" }, noDeadline());
    await b.backend.addLambdaPermission(add("s", "arn:aws:s3:::second"), noDeadline());
    release();
    const outcome = await late.then(
      () => undefined,
      (error: unknown) => error,
    );
    return {
      outcome,
      left: await sourceArnOf(model, "s"),
      calls: {
        getPolicy: a.endpoint.callCount("GetPolicy") + b.endpoint.callCount("GetPolicy"),
        mutations:
          a.endpoint.callCount() +
          b.endpoint.callCount() -
          a.endpoint.callCount("GetPolicy") -
          b.endpoint.callCount("GetPolicy"),
      },
    };
  } finally {
    release();
    for (const replica of [a, b]) {
      await replica.backend.close();
      await replica.endpoint.close();
    }
    await model.close();
  }
}

test("without fencing, a late RemovePermission removes the statement added after it (the hazard)", async () => {
  const { outcome, left } = await lateRemove(false);
  assert.equal(outcome, undefined, "the late write succeeded");
  assert.equal(left, undefined, "and took the new statement away");
});

test("with fencing, the late RemovePermission fails at AWS and the new statement stays", async () => {
  const { outcome, left, calls } = await lateRemove(true);
  assert.ok(outcome instanceof AwsApiError, String(outcome));
  assert.equal(outcome.code, "ResourceConflictException", "retryable for the caller, who gave no RevisionId");
  assert.ok(outcome.cause instanceof AwsApiError);
  assert.equal(outcome.cause.code, "PreconditionFailedException", "AWS refused it");
  assert.equal(left, "arn:aws:s3:::second");
  // One GetPolicy per write: the first add (which finds no policy), the late remove, the remove, the second add.
  assert.deepEqual(calls, { getPolicy: 4, mutations: 4 });
});

test("the cost: one GetPolicy per mutation the caller did not fence; none for reads or the caller's own RevisionId", async () => {
  const model = createFakeBackend();
  const replica = await replicaOf(model, true);
  try {
    const n = 10;
    for (let i = 0; i < n; i++) {
      await replica.backend.addLambdaPermission(add(`c${i}`, `arn:aws:s3:::c${i}`), noDeadline());
      await replica.backend.removeLambdaPermission({ function: fn("demo"), statementId: `c${i}` }, noDeadline());
    }
    assert.equal(replica.endpoint.callCount("AddPermission"), n);
    assert.equal(replica.endpoint.callCount("RemovePermission"), n);
    assert.equal(replica.endpoint.callCount("GetPolicy"), 2 * n);

    replica.endpoint.resetCallCounts();
    await replica.backend.addLambdaPermission(add("keep", "arn:aws:s3:::keep"), noDeadline());
    const { revisionId } = await replica.backend.getLambdaPolicy({ function: fn("demo") }, noDeadline());
    await replica.backend.removeLambdaPermission(
      { function: fn("demo"), statementId: "keep", revisionId },
      noDeadline(),
    );
    assert.equal(replica.endpoint.callCount("GetPolicy"), 2, "the Add's read and the caller's own GetPolicy");

    // The caller's own stale RevisionId stays the caller's answer.
    await replica.backend.addLambdaPermission(add("own", "arn:aws:s3:::own"), noDeadline());
    const error = await rejectionOf(
      replica.backend.removeLambdaPermission({ function: fn("demo"), statementId: "own", revisionId }, noDeadline()),
    );
    assert.ok(error instanceof AwsApiError);
    assert.equal(error.code, "PreconditionFailedException");
  } finally {
    await replica.backend.close();
    await replica.endpoint.close();
    await model.close();
  }
});

/** A counter of the gateway's /metrics, summed over the series whose labels include `labels`. */
async function counter(url: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(" ").at(-1));
  }
  return sum;
}

for (const fencing of [true, false]) {
  test(`the composed gateway with LAMBDA_REVISION_FENCING=${fencing}: ${fencing ? "one" : "no"} GetPolicy per Lambda mutation`, async () => {
    const gateway = await startConfiguredGateway({ LAMBDA_REVISION_FENCING: String(fencing) });
    const client = createGatewayClient("connect-json", gateway.url);
    try {
      const getPolicy = () =>
        counter(gateway.url, "permission_gateway_backend_calls_total", { operation: "GetPolicy" });
      const before = await getPolicy();
      responseOf(await client.call("addLambdaPermission", { functionName: "demo", statementId: "f1", ...invoke }));
      responseOf(await client.call("removeLambdaPermission", { functionName: "demo", statementId: "f1" }));
      assert.equal((await getPolicy()) - before, fencing ? 2 : 0);
    } finally {
      client.close();
      await gateway.close();
    }
  });
}

test("LAMBDA_REVISION_FENCING accepts only true or false, naming the variable", () => {
  assert.equal(loadConfig({}).lambdaRevisionFencing, false);
  assert.throws(() => loadConfig({ LAMBDA_REVISION_FENCING: "yes please" }), /LAMBDA_REVISION_FENCING/);
});

test("FAKE_SERVER_ERROR_AFTER_EFFECT_RATE=1: the composed gateway answers the 500 after the change with its success", async () => {
  const gateway = await startConfiguredGateway({ FAKE_SERVER_ERROR_AFTER_EFFECT_RATE: "1" });
  const client = createGatewayClient("connect-json", gateway.url);
  try {
    const result = await client.call("addLambdaPermission", { functionName: "demo", statementId: "e1", ...invoke });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.headers.get("reconciled"), "true");
  } finally {
    client.close();
    await gateway.server.close();
  }
});

// A replica dies after AWS executed its call: the retry on another replica
// must answer the success, not ALREADY_EXISTS. Two gateway processes share a
// real redis-server and talk to the fake AWS endpoint through the real AWS
// SDK; the endpoint executes AddPermission and then holds the answer back;
// the first replica is SIGKILLed while it waits; the second takes the token
// over once the dead replica's lease ends, finds the duplicate statement,
// reads the policy, recognises its own statement and answers success,
// marked reconciled.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { startFakeAwsServer, type FakeAwsServer } from "../../src/fake-aws/server.js";
import { startGatewayProcess, type ServingGateway } from "../process/gateway-process.js";
import { acquireStandaloneRedis, skipWithoutRedis, type StandaloneRedis } from "../support/redis-server.js";
import { eventually } from "../support/eventually.js";

const ADD = "/permission.v1.PermissionService/AddLambdaPermission";

describe("a replica killed after AWS executed its call", () => {
  const backend = createFakeBackend();
  let endpoint: FakeAwsServer;
  let redis: StandaloneRedis;
  const processes: ServingGateway[] = [];
  before(async () => {
    endpoint = await startFakeAwsServer({ backend });
    redis = await acquireStandaloneRedis();
  });
  after(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await endpoint.close();
    await backend.close();
    await redis.close();
  });

  const replica = async (): Promise<ServingGateway> => {
    if (redis.kind === "none") throw new Error("no Redis");
    const gateway = await startGatewayProcess({
      BACKEND: "aws",
      AWS_ENDPOINT_URL_LAMBDA: endpoint.url,
      AWS_ENDPOINT_URL_RAM: endpoint.url,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: "us-east-1",
      // The first replica waits for the held-back answer rather than timing out.
      AWS_REQUEST_TIMEOUT_MS: "120000",
      IDEMPOTENCY_STORE: "redis",
      REDIS_URL: redis.url,
      IDEMPOTENCY_LEASE_SECONDS: "2",
      IDEMPOTENCY_MAX_WAIT_MS: "30000",
    });
    processes.push(gateway);
    return gateway;
  };

  test("the other replica's retry answers the success, reconciled, within about one lease", async (t) => {
    if (redis.kind === "none") return skipWithoutRedis(t, redis.reason);
    const request = JSON.stringify({
      functionName: "demo",
      statementId: "takeover",
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
      sourceArn: "arn:aws:s3:::takeover-bucket",
      idempotencyKey: "takeover-token",
    });
    const [first, second] = await Promise.all([replica(), replica()]);
    // AWS executes the first attempt, then its answer never comes in time.
    endpoint.injectFault({ operation: "AddPermission", afterExecution: true, latencyMs: 600_000, times: 1 });
    const lost = fetch(first.url + ADD, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: request,
    }).catch(() => "cut");
    await eventually(
      "AWS executes the first attempt",
      () =>
        backend
          .getLambdaPolicy(
            { function: { functionName: "demo", name: "demo" } },
            { signal: new AbortController().signal },
          )
          .catch(() => undefined),
      (policy) => policy?.policy.includes('"takeover"') === true,
      { intervalMs: 20 },
    );
    first.process.child.kill("SIGKILL");
    await first.exitCode();
    const killedAt = Date.now();
    assert.equal(await lost, "cut");

    const retry = await fetch(second.url + ADD, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: request,
    });
    const answeredMs = Date.now() - killedAt;
    const body = (await retry.json()) as { statement?: string };
    assert.equal(retry.status, 200, JSON.stringify(body));
    assert.equal(retry.headers.get("reconciled"), "true");
    const statement = JSON.parse(body.statement ?? "{}") as { Sid?: string; Condition?: unknown };
    assert.equal(statement.Sid, "takeover");
    assert.deepEqual(statement.Condition, { ArnLike: { "AWS:SourceArn": "arn:aws:s3:::takeover-bucket" } });
    assert.equal(endpoint.callCount("AddPermission"), 2, "the dead replica's attempt and the retry's");
    assert.ok(
      second.lines().some((line) => line.includes("reconciled an uncertain mutation")),
      "the reconciliation is logged",
    );
    t.diagnostic(`the retry was answered ${answeredMs} ms after the SIGKILL (lease 2 s)`);
    // Replaying the same token now gives the same success without AWS.
    const replay = await fetch(second.url + ADD, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: request,
    });
    assert.equal(replay.headers.get("idempotent-replayed"), "true");
    assert.equal(endpoint.callCount("AddPermission"), 2);
  });
});

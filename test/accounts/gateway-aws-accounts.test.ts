// Many accounts through the whole gateway with BACKEND=aws against the fake
// AWS endpoint, the only AWS: the SDK finds Lambda, RAM and STS through
// AWS_ENDPOINT_URL (its standard variable) and signs with static base keys;
// profile files and instance metadata are switched off, so no call can leave
// loopback. Two accounts besides the own one, three callers.
//
// This file changes process.env (node:test runs each file in its own process).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { systemClock } from "../../src/clock.js";
import type { FakeAwsServer } from "../../src/fake-aws/server.js";
import type { Gateway } from "../../src/gateway.js";
import { createGatewayClient, failureOf, responseOf, type GatewayClient } from "../support/clients.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { createRecordingLogger } from "../support/recording-logger.js";
import {
  ACCOUNT_A,
  ACCOUNT_B,
  ACCOUNT_REFUSING,
  OWN,
  registryFile,
  startAccountsFakeAws,
  roleOf,
} from "./accounts-fixture.js";

const callers = ["alice", "team/bob", "carol@example.com"] as const;

let dir: string;
let fake: FakeAwsServer;
let gateway: Gateway;
let client: GatewayClient;
const logger = createRecordingLogger();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "pg-aws-accounts-"));
  fake = await startAccountsFakeAws(dir, systemClock);
  gateway = await startConfiguredGateway(
    {
      BACKEND: "aws",
      AWS_ACCOUNTS_FILE: registryFile(dir),
      AWS_MAX_ATTEMPTS: "1",
      AUDIT_SINK: join(dir, "audit.jsonl"),
    },
    logger,
  );
  client = createGatewayClient("connect-json", gateway.url);
});

after(async () => {
  client.close();
  await gateway.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  fake.resetCallCounts();
  fake.clearFaults();
});

const functionArn = (account: string) => `arn:aws:lambda:us-east-1:${account}:function:demo`;
const add = (caller: string, account: string, statementId: string, idempotencyKey?: string) =>
  client.call(
    "addLambdaPermission",
    {
      functionName: functionArn(account),
      statementId,
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    },
    { headers: { "x-caller-id": caller } },
  );

test("the own account needs no role: its calls are signed by the base credentials", async () => {
  responseOf(await add("alice", OWN, "own-1"));
  assert.equal(fake.callCount("AssumeRole"), 0);
  const [call] = fake.calls().filter((c) => c.operation === "AddPermission");
  assert.deepEqual(call, { operation: "AddPermission", account: OWN, principal: `arn:aws:iam::${OWN}:user/fake-base` });
});

test("N callers over M accounts: one AssumeRole per (account, role, caller), each caller its SourceIdentity", async () => {
  const accounts = [ACCOUNT_A, ACCOUNT_B];
  for (let round = 0; round < 2; round++)
    for (const caller of callers)
      for (const account of accounts)
        responseOf(await add(caller, account, `s-${round}-${callers.indexOf(caller)}-${account}`));
  // The bound the README states: (accounts x callers) sessions per session duration.
  assert.equal(fake.callCount("AssumeRole"), callers.length * accounts.length);
  const adds = fake.calls().filter((c) => c.operation === "AddPermission");
  assert.equal(adds.length, 2 * callers.length * accounts.length);
  for (const caller of callers) {
    const mapped = caller.replace("/", "=2F");
    for (const account of accounts) {
      const mine = adds.filter((c) => c.account === account && c.sourceIdentity === mapped);
      assert.equal(mine.length, 2, `${caller} in ${account}`);
      assert.equal(mine[0]?.principal, `arn:aws:sts::${account}:assumed-role/permission-gateway/${mapped}`);
    }
  }
});

test("an account not in the registry is ACCOUNT_NOT_MANAGED and reaches no AWS API, STS included", async () => {
  const refused = failureOf(await add("alice", "999999999999", "nope"));
  assert.equal(refused.code, Code.FailedPrecondition);
  assert.equal(refused.reason, "ACCOUNT_NOT_MANAGED");
  assert.equal(refused.metadata["account"], "999999999999");
  assert.equal(fake.calls().length, 0);
});

test("a role whose trust does not let the gateway in: PERMISSION_DENIED UPSTREAM_ACCESS_DENIED naming the role", async () => {
  const refused = failureOf(await add("alice", ACCOUNT_REFUSING, "denied"));
  assert.equal(refused.code, Code.PermissionDenied);
  assert.equal(refused.reason, "UPSTREAM_ACCESS_DENIED");
  assert.equal(refused.metadata["roleArn"], roleOf(ACCOUNT_REFUSING));
  assert.match(refused.message, new RegExp(roleOf(ACCOUNT_REFUSING)));
  assert.equal(fake.callCount("AddPermission"), 0);
});

test("STS throttling: UNAVAILABLE with RetryInfo, and the next call assumes the role", async () => {
  fake.injectStsFault({ code: "Throttling", httpStatus: 400, message: "Rate exceeded", times: 1 });
  const throttled = failureOf(await add("dave", ACCOUNT_A, "throttled"));
  assert.equal(throttled.code, Code.Unavailable);
  assert.equal(throttled.reason, "UPSTREAM_THROTTLED");
  assert.ok(throttled.detailTypes.includes("google.rpc.RetryInfo"));
  assert.equal(fake.callCount("AddPermission"), 0);
  responseOf(await add("dave", ACCOUNT_A, "after-throttle"));
});

test("an STS fault injected over HTTP (POST /__fake/sts-faults): throttling is UNAVAILABLE with RetryInfo", async () => {
  const control = `${fake.url}/__fake/sts-faults`;
  const refused = await fetch(control, { method: "POST", body: JSON.stringify({ code: "Throttling", colour: "red" }) });
  assert.equal(refused.status, 400);
  assert.match(((await refused.json()) as { message: string }).message, /unknown STS fault field\(s\): colour/);
  const posted = await fetch(control, { method: "POST", body: JSON.stringify({ code: "Throttling", times: 1 }) });
  assert.equal(posted.status, 201);
  assert.deepEqual(await (await fetch(control)).json(), {
    faults: [{ code: "Throttling", httpStatus: 400, times: 1 }],
  });
  const throttled = failureOf(await add("heidi", ACCOUNT_B, "http-throttled"));
  assert.equal(throttled.code, Code.Unavailable);
  assert.equal(throttled.reason, "UPSTREAM_THROTTLED");
  assert.ok(throttled.detailTypes.includes("google.rpc.RetryInfo"));
  assert.equal(fake.callCount("AddPermission"), 0);
  assert.deepEqual(await (await fetch(control)).json(), { faults: [] });
  responseOf(await add("heidi", ACCOUNT_B, "http-after-throttle"));
  // Until cleared, then DELETE clears it.
  assert.equal((await fetch(control, { method: "POST", body: JSON.stringify({ code: "Throttling" }) })).status, 201);
  assert.equal((await fetch(control, { method: "DELETE" })).status, 204);
  assert.deepEqual(await (await fetch(control)).json(), { faults: [] });
});

test("a lost answer is reconciled with the target account's session", async () => {
  fake.injectFault({ operation: "AddPermission", afterExecution: true, dropConnection: true, times: 1 });
  // The gateway reads the actual state at once (src/backend/reconcile.ts) and answers from it.
  const answered = await add("erin", ACCOUNT_B, "lost-1", "key-lost-1");
  responseOf(answered);
  assert.equal(answered.ok && answered.headers.get("reconciled"), "true");
  // The retry with the same key is replayed from the idempotency store: no second AddPermission.
  responseOf(await add("erin", ACCOUNT_B, "lost-1", "key-lost-1"));
  assert.equal(fake.callCount("AddPermission"), 1);
  const reads = fake.calls().filter((c) => c.operation === "GetPolicy");
  assert.ok(reads.length >= 1);
  for (const read of reads) assert.deepEqual([read.account, read.sourceIdentity], [ACCOUNT_B, "erin"]);
});

test("the access line names the target account, the role and the session", async () => {
  responseOf(await add("frank/ops", ACCOUNT_A, "logged-1"));
  const line = await logger.waitFor((l) => l.message === "call" && l.fields?.["caller"] === "frank/ops");
  assert.equal(line.fields?.["account"], ACCOUNT_A);
  assert.equal(line.fields?.["role"], roleOf(ACCOUNT_A));
  assert.equal(line.fields?.["session"], "frank=2Fops");
});

test("the audit events name the target account, its alias, the role and the session", async () => {
  responseOf(await add("grace/ops", ACCOUNT_A, "audited-1"));
  responseOf(await add("grace/ops", OWN, "audited-own"));
  const events = readFileSync(join(dir, "audit.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { event: string; grant?: { statementId?: string }; target?: unknown });
  const of = (statementId: string) => events.filter((e) => e.grant?.statementId === statementId);
  assert.deepEqual(
    of("audited-1").map((e) => [e.event, e.target]),
    ["attempt", "outcome"].map((event) => [
      event,
      { account: ACCOUNT_A, accountAlias: "payments-prod", roleArn: roleOf(ACCOUNT_A), sessionName: "grace=2Fops" },
    ]),
  );
  // The own account is not listed: no role, no session, only the account.
  assert.deepEqual(
    of("audited-own").map((e) => e.target),
    [{ account: OWN }, { account: OWN }],
  );
});

// Role sessions of the AWS adapter against the fake AWS endpoint's STS over
// loopback, with an injected clock: renewal 5 minutes before expiry, single
// flight, STS unreachable, and the fake's answer to another account's
// resource. Every client is pointed at the fake explicitly.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { createAwsBackend, createSdkClientFactory } from "../../src/backend/aws/aws-backend.js";
import { createStsClientFactory, RENEW_BEFORE_MS } from "../../src/backend/aws/role-sessions.js";
import type { CallOptions, PermissionBackend, RoleTarget } from "../../src/backend/backend.js";
import { createFakeBackend, demoSeed } from "../../src/backend/fake/fake-backend.js";
import { createFakeIdentities } from "../../src/backend/fake/identities.js";
import { systemClock } from "../../src/clock.js";
import { toConnectError } from "../../src/errors.js";
import { startFakeAwsServer, type FakeAwsServer } from "../../src/fake-aws/server.js";
import { silentLogger } from "../../src/logger.js";
import { manualClock, type ManualClock } from "../support/manual-clock.js";
import { fn } from "../backend/aws/aws-test-stack.js";
import { ACCOUNT_A, ACCOUNT_B, EXTERNAL_ID, OWN, accountsSeed, roleOf } from "./accounts-fixture.js";

const base = { accessKeyId: "AKIDBASEGATEWAY", secretAccessKey: "base-secret" };
const settings = {
  sessionDurationSeconds: 3600,
  sessionPerCaller: true,
  sessionCacheEntries: 2,
  sessionName: "permission-gateway",
};

let fake: FakeAwsServer;
let clock: ManualClock;
let backend: PermissionBackend;

before(async () => {
  fake = await startFakeAwsServer({
    backend: createFakeBackend({ seed: accountsSeed, clock: systemClock }),
    identities: createFakeIdentities({ roles: accountsSeed.iam?.roles ?? [], baseAccount: OWN, clock: systemClock }),
  });
});
after(() => fake.close());

function backendAt(
  endpoint: string,
  sessions: Partial<typeof settings> = {},
  stsEndpoint: string = endpoint,
): PermissionBackend {
  return createAwsBackend({
    defaultRegion: "us-east-1",
    maxAttempts: 1,
    requestTimeoutMs: 2000,
    logger: silentLogger,
    clock,
    clientFactory: createSdkClientFactory({
      maxAttempts: 1,
      requestTimeoutMs: 2000,
      connectTimeoutMs: 500,
      credentials: base,
      endpoint,
    }),
    sts: createStsClientFactory({ maxAttempts: 1, connectTimeoutMs: 500, endpoint: stsEndpoint, credentials: base }),
    roleSessions: { ...settings, ...sessions },
  });
}

beforeEach(() => {
  fake.resetCallCounts();
  fake.clearFaults();
  clock = manualClock(Date.now());
  backend = backendAt(fake.url);
});

const roleA = (caller: string): RoleTarget => ({ account: ACCOUNT_A, roleArn: roleOf(ACCOUNT_A), caller });
const call = (role: RoleTarget): CallOptions => ({ signal: new AbortController().signal, role });
const policyOf = (account: string, role: RoleTarget) =>
  backend.getLambdaPolicy({ function: fn(`arn:aws:lambda:us-east-1:${account}:function:demo`) }, call(role));
/** Lambda answers 404 for a function without a policy: the call got through, signed by the session. */
async function reachesLambda(account: string, role: RoleTarget): Promise<void> {
  await assert.rejects(policyOf(account, role), (error: Error & { code?: string }) => {
    assert.equal(error.name, "AwsApiError");
    assert.equal(error.code, "ResourceNotFoundException");
    return true;
  });
}

test("concurrent first calls share one AssumeRole (single flight)", async () => {
  await Promise.all(Array.from({ length: 8 }, () => reachesLambda(ACCOUNT_A, roleA("alice"))));
  assert.equal(fake.callCount("AssumeRole"), 1);
});

test("a session is renewed 5 minutes before it expires, not earlier", async () => {
  await reachesLambda(ACCOUNT_A, roleA("alice"));
  clock.advance(3600_000 - RENEW_BEFORE_MS - 1000);
  await reachesLambda(ACCOUNT_A, roleA("alice"));
  assert.equal(fake.callCount("AssumeRole"), 1);
  clock.advance(2000);
  await reachesLambda(ACCOUNT_A, roleA("alice"));
  assert.equal(fake.callCount("AssumeRole"), 2);
  const lambdaCalls = fake.calls().filter((c) => c.operation === "GetPolicy");
  assert.deepEqual(new Set(lambdaCalls.map((c) => c.sourceIdentity)), new Set(["alice"]));
});

test("the cache is bounded: the least recently used session is dropped and assumed again", async () => {
  for (const caller of ["a1", "a2", "a3", "a1"]) await reachesLambda(ACCOUNT_A, roleA(caller));
  assert.equal(fake.callCount("AssumeRole"), 4);
});

test("an ExternalId the role asks for is sent", async () => {
  const roleB: RoleTarget = {
    account: ACCOUNT_B,
    roleArn: roleOf(ACCOUNT_B),
    externalId: EXTERNAL_ID,
    caller: "alice",
  };
  await reachesLambda(ACCOUNT_B, roleB);
  const wrong = { ...roleB, externalId: "wrong-id", caller: "bob" };
  const error = await policyOf(ACCOUNT_B, wrong).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.equal(
    toConnectError(error, { resourceType: "lambda:function", resourceName: "demo" }, silentLogger).code,
    Code.PermissionDenied,
  );
});

test("a session of one account asking for another account's function: AccessDeniedException, as AWS answers", async () => {
  const error = await policyOf(OWN, roleA("alice")).then(
    () => undefined,
    (e: unknown) => e,
  );
  const wire = toConnectError(error, { resourceType: "lambda:function", resourceName: "demo" }, silentLogger);
  assert.equal(wire.code, Code.PermissionDenied);
  assert.match(
    (error as Error).message,
    new RegExp(
      `User: arn:aws:sts::${ACCOUNT_A}:assumed-role/permission-gateway/alice is not authorized to perform: lambda:GetPolicy on resource: arn:aws:lambda:us-east-1:${OWN}:function:demo`,
    ),
  );
});

test("STS unreachable: UNAVAILABLE with RetryInfo", async () => {
  backend = backendAt(fake.url, {}, "http://127.0.0.1:9");
  const error = await policyOf(ACCOUNT_A, roleA("alice")).then(
    () => undefined,
    (e: unknown) => e,
  );
  const wire = toConnectError(error, { resourceType: "lambda:function", resourceName: "demo" }, silentLogger);
  assert.equal(wire.code, Code.Unavailable);
  assert.match(wire.rawMessage, /STS could not be reached/);
  assert.equal(fake.callCount("GetPolicy"), 0);
});

test("AWS_ROLE_SESSION_PER_CALLER=false: one session per role, the gateway's name, no SourceIdentity", async () => {
  backend = backendAt(fake.url, { sessionPerCaller: false });
  const roleB = (caller: string): RoleTarget => ({
    account: ACCOUNT_B,
    roleArn: roleOf(ACCOUNT_B),
    externalId: EXTERNAL_ID,
    caller,
  });
  for (const caller of ["alice", "bob", "carol"]) await reachesLambda(ACCOUNT_B, roleB(caller));
  assert.equal(fake.callCount("AssumeRole"), 1);
  const reads = fake.calls().filter((c) => c.operation === "GetPolicy");
  assert.equal(reads.length, 3);
  for (const read of reads) {
    assert.equal(read.principal, `arn:aws:sts::${ACCOUNT_B}:assumed-role/permission-gateway/permission-gateway`);
    assert.equal(read.sourceIdentity, undefined);
  }
});

test("a role that requires a SourceIdentity refuses sessions without one", async () => {
  backend = backendAt(fake.url, { sessionPerCaller: false });
  const error = await policyOf(ACCOUNT_A, roleA("alice")).then(
    () => undefined,
    (e: unknown) => e,
  );
  const wire = toConnectError(error, { resourceType: "lambda:function", resourceName: "demo" }, silentLogger);
  assert.equal(wire.code, Code.PermissionDenied);
});

test("the demo seed: the base identity assumes 210987654321's role and changes its function demo", async () => {
  const demoFake = await startFakeAwsServer({
    backend: createFakeBackend({ clock: systemClock }),
    identities: createFakeIdentities({ roles: demoSeed.iam?.roles ?? [], baseAccount: OWN, clock: systemClock }),
  });
  try {
    const demo = backendAt(demoFake.url);
    const role: RoleTarget = {
      account: "210987654321",
      roleArn: "arn:aws:iam::210987654321:role/permission-gateway",
      caller: "alice",
    };
    const added = await demo.addLambdaPermission(
      {
        function: fn("arn:aws:lambda:us-east-1:210987654321:function:demo"),
        statementId: "cross-account",
        action: "lambda:InvokeFunction",
        principal: "s3.amazonaws.com",
      },
      call(role),
    );
    assert.match(added.statement, /arn:aws:lambda:us-east-1:210987654321:function:demo/);
    const [recorded] = demoFake.calls().filter((c) => c.operation === "AddPermission");
    assert.deepEqual(recorded, {
      operation: "AddPermission",
      account: "210987654321",
      principal: "arn:aws:sts::210987654321:assumed-role/permission-gateway/alice",
      sourceIdentity: "alice",
    });
    await demo.close();
  } finally {
    await demoFake.close();
  }
});

// The audit trail in a real Connect server on loopback, behind the audit and
// authorization interceptors in the order the gateway uses, writing to a
// real file: one event per mutation attempt with every field, refused ones
// included; none for reads unless configured; and no secret in any line.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, test, type TestContext } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { tokenDigest } from "../../src/audit/event.js";
import { AwsApiError } from "../../src/backend/errors.js";
import { toConnectError } from "../../src/errors.js";
import { silentLogger } from "../../src/logger.js";
import { alexaStatement, handlerProgress, policyDir } from "../authz/fixtures.js";
import { startAuditedServer, type AuditedServer } from "./audited-server.js";

const POLICIES = `
@id("payments-manage")
permit (principal in PermissionGateway::Group::"payments", action, resource);

@id("no-public-grants")
forbid (principal, action == PermissionGateway::Action::"AddLambdaPermission", resource)
when { context.principal == "*" };
`;

// Secrets a caller sends, and tokens that may appear only as digests.
const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwYXQifQ.c2lnbmF0dXJlLXNlY3JldA";
const API_KEY = "pgk_live_9f8e7d6c5b4a39281706";
const COOKIE = "session=cookie-secret-4711";
const IDEMPOTENCY_KEY = "idem-key-secret-0001";
const CLIENT_TOKEN = "client-token-secret-0002";
const GENERATED_TOKEN = "generated-token-secret-0003";
const EVENT_SOURCE_TOKEN = "amzn1.ask.skill.event-source-secret";

const removedStatement = alexaStatement(EVENT_SOURCE_TOKEN);

async function setUp(t: TestContext, options: { reads?: boolean } = {}) {
  const policies = await policyDir(t, { "p.cedar": POLICIES });
  return startAuditedServer(t, {
    policies,
    reads: options.reads ?? false,
    newClientToken: () => GENERATED_TOKEN,
    impl: {
      // What only the handler learns from the backend, handed to the audit trail.
      removeLambdaPermission: (_request, context) => {
        handlerProgress(context.values).output = {
          awsRequestId: "aws-req-remove",
          removedStatement: JSON.stringify(removedStatement),
        };
        return {};
      },
      deleteRamPermission: () => {
        const error = new AwsApiError({
          service: "ram",
          code: "UnknownResourceException",
          message: "The permission does not exist.",
          httpStatus: 400,
          requestId: "aws-req-delete",
        });
        const wire = toConnectError(error, { resourceType: "ram:permission", resourceName: "x" }, silentLogger);
        wire.metadata.set("idempotent-replayed", "true"); // as a stored outcome replayed by the idempotency guard
        throw wire;
      },
      createRamPermission: (_request, context) => {
        context.responseHeader.set("client-token", GENERATED_TOKEN);
        const progress = handlerProgress(context.values);
        progress.tokenSent = true;
        progress.replayed = true;
        return { clientToken: GENERATED_TOKEN };
      },
    },
  });
}

const headers = {
  "x-test-caller": "pat",
  "x-test-groups": "payments,on-call",
  "x-test-auth-mode": "jwt",
  authorization: `Bearer ${JWT}`,
  "x-api-key": API_KEY,
  cookie: COOKIE,
};
const add = (principal: string) => ({
  functionName: "payments-api",
  statementId: "alexa",
  action: "lambda:InvokeFunction",
  principal,
  eventSourceToken: EVENT_SOURCE_TOKEN,
  idempotencyKey: IDEMPOTENCY_KEY,
});
const fnArn = "arn:aws:lambda:us-east-1:123456789012:function:payments-api";
const fnResource = {
  type: "LambdaFunction",
  id: fnArn,
  partition: "aws",
  region: "us-east-1",
  account: "123456789012",
  name: "payments-api",
  arn: fnArn,
};

async function codeOf(call: Promise<unknown>): Promise<Code | undefined> {
  return call.then(
    () => undefined,
    (error: unknown) => ConnectError.from(error).code,
  );
}

describe("audit interceptor", () => {
  test("an allowed mutation writes its attempt, then its outcome; a refused one its outcome only, before the answer", async (t) => {
    const { client, events, outcomes } = await setUp(t);

    await client.addLambdaPermission(add("alexa-appkit.amazon.com"), { headers });
    const [attempt, allowed, ...none] = await events();
    assert.equal(none.length, 0);
    assert.ok(attempt !== undefined && allowed !== undefined, "written before the answer");
    assert.match(allowed.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(typeof allowed.durationMs === "number" && allowed.durationMs >= 0);
    assert.match(allowed.id, /^[0-9a-f-]{36}$/);
    const head = {
      id: allowed.id,
      rpc: "AddLambdaPermission",
      caller: { id: "pat", groups: ["payments", "on-call"], authMode: "jwt" },
      resource: fnResource,
      grant: {
        statementId: "alexa",
        action: "lambda:InvokeFunction",
        principal: "alexa-appkit.amazon.com",
        eventSourceToken: tokenDigest(EVENT_SOURCE_TOKEN),
      },
      tokens: { idempotencyKey: tokenDigest(IDEMPOTENCY_KEY) },
      authorization: { decision: "allow", determiningPolicies: ["payments-manage"] },
    };
    assert.deepEqual(
      { ...attempt, time: "" },
      { time: "", event: "attempt", ...head },
      "the attempt: who, what, allowed",
    );
    assert.equal(attempt.time, allowed.time);
    assert.deepEqual(
      { ...allowed, time: "", durationMs: 0 },
      {
        time: "",
        durationMs: 0,
        event: "outcome",
        ...head,
        outcome: "OK",
        replayed: false,
      },
    );

    assert.equal(await codeOf(client.addLambdaPermission(add("*"), { headers })), Code.PermissionDenied);
    const refused = (await events())[2];
    assert.equal(refused?.event, "outcome", "no attempt event for a refused call");
    assert.deepEqual(
      {
        rpc: refused?.rpc,
        principal: refused?.grant?.["principal"],
        authorization: refused?.authorization,
        outcome: refused?.outcome,
        reason: refused?.reason,
      },
      {
        rpc: "AddLambdaPermission",
        principal: "*",
        authorization: { decision: "deny", determiningPolicies: ["no-public-grants"] },
        outcome: "PERMISSION_DENIED",
        reason: "CALLER_NOT_ALLOWED",
      },
    );

    // Default deny: a caller no policy permits.
    assert.equal(
      await codeOf(
        client.removeLambdaPermission(
          { functionName: "payments-api", statementId: "alexa" },
          { headers: { "x-test-caller": "bob" } },
        ),
      ),
      Code.PermissionDenied,
    );
    const denied = (await outcomes())[2];
    assert.deepEqual(denied?.authorization, { decision: "deny", determiningPolicies: [] });
    assert.deepEqual(denied?.caller, { id: "bob", groups: [], authMode: "none" });
    assert.equal((await events()).length, 4);
  });

  test("the AWS request ID, the removed statement and replays, from the handler or the error", async (t) => {
    const { client, outcomes } = await setUp(t);
    await client.removeLambdaPermission({ functionName: "payments-api", statementId: "alexa" }, { headers });
    assert.equal(
      await codeOf(
        client.deleteRamPermission(
          { permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/gone", clientToken: CLIENT_TOKEN },
          { headers },
        ),
      ),
      Code.NotFound,
    );
    await client.createRamPermission(
      { name: "subnets", resourceType: "ec2:Subnet", policyTemplate: "{}" },
      { headers },
    );
    const [removed, deleted, created] = await outcomes();

    assert.equal(removed?.awsRequestId, "aws-req-remove");
    assert.deepEqual(removed?.grant, { statementId: "alexa" });
    assert.deepEqual(removed?.removedStatement, {
      ...removedStatement,
      Condition: { StringEquals: { "lambda:EventSourceToken": tokenDigest(EVENT_SOURCE_TOKEN) } },
    });

    assert.deepEqual(
      {
        outcome: deleted?.outcome,
        reason: deleted?.reason,
        awsRequestId: deleted?.awsRequestId,
        tokens: deleted?.tokens,
        resource: deleted?.resource?.id,
      },
      {
        outcome: "NOT_FOUND",
        reason: "UNKNOWN_RESOURCE",
        awsRequestId: "aws-req-delete",
        tokens: { clientToken: tokenDigest(CLIENT_TOKEN) },
        resource: "arn:aws:ram:us-east-1:123456789012:permission/gone",
      },
    );
    assert.equal(deleted?.replayed, true);

    assert.deepEqual(
      { outcome: created?.outcome, replayed: created?.replayed, tokens: created?.tokens, grant: created?.grant },
      {
        outcome: "OK",
        replayed: true,
        tokens: { clientToken: tokenDigest(GENERATED_TOKEN) },
        grant: { resourceType: "ec2:Subnet", policyTemplate: "{}", tags: {} },
      },
    );
  });

  test("a mutation that fails validation is recorded with its outcome, without a resource", async (t) => {
    const { client, events } = await setUp(t);
    assert.equal(
      await codeOf(
        client.removeLambdaPermission({ functionName: "payments-api", statementId: "bad id!" }, { headers }),
      ),
      Code.InvalidArgument,
    );
    const [event, ...more] = await events();
    assert.equal(more.length, 0);
    assert.deepEqual(
      {
        outcome: event?.outcome,
        reason: event?.reason,
        resource: event?.resource,
        authorization: event?.authorization,
        caller: event?.caller?.id,
      },
      {
        outcome: "INVALID_ARGUMENT",
        reason: "INVALID_REQUEST",
        resource: undefined,
        authorization: { decision: "not-evaluated", determiningPolicies: [] },
        caller: "pat",
      },
    );
  });

  test("reads write no event unless AUDIT_READS is on", async (t) => {
    const reads = async (client: AuditedServer["client"]): Promise<void> => {
      await client.getLambdaPolicy({ functionName: "payments-api" }, { headers });
      await client.getRamPermission(
        { permissionArn: "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet" },
        { headers },
      );
      await client.listRamPermissions({}, { headers });
    };
    const quiet = await setUp(t);
    await reads(quiet.client);
    assert.equal((await readFile(quiet.file, "utf8")).length, 0);

    const loud = await setUp(t, { reads: true });
    await reads(loud.client);
    const events = await loud.events();
    assert.deepEqual(
      events.map((event) => [event.rpc, event.outcome, event.authorization.decision]),
      [
        ["GetLambdaPolicy", "OK", "allow"],
        ["GetRamPermission", "OK", "allow"],
        ["ListRamPermissions", "OK", "allow"],
      ],
    );
  });

  test("no line holds a secret or a raw token the callers sent", async (t) => {
    const { client, file } = await setUp(t, { reads: true });
    await client.addLambdaPermission(add("alexa-appkit.amazon.com"), { headers });
    await codeOf(client.addLambdaPermission(add("*"), { headers }));
    await client.removeLambdaPermission(
      { functionName: "payments-api", statementId: "alexa", idempotencyKey: IDEMPOTENCY_KEY },
      { headers },
    );
    await codeOf(
      client.deleteRamPermission(
        { permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/gone", clientToken: CLIENT_TOKEN },
        { headers },
      ),
    );
    await client.createRamPermission(
      { name: "subnets", resourceType: "ec2:Subnet", policyTemplate: "{}" },
      { headers },
    );
    await client.getLambdaPolicy({ functionName: "payments-api" }, { headers });
    const trail = await readFile(file, "utf8");
    assert.equal(trail.trimEnd().split("\n").length, 6 + 4, "6 outcomes, 4 attempts (the allowed mutations)");
    for (const secret of [
      JWT,
      API_KEY,
      COOKIE,
      "cookie-secret-4711",
      IDEMPOTENCY_KEY,
      CLIENT_TOKEN,
      GENERATED_TOKEN,
      EVENT_SOURCE_TOKEN,
      "Bearer",
    ]) {
      assert.ok(!trail.includes(secret), `the audit trail holds ${secret}`);
    }
  });
});

// Audit events from their parts: the subject of each RPC, token digests,
// gRPC code names, and a removed statement with its event source token
// reduced to a digest.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { auditSubjectFor, buildAuditEvent, tokenDigest } from "../../src/audit/event.js";
import { alexaStatement, DEFAULTS, NO_ACCOUNT, parsedCall } from "../authz/fixtures.js";

const parts = {
  time: Date.UTC(2025, 0, 2, 3, 4, 5, 678),
  id: "call-1",
  rpc: "RemoveLambdaPermission",
  tokens: {},
  code: undefined,
  replayed: false,
  durationMs: 12,
};

describe("audit events", () => {
  test("a token appears as the first 32 hex digits of its SHA-256, never as itself", () => {
    const digest = createHash("sha256").update("add-s3-invoke-1").digest("hex");
    assert.equal(tokenDigest("add-s3-invoke-1"), `sha256:${digest.slice(0, 32)}`);
    const event = buildAuditEvent({ ...parts, tokens: { idempotencyKey: "add-s3-invoke-1" } });
    assert.deepEqual(event.tokens, { idempotencyKey: `sha256:${digest.slice(0, 32)}` });
    assert.ok(!JSON.stringify(event).includes("add-s3-invoke-1"));
  });

  test("the subject of AddLambdaPermission: the function and every grant field, the event source token as a digest", () => {
    const input = parsedCall("AddLambdaPermission", {
      functionName: "payments-api:live",
      statementId: "alexa",
      action: "lambda:InvokeFunction",
      principal: "alexa-appkit.amazon.com",
      eventSourceToken: "amzn1.ask.skill.secret",
      functionUrlAuthType: "FUNCTION_URL_AUTH_TYPE_NONE",
    });
    assert.deepEqual(auditSubjectFor(input, DEFAULTS), {
      resource: {
        type: "LambdaFunction",
        id: "arn:aws:lambda:us-east-1:123456789012:function:payments-api:live",
        partition: "aws",
        region: "us-east-1",
        account: "123456789012",
        name: "payments-api",
        qualifier: "live",
        arn: "arn:aws:lambda:us-east-1:123456789012:function:payments-api:live",
      },
      grant: {
        statementId: "alexa",
        action: "lambda:InvokeFunction",
        principal: "alexa-appkit.amazon.com",
        functionUrlAuthType: "NONE",
        eventSourceToken: tokenDigest("amzn1.ask.skill.secret"),
      },
    });
  });

  test("the subject of CreateRamPermission carries the template and tags; a bare name without an account has no ARN", () => {
    const input = parsedCall("CreateRamPermission", {
      name: "subnets",
      resourceType: "ec2:Subnet",
      policyTemplate: '{"Effect":"Allow","Action":["ec2:DescribeSubnets"]}',
      tags: { team: "payments" },
    });
    assert.deepEqual(auditSubjectFor(input, NO_ACCOUNT), {
      resource: {
        type: "RamPermission",
        id: "subnets",
        partition: "aws",
        region: "us-east-1",
        name: "subnets",
        awsManaged: false,
      },
      grant: {
        resourceType: "ec2:Subnet",
        policyTemplate: '{"Effect":"Allow","Action":["ec2:DescribeSubnets"]}',
        tags: { team: "payments" },
      },
    });
  });

  test("outcome names are gRPC's, and a missing decision reads as not evaluated", () => {
    const names = [
      [undefined, "OK"],
      [Code.Canceled, "CANCELLED"],
      [Code.PermissionDenied, "PERMISSION_DENIED"],
      [Code.FailedPrecondition, "FAILED_PRECONDITION"],
      [Code.Unauthenticated, "UNAUTHENTICATED"],
    ] as const;
    for (const [code, name] of names) assert.equal(buildAuditEvent({ ...parts, code }).outcome, name);
    const event = buildAuditEvent(parts);
    assert.equal(event.time, "2025-01-02T03:04:05.678Z");
    assert.deepEqual(event.authorization, { decision: "not-evaluated", determiningPolicies: [] });
  });

  test("a removed statement is recorded as an object, with its event source token as a digest", () => {
    const statement = alexaStatement("amzn1.ask.skill.secret");
    const event = buildAuditEvent({ ...parts, removedStatement: JSON.stringify(statement) });
    assert.deepEqual(event.removedStatement, {
      ...statement,
      Condition: { StringEquals: { "lambda:EventSourceToken": tokenDigest("amzn1.ask.skill.secret") } },
    });
    assert.equal(
      buildAuditEvent({ ...parts, removedStatement: "not json: secret" }).removedStatement,
      tokenDigest("not json: secret"),
    );
  });
});

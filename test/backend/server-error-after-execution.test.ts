// "Maybe executed" covers a 5xx answer: AWS may answer 500 after it made the
// change, so a Lambda mutation answered 5xx has an unknown outcome, also when
// the SDK's retry then meets its own change as "already exists" (same Sid) or
// "not found" (statement gone). The gateway reconciles by reading the policy
// instead of answering that conflict. Through the AWS adapter, the real SDK
// and the fake AWS endpoint with its after-execution fault; the same through
// the in-process fake backend's serverErrorAfterEffectRate.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { JsonObject } from "@bufbuild/protobuf";
import type { PermissionBackend } from "../../src/backend/backend.js";
import { AwsApiError, UpstreamOutcomeUnknownError } from "../../src/backend/errors.js";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { createReconcilingBackend } from "../../src/backend/reconcile.js";
import { OUTCOME_UNKNOWN_REASON } from "../../src/errors.js";
import { createGatewayClient, responseOf, stringMember, type GatewayClient } from "../support/clients.js";
import { startTestGateway } from "../support/gateway.js";
import { parseStatement } from "../support/policy-json.js";
import { createRecordingLogger, type RecordingLogger } from "../support/recording-logger.js";
import { fn, noDeadline, rejectionOf, startAwsChain, startAwsStack, type AwsChain } from "./aws/aws-test-stack.js";

const invoke = { action: "lambda:InvokeFunction", principal: "s3.amazonaws.com" } as const;
const serverErrorAfterExecution = { afterExecution: true, errorCode: "ServiceException", times: 1 } as const;

const reconciledWhy = (logger: RecordingLogger): unknown[] =>
  logger.lines
    .filter((line) => line.message === "reconciled an uncertain mutation")
    .map((line) => line.fields?.["why"]);

async function statementsOf(client: GatewayClient, sid: string): Promise<number> {
  const policy = await client.call("getLambdaPolicy", { functionName: "demo" });
  if (!policy.ok) return 0;
  const document = JSON.parse(stringMember(policy.response as JsonObject, "policy")) as {
    Statement: { Sid: string }[];
  };
  return document.Statement.filter((statement) => statement.Sid === sid).length;
}

describe("through a gateway, the AWS adapter (3 attempts) and the fake AWS endpoint", () => {
  let chain: AwsChain;
  let logger: RecordingLogger;
  before(async () => {
    logger = createRecordingLogger();
    chain = await startAwsChain({ maxAttempts: 3 }, (backend) => createReconcilingBackend(backend, { logger }));
  });
  after(() => chain.close());

  test("AddLambdaPermission: 500 after execution, the retry meets its own Sid -> success, reconciled, added once", async () => {
    chain.stack.endpoint.resetCallCounts();
    chain.stack.endpoint.injectFault({ operation: "AddPermission", ...serverErrorAfterExecution });
    const response = responseOf(
      await chain.client.call("addLambdaPermission", { functionName: "demo", statementId: "add-500", ...invoke }),
    );
    assert.equal(parseStatement(stringMember(response, "statement")).Sid, "add-500");
    assert.equal(chain.stack.endpoint.callCount("AddPermission"), 2, "the SDK retried the 500 and met the Sid taken");
    assert.equal(chain.stack.endpoint.callCount("GetPolicy"), 1, "the policy was read once");
    assert.equal(await statementsOf(chain.client, "add-500"), 1);
    assert.match(String(reconciledWhy(logger).at(-1)), /answer was lost/);
  });

  test("RemoveLambdaPermission: 500 after execution, the retry finds it gone -> success, reconciled", async () => {
    responseOf(
      await chain.client.call("addLambdaPermission", { functionName: "demo", statementId: "rm-500", ...invoke }),
    );
    chain.stack.endpoint.resetCallCounts();
    chain.stack.endpoint.injectFault({ operation: "RemovePermission", ...serverErrorAfterExecution });
    const response = responseOf(
      await chain.client.call("removeLambdaPermission", { functionName: "demo", statementId: "rm-500" }),
    );
    assert.deepEqual(response, {});
    assert.equal(chain.stack.endpoint.callCount("RemovePermission"), 2);
    assert.equal(chain.stack.endpoint.callCount("GetPolicy"), 1);
    assert.equal(await statementsOf(chain.client, "rm-500"), 0);
  });

  test("every attempt answered 500, the first after execution -> the read finds its statement: success", async () => {
    chain.stack.endpoint.resetCallCounts();
    chain.stack.endpoint.injectFault({ operation: "AddPermission", ...serverErrorAfterExecution });
    chain.stack.endpoint.injectFault({ operation: "AddPermission", errorCode: "ServiceException", times: 3 });
    const response = responseOf(
      await chain.client.call("addLambdaPermission", { functionName: "demo", statementId: "all-500", ...invoke }),
    );
    assert.equal(parseStatement(stringMember(response, "statement")).Sid, "all-500");
    assert.equal(chain.stack.endpoint.callCount("AddPermission"), 3);
    assert.match(String(reconciledWhy(logger).at(-1)), /answer was lost/);
  });

  test("a 500 before execution: the retry succeeds, nothing to reconcile", async () => {
    chain.stack.endpoint.resetCallCounts();
    const before = reconciledWhy(logger).length;
    chain.stack.endpoint.injectFault({ operation: "AddPermission", errorCode: "ServiceException", times: 1 });
    responseOf(
      await chain.client.call("addLambdaPermission", { functionName: "demo", statementId: "pre-500", ...invoke }),
    );
    assert.equal(chain.stack.endpoint.callCount("AddPermission"), 2);
    assert.equal(chain.stack.endpoint.callCount("GetPolicy"), 0);
    assert.equal(reconciledWhy(logger).length, before);
  });

  test("a conflict with no 5xx before it is still AWS's answer: ALREADY_EXISTS, no read", async () => {
    responseOf(
      await chain.client.call("addLambdaPermission", { functionName: "demo", statementId: "held", ...invoke }),
    );
    chain.stack.endpoint.resetCallCounts();
    const result = await chain.client.call("addLambdaPermission", {
      functionName: "demo",
      statementId: "held",
      ...invoke,
    });
    assert.ok(!result.ok);
    assert.equal(chain.stack.endpoint.callCount("GetPolicy"), 0);
  });
});

test("the AWS adapter alone: the retry's conflict after a 500 is an unknown outcome whose cause is AWS's answer", async () => {
  const stack = await startAwsStack({ maxAttempts: 2 });
  try {
    stack.endpoint.injectFault({ operation: "AddPermission", ...serverErrorAfterExecution });
    const error = await rejectionOf(
      stack.backend.addLambdaPermission({ function: fn("demo"), statementId: "bare", ...invoke }, noDeadline()),
    );
    assert.ok(error instanceof UpstreamOutcomeUnknownError, `${error.name}: ${error.message}`);
    assert.ok(error.cause instanceof AwsApiError);
    assert.equal(error.cause.code, "ResourceConflictException");
    assert.equal(stack.endpoint.callCount("AddPermission"), 2);
  } finally {
    await stack.close();
  }
});

describe("through a gateway and the in-process fake backend (serverErrorAfterEffectRate)", () => {
  for (const [rpc, operation] of [
    ["addLambdaPermission", "AddPermission"],
    ["removeLambdaPermission", "RemovePermission"],
  ] as const) {
    test(`${rpc}: the change is made, the answer is a 500 -> success, reconciled`, async () => {
      const fake = createFakeBackend();
      const logger = createRecordingLogger();
      const gateway = await startTestGateway<PermissionBackend>({
        backend: createReconcilingBackend(fake, { logger }),
      });
      const client = createGatewayClient("connect-json", gateway.url);
      try {
        const sid = `fake-${operation}`;
        // Another statement keeps the policy there once this one is removed (see the next test for the last one).
        responseOf(await client.call("addLambdaPermission", { functionName: "demo", statementId: "keep", ...invoke }));
        if (operation === "RemovePermission")
          responseOf(await client.call("addLambdaPermission", { functionName: "demo", statementId: sid, ...invoke }));
        fake.resetCallCounts();
        fake.setFaults({ serverErrorAfterEffectRate: 1, operations: [operation] });
        const request =
          operation === "AddPermission"
            ? { functionName: "demo", statementId: sid, ...invoke }
            : { functionName: "demo", statementId: sid };
        responseOf(await client.call(rpc, request));
        fake.setFaults({});
        assert.equal(await statementsOf(client, sid), operation === "AddPermission" ? 1 : 0);
        assert.equal(fake.callCount(operation), 1, "one call, never retried");
        assert.deepEqual(reconciledWhy(logger), [
          "AWS answered a server error, after which the change may have been made",
        ]);
      } finally {
        client.close();
        await gateway.close();
      }
    });
  }

  test("removing the last statement: unknown at first (no policy reads like no function), the retry with the key succeeds", async () => {
    const fake = createFakeBackend();
    const logger = createRecordingLogger();
    const gateway = await startTestGateway<PermissionBackend>({ backend: createReconcilingBackend(fake, { logger }) });
    const client = createGatewayClient("connect-json", gateway.url);
    try {
      responseOf(await client.call("addLambdaPermission", { functionName: "demo", statementId: "last", ...invoke }));
      fake.setFaults({ serverErrorAfterEffectRate: 1, operations: ["RemovePermission"] });
      const request = { functionName: "demo", statementId: "last", idempotencyKey: "remove-last-500" };
      const first = await client.call("removeLambdaPermission", request);
      assert.ok(!first.ok);
      assert.equal(first.error.reason, OUTCOME_UNKNOWN_REASON);
      fake.setFaults({});
      // The key was kept for a takeover: the retry's "not found" is its own earlier effect.
      assert.deepEqual(responseOf(await client.call("removeLambdaPermission", request)), {});
      assert.equal(await statementsOf(client, "last"), 0);
    } finally {
      client.close();
      await gateway.close();
    }
  });

  test("the fault refuses a rate outside 0..1, naming it", () => {
    assert.throws(
      () => createFakeBackend({ faults: { serverErrorAfterEffectRate: 1.5 } }),
      /faults\.serverErrorAfterEffectRate must be from 0 to 1/,
    );
  });
});

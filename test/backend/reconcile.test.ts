// Unknown outcomes reconciled, never answered as failure: a Lambda mutation
// whose attempt took effect but whose answer was lost (the connection
// dropped, the answer came after the SDK's request timeout) is settled by
// reading the policy. Through a real gateway, the AWS adapter, the real SDK
// and the fake AWS endpoint with its after-execution faults; the same with
// the in-process fake's lost-answer fault; and the paths of a call that took
// over an earlier attempt's token (CallOptions.afterTakeover).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { CallOptions, PermissionBackend } from "../../src/backend/backend.js";
import { AwsApiError, UpstreamNetworkError, UpstreamOutcomeUnknownError } from "../../src/backend/errors.js";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { createReconcilingBackend } from "../../src/backend/reconcile.js";
import { OUTCOME_UNKNOWN_REASON } from "../../src/errors.js";
import { createGatewayClient, responseOf, stringMember } from "../support/clients.js";
import { parseStatement } from "../support/policy-json.js";
import { startTestGateway } from "../support/gateway.js";
import {
  awsBackendAt,
  fn,
  noDeadline,
  rejectionOf,
  startAwsChain,
  startAwsStack,
  type AwsChain,
} from "./aws/aws-test-stack.js";
import { createRecordingLogger, type LogLine, type RecordingLogger } from "../support/recording-logger.js";

const reconciledLines = (logger: { lines: LogLine[] }): LogLine[] =>
  logger.lines.filter((line) => line.level === "info" && line.message === "reconciled an uncertain mutation");

const invoke = { action: "lambda:InvokeFunction", principal: "s3.amazonaws.com" } as const;

/** The SDK gives up on an attempt after this; the "late" fault answers long after it. */
const REQUEST_TIMEOUT_MS = 500;
const LATE_MS = 5_000;

type Chain = AwsChain & { readonly logger: RecordingLogger };

/** A gateway on the reconciling AWS adapter, the SDK, and the fake AWS endpoint. */
async function startChain(): Promise<Chain> {
  const logger = createRecordingLogger();
  const chain = await startAwsChain({ maxAttempts: 3, requestTimeoutMs: REQUEST_TIMEOUT_MS }, (backend) =>
    createReconcilingBackend(backend, { logger }),
  );
  return { ...chain, logger, close: () => chain.close() };
}

describe("through a gateway, the AWS adapter and the fake AWS endpoint", () => {
  let chain: Chain;
  before(async () => {
    chain = await startChain();
  });
  after(() => chain.close());

  const afterExecution: [fault: string, label: string, settings: { dropConnection?: boolean; latencyMs?: number }][] = [
    ["the connection drops after AWS executed it", "drop", { dropConnection: true }],
    ["AWS answers after the SDK's request timeout", "late", { latencyMs: LATE_MS }],
  ];

  for (const [fault, label, settings] of afterExecution) {
    test(`AddLambdaPermission: ${fault} -> success with its own statement, one attempt, reconciled`, async () => {
      chain.stack.endpoint.resetCallCounts();
      const sid = `add-${label}`;
      chain.stack.endpoint.injectFault({ operation: "AddPermission", afterExecution: true, times: 1, ...settings });
      const response = responseOf(
        await chain.client.call("addLambdaPermission", {
          functionName: "demo",
          statementId: sid,
          action: invoke.action,
          principal: invoke.principal,
          sourceArn: "arn:aws:s3:::demo-bucket",
          idempotencyKey: `key-${sid}`,
        }),
      );
      const statement = parseStatement(stringMember(response, "statement"));
      assert.equal(statement.Sid, sid);
      assert.deepEqual(statement.Condition, { ArnLike: { "AWS:SourceArn": "arn:aws:s3:::demo-bucket" } });
      assert.equal(
        chain.stack.endpoint.callCount("AddPermission"),
        1,
        "the SDK did not retry an attempt that may have executed",
      );
      assert.equal(chain.stack.endpoint.callCount("GetPolicy"), 1, "the state was read once");
      const lines = reconciledLines(chain.logger);
      assert.equal(lines.at(-1)?.fields?.["rpc"], "AddLambdaPermission");
      assert.equal(lines.at(-1)?.fields?.["why"], "the answer was lost");
    });

    test(`RemoveLambdaPermission: ${fault} -> success, the statement is gone, one attempt, reconciled`, async () => {
      const sid = `remove-${label}`;
      responseOf(await chain.client.call("addLambdaPermission", { functionName: "demo", statementId: sid, ...invoke }));
      chain.stack.endpoint.resetCallCounts();
      chain.stack.endpoint.injectFault({ operation: "RemovePermission", afterExecution: true, times: 1, ...settings });
      const response = responseOf(
        await chain.client.call("removeLambdaPermission", {
          functionName: "demo",
          statementId: sid,
          idempotencyKey: `key-${sid}`,
        }),
      );
      assert.deepEqual(response, {});
      assert.equal(chain.stack.endpoint.callCount("RemovePermission"), 1);
      assert.equal(reconciledLines(chain.logger).at(-1)?.fields?.["rpc"], "RemoveLambdaPermission");
      const policy = await chain.client.call("getLambdaPolicy", { functionName: "demo" });
      if (policy.ok)
        assert.doesNotMatch(stringMember(policy.response as JsonObject, "policy"), new RegExp(`"Sid":"${sid}"`));
    });
  }

  test("an effect the read cannot confirm is UNAVAILABLE with the outcome-unknown reason and RetryInfo", async () => {
    chain.stack.endpoint.injectFault({
      operation: "AddPermission",
      afterExecution: true,
      dropConnection: true,
      times: 1,
    });
    chain.stack.endpoint.injectFault({ operation: "GetPolicy", errorCode: "ServiceException", times: 3 });
    const result = await chain.client.call("addLambdaPermission", {
      functionName: "demo",
      statementId: "unconfirmed",
      ...invoke,
    });
    assert.ok(!result.ok);
    assert.equal(result.error.code, Code.Unavailable);
    assert.equal(result.error.reason, OUTCOME_UNKNOWN_REASON);
    assert.equal(result.error.domain, "permission-gateway");
    assert.ok(result.error.detailTypes.includes("google.rpc.RetryInfo"));
    chain.stack.endpoint.clearFaults();
  });

  test("an answer AWS gave is no unknown outcome: a duplicate Sid stays ALREADY_EXISTS without reading the policy", async () => {
    responseOf(
      await chain.client.call("addLambdaPermission", { functionName: "demo", statementId: "taken", ...invoke }),
    );
    chain.stack.endpoint.resetCallCounts();
    const result = await chain.client.call("addLambdaPermission", {
      functionName: "demo",
      statementId: "taken",
      ...invoke,
    });
    assert.ok(!result.ok);
    assert.equal(result.error.code, Code.AlreadyExists);
    assert.equal(chain.stack.endpoint.callCount("GetPolicy"), 0);
  });

  test("throttling before execution is still retried by the SDK", async () => {
    chain.stack.endpoint.resetCallCounts();
    chain.stack.endpoint.injectFault({
      operation: "AddPermission",
      errorCode: "TooManyRequestsException",
      retryAfterSeconds: 0,
      times: 1,
    });
    responseOf(
      await chain.client.call("addLambdaPermission", {
        functionName: "demo",
        statementId: "after-throttle",
        ...invoke,
      }),
    );
    assert.equal(chain.stack.endpoint.callCount("AddPermission"), 2);
  });
});

test("a refused connection is not an unknown outcome: nothing was sent, the SDK retried, the caller is told so", async () => {
  const stack = await startAwsStack({ maxAttempts: 2 });
  const port = stack.endpoint.port;
  await stack.close();
  const backend = awsBackendAt(port);
  try {
    const error = await rejectionOf(
      backend.addLambdaPermission({ function: fn("demo"), statementId: "refused", ...invoke }, noDeadline()),
    );
    assert.ok(
      error instanceof UpstreamNetworkError,
      `expected UpstreamNetworkError, got ${error.name}: ${error.message}`,
    );
  } finally {
    await backend.close();
  }
});

test("the in-process fake's lost answer is reconciled through a gateway the same way", async () => {
  const fake = createFakeBackend({ faults: { lostAnswerRate: 1, operations: ["AddPermission"] } });
  const logger = createRecordingLogger();
  const gateway = await startTestGateway<PermissionBackend>({ backend: createReconcilingBackend(fake, { logger }) });
  const client = createGatewayClient("grpc", gateway.url);
  try {
    const response = responseOf(
      await client.call("addLambdaPermission", { functionName: "demo", statementId: "lost", ...invoke }),
    );
    assert.equal(parseStatement(stringMember(response, "statement")).Sid, "lost");
    assert.equal(reconciledLines(logger).length, 1);
    assert.equal(fake.callCount("AddPermission"), 1);
  } finally {
    client.close();
    await gateway.close();
  }
});

describe("a call that took over an earlier attempt's token (afterTakeover)", () => {
  const takeover = (): CallOptions => ({ signal: new AbortController().signal, afterTakeover: true });
  let fake: ReturnType<typeof createFakeBackend>;
  let backend: PermissionBackend;
  let logger: RecordingLogger;
  const fresh = (): void => {
    fake = createFakeBackend();
    logger = createRecordingLogger();
    backend = createReconcilingBackend(fake, { logger });
  };

  test("AddLambdaPermission that finds its own statement (the earlier attempt's) succeeds with it, reconciled", async () => {
    fresh();
    const earlier = await fake.addLambdaPermission(
      { function: fn("demo"), statementId: "mine", ...invoke, sourceAccount: "123456789012" },
      noDeadline(),
    );
    const output = await backend.addLambdaPermission(
      { function: fn("demo"), statementId: "mine", ...invoke, sourceAccount: "123456789012" },
      takeover(),
    );
    assert.equal(output.reconciled, true);
    assert.deepEqual(JSON.parse(output.statement), JSON.parse(earlier.statement));
    assert.equal(reconciledLines(logger)[0]?.fields?.["why"], "a takeover found the statement ID taken");
  });

  test("AddLambdaPermission that finds another statement under its Sid stays ALREADY_EXISTS", async () => {
    fresh();
    await fake.addLambdaPermission(
      { function: fn("demo"), statementId: "theirs", action: "lambda:GetFunction", principal: "210987654321" },
      noDeadline(),
    );
    const error = await rejectionOf(
      backend.addLambdaPermission({ function: fn("demo"), statementId: "theirs", ...invoke }, takeover()),
    );
    assert.ok(error instanceof AwsApiError);
    assert.equal(error.code, "ResourceConflictException");
  });

  test("AddLambdaPermission guarded by the RevisionId its own earlier attempt changed succeeds", async () => {
    fresh();
    await fake.addLambdaPermission({ function: fn("demo"), statementId: "first", ...invoke }, noDeadline());
    const before = (await fake.getLambdaPolicy({ function: fn("demo") }, noDeadline())).revisionId;
    await fake.addLambdaPermission(
      { function: fn("demo"), statementId: "guarded", ...invoke, revisionId: before },
      noDeadline(),
    );
    const output = await backend.addLambdaPermission(
      { function: fn("demo"), statementId: "guarded", ...invoke, revisionId: before },
      takeover(),
    );
    assert.equal(output.reconciled, true);
  });

  test("AddLambdaPermission on a function that is gone stays NOT_FOUND", async () => {
    fresh();
    const error = await rejectionOf(
      backend.addLambdaPermission({ function: fn("gone"), statementId: "s", ...invoke }, takeover()),
    );
    assert.ok(error instanceof AwsApiError);
    assert.equal(error.code, "ResourceNotFoundException");
    assert.equal(reconciledLines(logger).length, 0);
  });

  test("RemoveLambdaPermission that finds the statement gone succeeds, reconciled", async () => {
    fresh();
    await fake.addLambdaPermission({ function: fn("demo"), statementId: "other", ...invoke }, noDeadline());
    const statementGone = await backend.removeLambdaPermission(
      { function: fn("demo"), statementId: "removed-before" },
      takeover(),
    );
    assert.equal(statementGone.reconciled, true);
    await fake.removeLambdaPermission({ function: fn("demo"), statementId: "other" }, noDeadline());
    const policyGone = await backend.removeLambdaPermission({ function: fn("demo"), statementId: "other" }, takeover());
    assert.equal(policyGone.reconciled, true);
  });

  test("RemoveLambdaPermission guarded by the RevisionId its own earlier attempt changed succeeds", async () => {
    fresh();
    await fake.addLambdaPermission({ function: fn("demo"), statementId: "a", ...invoke }, noDeadline());
    await fake.addLambdaPermission({ function: fn("demo"), statementId: "b", ...invoke }, noDeadline());
    const before = (await fake.getLambdaPolicy({ function: fn("demo") }, noDeadline())).revisionId;
    await fake.removeLambdaPermission({ function: fn("demo"), statementId: "a", revisionId: before }, noDeadline());
    const output = await backend.removeLambdaPermission(
      { function: fn("demo"), statementId: "a", revisionId: before },
      takeover(),
    );
    assert.equal(output.reconciled, true);
  });

  test("RemoveLambdaPermission with a stale RevisionId and the statement still there stays FAILED_PRECONDITION", async () => {
    fresh();
    await fake.addLambdaPermission({ function: fn("demo"), statementId: "kept", ...invoke }, noDeadline());
    const error = await rejectionOf(
      backend.removeLambdaPermission({ function: fn("demo"), statementId: "kept", revisionId: "stale" }, takeover()),
    );
    assert.ok(error instanceof AwsApiError);
    assert.equal(error.code, "PreconditionFailedException");
  });

  test("RemoveLambdaPermission on a function that is gone stays NOT_FOUND (Lambda's answer says nothing of a statement)", async () => {
    fresh();
    const error = await rejectionOf(
      backend.removeLambdaPermission({ function: fn("gone"), statementId: "s" }, takeover()),
    );
    assert.ok(error instanceof AwsApiError);
    assert.equal(error.message, "No policy found for: arn:aws:lambda:us-east-1:123456789012:function:gone");
    assert.equal(reconciledLines(logger).length, 0);
  });

  test("without a takeover, the same answers are plain answers", async () => {
    fresh();
    await fake.addLambdaPermission({ function: fn("demo"), statementId: "mine", ...invoke }, noDeadline());
    const error = await rejectionOf(
      backend.addLambdaPermission({ function: fn("demo"), statementId: "mine", ...invoke }, noDeadline()),
    );
    assert.ok(error instanceof AwsApiError);
    assert.equal(error.code, "ResourceConflictException");
    await assert.rejects(
      backend.removeLambdaPermission({ function: fn("demo"), statementId: "never" }, noDeadline()),
      AwsApiError,
    );
    assert.equal(reconciledLines(logger).length, 0);
  });

  test("RAM's lost answers are passed on, never reconciled: its clientToken makes the retry safe", async () => {
    fresh();
    fake.setFaults({ lostAnswerRate: 1, operations: ["CreatePermission"] });
    await assert.rejects(
      backend.createRamPermission(
        {
          name: "lost-ram",
          resourceType: "ec2:Subnet",
          policyTemplate: '{"Effect":"Allow","Action":"ec2:DescribeSubnets"}',
          clientToken: "t",
          tags: {},
        },
        noDeadline(),
      ),
      UpstreamOutcomeUnknownError,
    );
    assert.equal(reconciledLines(logger).length, 0);
  });
});

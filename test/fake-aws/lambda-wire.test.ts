// Lambda's three operations through the real @aws-sdk/client-lambda against
// the fake AWS endpoint: success paths, the model's answers as AWS errors,
// and every documented error of each operation as the SDK surfaces it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AddPermissionCommand, GetPolicyCommand, RemovePermissionCommand } from "@aws-sdk/client-lambda";
import type { PermissionBackend } from "../../src/backend/backend.js";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { ACCOUNT, FUNCTION_ARN, UUID_RE, assertAwsError, rejectionOf, startHarness, testSeed } from "./harness.js";

const invoke = { Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com" };

describe("fake AWS endpoint: Lambda", () => {
  it("adds, reads and removes a statement, every optional member reaching the model", async (t) => {
    const { lambda } = await startHarness(t);
    const added = await lambda.send(
      new AddPermissionCommand({
        FunctionName: FUNCTION_ARN,
        Qualifier: "live",
        StatementId: "s3-invoke",
        ...invoke,
        SourceArn: "arn:aws:s3:::my-bucket",
        SourceAccount: ACCOUNT,
      }),
    );
    assert.equal(added.$metadata.httpStatusCode, 201);
    assert.match(added.$metadata.requestId ?? "", UUID_RE);
    const statement = JSON.parse(added.Statement ?? "") as Record<string, unknown>;
    assert.equal(statement["Sid"], "s3-invoke");
    assert.equal(statement["Resource"], `${FUNCTION_ARN}:live`);
    assert.deepEqual(statement["Condition"], {
      StringEquals: { "AWS:SourceAccount": ACCOUNT },
      ArnLike: { "AWS:SourceArn": "arn:aws:s3:::my-bucket" },
    });

    // The qualifier as a name suffix and as the parameter address the same policy.
    const policy = await lambda.send(new GetPolicyCommand({ FunctionName: "demo:live" }));
    assert.equal(policy.$metadata.httpStatusCode, 200);
    const document = JSON.parse(policy.Policy ?? "") as { Statement: { Sid: string }[] };
    assert.deepEqual(
      document.Statement.map((s) => s.Sid),
      ["s3-invoke"],
    );
    assert.ok(policy.RevisionId);

    const removed = await lambda.send(
      new RemovePermissionCommand({
        FunctionName: `${ACCOUNT}:function:demo`,
        StatementId: "s3-invoke",
        Qualifier: "live",
        RevisionId: policy.RevisionId,
      }),
    );
    assert.equal(removed.$metadata.httpStatusCode, 204);
    const gone = await rejectionOf(lambda.send(new GetPolicyCommand({ FunctionName: "demo", Qualifier: "live" })));
    assertAwsError(gone, "ResourceNotFoundException", 404);
  });

  it("passes PrincipalOrgID, EventSourceToken and FunctionUrlAuthType through", async (t) => {
    const { lambda } = await startHarness(t);
    const added = await lambda.send(
      new AddPermissionCommand({
        FunctionName: "demo",
        StatementId: "url",
        Action: "lambda:InvokeFunctionUrl",
        Principal: "*",
        FunctionUrlAuthType: "AWS_IAM",
        PrincipalOrgID: "o-a1b2c3d4e5",
        EventSourceToken: "token-1",
      }),
    );
    const text = added.Statement ?? "";
    assert.match(text, /AWS_IAM/);
    assert.match(text, /o-a1b2c3d4e5/);
    assert.match(text, /token-1/);
  });

  it("writes InvokedViaFunctionUrl as Lambda's Bool condition", async (t) => {
    const { lambda } = await startHarness(t);
    const added = await lambda.send(
      new AddPermissionCommand({
        FunctionName: "demo",
        StatementId: "via-url",
        Action: "lambda:InvokeFunction",
        Principal: "*",
        InvokedViaFunctionUrl: true,
      }),
    );
    assert.deepEqual((JSON.parse(added.Statement ?? "") as Record<string, unknown>)["Condition"], {
      Bool: { "lambda:InvokedViaFunctionUrl": "true" },
    });
  });

  it("sends the backend's own request ID as x-amzn-RequestId", async (t) => {
    const fake = createFakeBackend({ seed: testSeed });
    let backendRequestId: string | undefined;
    const recording: PermissionBackend = {
      ...fake,
      addLambdaPermission: async (input, options) => {
        const output = await fake.addLambdaPermission(input, options);
        backendRequestId = output.awsRequestId;
        return output;
      },
    };
    const { lambda } = await startHarness(t, { backend: recording });
    const added = await lambda.send(new AddPermissionCommand({ FunctionName: "demo", StatementId: "id", ...invoke }));
    assert.match(backendRequestId ?? "", UUID_RE);
    assert.equal(added.$metadata.requestId, backendRequestId);
    await fake.close();
  });

  const modelErrors: {
    name: string;
    setup?: (send: (c: AddPermissionCommand) => Promise<unknown>) => Promise<unknown>;
    command: () => AddPermissionCommand | GetPolicyCommand | RemovePermissionCommand;
    code: string;
    status: number;
  }[] = [
    {
      name: "unknown function",
      command: () => new GetPolicyCommand({ FunctionName: "nope" }),
      code: "ResourceNotFoundException",
      status: 404,
    },
    {
      name: "function without a policy",
      command: () => new GetPolicyCommand({ FunctionName: "demo" }),
      code: "ResourceNotFoundException",
      status: 404,
    },
    {
      name: "unknown statement",
      setup: (send) => send(new AddPermissionCommand({ FunctionName: "demo", StatementId: "a", ...invoke })),
      command: () => new RemovePermissionCommand({ FunctionName: "demo", StatementId: "b" }),
      code: "ResourceNotFoundException",
      status: 404,
    },
    {
      name: "unknown alias",
      command: () => new GetPolicyCommand({ FunctionName: "demo", Qualifier: "nope" }),
      code: "ResourceNotFoundException",
      status: 404,
    },
    {
      name: "duplicate statement ID",
      setup: (send) => send(new AddPermissionCommand({ FunctionName: "demo", StatementId: "dup", ...invoke })),
      command: () => new AddPermissionCommand({ FunctionName: "demo", StatementId: "dup", ...invoke }),
      code: "ResourceConflictException",
      status: 409,
    },
    {
      name: "stale RevisionId",
      setup: (send) => send(new AddPermissionCommand({ FunctionName: "demo", StatementId: "a", ...invoke })),
      command: () => new RemovePermissionCommand({ FunctionName: "demo", StatementId: "a", RevisionId: "stale" }),
      code: "PreconditionFailedException",
      status: 412,
    },
    {
      name: "statement added to $LATEST",
      command: () => new AddPermissionCommand({ FunctionName: "demo:$LATEST", StatementId: "s", ...invoke }),
      code: "InvalidParameterValueException",
      status: 400,
    },
    {
      name: "qualifier in the name and a different Qualifier",
      command: () => new GetPolicyCommand({ FunctionName: "demo:live", Qualifier: "1" }),
      code: "InvalidParameterValueException",
      status: 400,
    },
    {
      name: "function name breaking the model's pattern (an 11-digit account)",
      command: () => new GetPolicyCommand({ FunctionName: "arn:aws:lambda:us-east-1:12345:function:demo" }),
      code: "ValidationException",
      status: 400,
    },
    {
      name: "function ARN without a name, which Lambda reads as the function named function",
      command: () =>
        new AddPermissionCommand({
          FunctionName: "arn:aws:lambda:us-east-1:123456789012:function",
          StatementId: "s",
          ...invoke,
        }),
      code: "ResourceNotFoundException",
      status: 404,
    },
    {
      name: "function name the pattern allows but no form of Lambda's reading explains",
      command: () => new GetPolicyCommand({ FunctionName: "us-east-1:123456789012:function:demo" }),
      code: "InvalidParameterValueException",
      status: 400,
    },
    {
      name: "statement ID breaking the model's pattern",
      command: () => new AddPermissionCommand({ FunctionName: "demo", StatementId: "has.dot", ...invoke }),
      code: "ValidationException",
      status: 400,
    },
    {
      name: "missing Action and Principal",
      command: () => new AddPermissionCommand({ FunctionName: "demo", StatementId: "s" } as never),
      code: "ValidationException",
      status: 400,
    },
    {
      name: "FunctionUrlAuthType outside the enum",
      command: () =>
        new AddPermissionCommand({
          FunctionName: "demo",
          StatementId: "s",
          ...invoke,
          FunctionUrlAuthType: "OPEN" as never,
        }),
      code: "ValidationException",
      status: 400,
    },
  ];

  for (const scenario of modelErrors) {
    it(`answers ${scenario.code} (${scenario.status}): ${scenario.name}`, async (t) => {
      const { lambda } = await startHarness(t);
      await scenario.setup?.((command) => lambda.send(command));
      const error = await rejectionOf(lambda.send(scenario.command() as GetPolicyCommand));
      assertAwsError(error, scenario.code, scenario.status);
      assert.ok(error.message.length > 0);
    });
  }

  it("names every broken constraint in one ValidationException, in Coral's words", async (t) => {
    const { lambda } = await startHarness(t);
    const error = await rejectionOf(
      lambda.send(new AddPermissionCommand({ FunctionName: "demo", StatementId: "bad id", Action: "x y" } as never)),
    );
    assert.equal(error.name, "ValidationException");
    assert.match(error.message, /^3 validation errors detected: /);
    assert.match(
      error.message,
      /Value 'bad id' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    );
    assert.match(error.message, /Value null at 'principal' failed to satisfy constraint: Member must not be null/);
  });

  // Every error the Lambda API reference documents for each operation, with
  // the status of the service model, as the SDK surfaces it.
  const documented: Record<"RemovePermission" | "AddPermission" | "GetPolicy", [string, number][]> = {
    RemovePermission: [
      ["InvalidParameterValueException", 400],
      ["PreconditionFailedException", 412],
      ["ResourceNotFoundException", 404],
      ["ServiceException", 500],
      ["TooManyRequestsException", 429],
    ],
    AddPermission: [
      ["InvalidParameterValueException", 400],
      ["PolicyLengthExceededException", 400],
      ["PreconditionFailedException", 412],
      ["ResourceConflictException", 409],
      ["ResourceNotFoundException", 404],
      ["ServiceException", 500],
      ["TooManyRequestsException", 429],
    ],
    GetPolicy: [
      ["InvalidParameterValueException", 400],
      ["ResourceNotFoundException", 404],
      ["ServiceException", 500],
      ["TooManyRequestsException", 429],
    ],
  };
  const commands = {
    RemovePermission: () => new RemovePermissionCommand({ FunctionName: "demo", StatementId: "s" }),
    AddPermission: () => new AddPermissionCommand({ FunctionName: "demo", StatementId: "s", ...invoke }),
    GetPolicy: () => new GetPolicyCommand({ FunctionName: "demo" }),
  };

  for (const [operation, errors] of Object.entries(documented) as [keyof typeof documented, [string, number][]][]) {
    it(`surfaces each documented ${operation} error with its name, status, fault and request ID`, async (t) => {
      const { lambda, server } = await startHarness(t);
      for (const [code, status] of errors) {
        server.injectFault({ operation, errorCode: code, times: 1, retryAfterSeconds: 0 });
        const error = await rejectionOf(lambda.send(commands[operation]() as GetPolicyCommand));
        assertAwsError(error, code, status);
        assert.equal(error.$fault, status >= 500 ? "server" : "client", code);
        assert.equal(error["Type"], status >= 500 ? "Service" : "User", code);
      }
      assert.equal(server.callCount(operation), errors.length);
    });
  }

  it("sends Retry-After with TooManyRequestsException, which the SDK reads as retryAfterSeconds", async (t) => {
    const { lambda, server } = await startHarness(t);
    server.injectFault({
      operation: "GetPolicy",
      errorCode: "TooManyRequestsException",
      retryAfterSeconds: 7,
      times: 1,
    });
    const error = await rejectionOf(lambda.send(new GetPolicyCommand({ FunctionName: "demo" })));
    assert.equal(error.name, "TooManyRequestsException");
    assert.equal(error.$response?.headers["retry-after"], "7");
    assert.equal(error["retryAfterSeconds"], "7");
    assert.equal(error["Reason"], "CallerRateLimitExceeded");
  });

  it("answers PolicyLengthExceededException from the model when the policy would outgrow its limit", async (t) => {
    const { lambda } = await startHarness(t, { fake: { limits: { lambdaPolicyBytes: 400 } } });
    await lambda.send(new AddPermissionCommand({ FunctionName: "demo", StatementId: "first", ...invoke }));
    const error = await rejectionOf(
      lambda.send(
        new AddPermissionCommand({ FunctionName: "demo", StatementId: "second-one-that-does-not-fit", ...invoke }),
      ),
    );
    assertAwsError(error, "PolicyLengthExceededException", 400);
  });
});

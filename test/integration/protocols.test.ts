// Every RPC's success path and every row of the error table the fake can
// produce, through a real gateway on loopback, called by four clients:
// Connect JSON over HTTP/1.1, gRPC over h2c, gRPC-Web over HTTP/1.1 and
// @grpc/grpc-js. The same ordered scenario runs against a fresh gateway per
// client, so every protocol must give the same answers.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
  clientKinds,
  createGatewayClient,
  stringMember,
  type CallResult,
  type GatewayClient,
  type MethodName,
} from "../support/clients.js";
import { parsePolicy, parseStatement } from "../support/policy-json.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import type { FakeFaults } from "../../src/backend/fake/fake-backend.js";

const demoArn = "arn:aws:lambda:us-east-1:123456789012:function:demo";
const ramArn = (name: string): string => `arn:aws:ram:us-east-1:123456789012:permission/${name}`;
const awsManagedArn = "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet";
const template = JSON.stringify({ Effect: "Allow", Action: ["ec2:DescribeSubnets"] });

interface Expectation {
  code: Code;
  reason: string;
  domain: string;
  /** Detail types besides ErrorInfo that must be present. */
  details?: string[];
  violations?: string[];
}

interface Step {
  name: string;
  method: MethodName;
  request: JsonValue;
  faults?: FakeFaults;
  expect: Expectation | ((response: JsonObject) => void);
}

const lambda = "lambda.amazonaws.com";
const ram = "ram.amazonaws.com";
const gateway = "permission-gateway";

const steps: Step[] = [
  {
    name: "GetLambdaPolicy on a function without policy -> NOT_FOUND",
    method: "getLambdaPolicy",
    request: { functionName: "demo" },
    expect: { code: Code.NotFound, reason: "RESOURCE_NOT_FOUND", domain: lambda, details: ["google.rpc.ResourceInfo"] },
  },
  {
    name: "AddLambdaPermission adds a statement",
    method: "addLambdaPermission",
    request: {
      functionName: "demo",
      statementId: "s3-invoke",
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
      sourceArn: "arn:aws:s3:::demo-bucket",
      sourceAccount: "123456789012",
    },
    expect: (response) => {
      const statement = parseStatement(stringMember(response, "statement"));
      assert.equal(statement.Sid, "s3-invoke");
      assert.equal(statement.Effect, "Allow");
      assert.equal(statement.Resource, demoArn);
    },
  },
  {
    name: "AddLambdaPermission with a taken Sid -> ALREADY_EXISTS",
    method: "addLambdaPermission",
    request: {
      functionName: demoArn,
      statementId: "s3-invoke",
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
    },
    expect: {
      code: Code.AlreadyExists,
      reason: "RESOURCE_CONFLICT",
      domain: lambda,
      details: ["google.rpc.ResourceInfo"],
    },
  },
  {
    name: "GetLambdaPolicy returns the policy and a revision",
    method: "getLambdaPolicy",
    request: { functionName: "123456789012:demo" },
    expect: (response) => {
      const policy = parsePolicy(stringMember(response, "policy"));
      assert.deepEqual(
        policy.Statement.map((s) => s.Sid),
        ["s3-invoke"],
      );
      assert.match(stringMember(response, "revisionId"), /.+/);
    },
  },
  {
    name: "RemoveLambdaPermission with a stale revision -> FAILED_PRECONDITION",
    method: "removeLambdaPermission",
    request: { functionName: "demo", statementId: "s3-invoke", revisionId: "00000000-0000-0000-0000-000000000000" },
    expect: {
      code: Code.FailedPrecondition,
      reason: "PRECONDITION_FAILED",
      domain: lambda,
      details: ["google.rpc.PreconditionFailure"],
    },
  },
  {
    name: "RemoveLambdaPermission removes the statement",
    method: "removeLambdaPermission",
    request: { functionName: "demo", statementId: "s3-invoke" },
    expect: (response) => assert.deepEqual(response, {}),
  },
  {
    name: "RemoveLambdaPermission again -> NOT_FOUND",
    method: "removeLambdaPermission",
    request: { functionName: "demo", statementId: "s3-invoke" },
    expect: { code: Code.NotFound, reason: "RESOURCE_NOT_FOUND", domain: lambda, details: ["google.rpc.ResourceInfo"] },
  },
  {
    name: "RemoveLambdaPermission of a gone statement with allowMissing succeeds",
    method: "removeLambdaPermission",
    request: { functionName: "demo", statementId: "s3-invoke", allowMissing: true },
    expect: (response) => assert.deepEqual(response, {}),
  },
  {
    name: "allowMissing does not hide a missing function",
    method: "removeLambdaPermission",
    request: { functionName: "no-such-function", statementId: "x", allowMissing: true },
    expect: { code: Code.NotFound, reason: "RESOURCE_NOT_FOUND", domain: lambda },
  },
  {
    name: "AddLambdaPermission on the alias live",
    method: "addLambdaPermission",
    request: {
      functionName: "demo:live",
      statementId: "alias-invoke",
      action: "lambda:InvokeFunction",
      principal: "123456789012",
    },
    expect: (response) => {
      const statement = parseStatement(stringMember(response, "statement"));
      assert.equal(statement.Resource, `${demoArn}:live`);
    },
  },
  {
    name: "GetLambdaPolicy of an unknown alias -> NOT_FOUND",
    method: "getLambdaPolicy",
    request: { functionName: "demo", qualifier: "nope" },
    expect: { code: Code.NotFound, reason: "RESOURCE_NOT_FOUND", domain: lambda },
  },
  {
    name: "AddLambdaPermission on $LATEST -> INVALID_ARGUMENT from Lambda",
    method: "addLambdaPermission",
    request: {
      functionName: "demo",
      qualifier: "$LATEST",
      statementId: "x",
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
    },
    expect: {
      code: Code.InvalidArgument,
      reason: "INVALID_PARAMETER_VALUE",
      domain: lambda,
      details: ["google.rpc.BadRequest"],
    },
  },
  {
    name: "invalid fields -> INVALID_ARGUMENT naming each field",
    method: "removeLambdaPermission",
    request: { functionName: "", statementId: "bad id!", qualifier: "a:b" },
    expect: {
      code: Code.InvalidArgument,
      reason: "INVALID_REQUEST",
      domain: gateway,
      details: ["google.rpc.BadRequest"],
      violations: ["functionName", "statementId", "qualifier"],
    },
  },
  {
    name: "DeleteRamPermission of an attached permission -> FAILED_PRECONDITION",
    method: "deleteRamPermission",
    request: { permissionArn: ramArn("demo-attached") },
    expect: {
      code: Code.FailedPrecondition,
      reason: "OPERATION_NOT_PERMITTED",
      domain: ram,
      details: ["google.rpc.PreconditionFailure"],
    },
  },
  {
    name: "DeleteRamPermission of an AWS managed permission -> FAILED_PRECONDITION",
    method: "deleteRamPermission",
    request: { permissionArn: awsManagedArn },
    expect: { code: Code.FailedPrecondition, reason: "OPERATION_NOT_PERMITTED", domain: ram },
  },
  {
    name: "DeleteRamPermission deletes and returns a generated client token",
    method: "deleteRamPermission",
    request: { permissionArn: ramArn("demo-permission") },
    expect: (response) => {
      assert.equal(response["returnValue"], true);
      assert.equal(response["permissionStatus"], "PERMISSION_STATUS_DELETED");
      assert.match(
        stringMember(response, "clientToken"),
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    },
  },
  {
    name: "DeleteRamPermission again -> NOT_FOUND",
    method: "deleteRamPermission",
    request: { permissionArn: ramArn("demo-permission") },
    expect: { code: Code.NotFound, reason: "UNKNOWN_RESOURCE", domain: ram, details: ["google.rpc.ResourceInfo"] },
  },
  {
    name: "CreateRamPermission creates version 1",
    method: "createRamPermission",
    request: {
      name: "reader",
      resourceType: "ec2:Subnet",
      policyTemplate: template,
      clientToken: "create-reader-1",
      tags: { team: "platform" },
    },
    expect: (response) => {
      const permission = response["permission"] as JsonObject;
      assert.equal(permission["arn"], ramArn("reader"));
      assert.equal(permission["version"], 1);
      assert.equal(permission["permissionType"], "PERMISSION_TYPE_CUSTOMER_MANAGED");
      assert.equal(response["clientToken"], "create-reader-1");
    },
  },
  {
    name: "CreateRamPermission with a taken name -> ALREADY_EXISTS",
    method: "createRamPermission",
    request: { name: "reader", resourceType: "ec2:Subnet", policyTemplate: template },
    expect: {
      code: Code.AlreadyExists,
      reason: "PERMISSION_ALREADY_EXISTS",
      domain: ram,
      details: ["google.rpc.ResourceInfo"],
    },
  },
  {
    name: "CreateRamPermission with a malformed template -> INVALID_ARGUMENT",
    method: "createRamPermission",
    request: { name: "broken", resourceType: "ec2:Subnet", policyTemplate: "{not json" },
    expect: {
      code: Code.InvalidArgument,
      reason: "MALFORMED_POLICY_TEMPLATE",
      domain: ram,
      details: ["google.rpc.BadRequest"],
    },
  },
  {
    name: "GetRamPermission of an AWS managed permission",
    method: "getRamPermission",
    request: { permissionArn: awsManagedArn },
    expect: (response) => {
      const permission = response["permission"] as JsonObject;
      assert.equal(permission["permissionType"], "PERMISSION_TYPE_AWS_MANAGED");
      assert.equal(permission["defaultVersion"], true);
    },
  },
  {
    name: "GetRamPermission of an unknown version -> NOT_FOUND",
    method: "getRamPermission",
    request: { permissionArn: ramArn("reader"), permissionVersion: 9 },
    expect: { code: Code.NotFound, reason: "UNKNOWN_RESOURCE", domain: ram },
  },
  {
    name: "ListRamPermissions pages",
    method: "listRamPermissions",
    request: { pageSize: 1 },
    expect: (response) => {
      assert.equal((response["permissions"] as JsonValue[]).length, 1);
      assert.match(stringMember(response, "nextPageToken"), /.+/);
    },
  },
  {
    name: "ListRamPermissions with a bad page token -> INVALID_ARGUMENT",
    method: "listRamPermissions",
    request: { pageToken: "not-a-token" },
    expect: { code: Code.InvalidArgument, reason: "INVALID_NEXT_TOKEN", domain: ram },
  },
  ...injected("getLambdaPolicy", { functionName: "demo" }, [
    ["TooManyRequestsException", Code.ResourceExhausted, "TOO_MANY_REQUESTS", lambda, ["google.rpc.RetryInfo"]],
    ["ServiceException", Code.Unavailable, "SERVICE", lambda, ["google.rpc.RetryInfo"]],
    [
      "PolicyLengthExceededException",
      Code.ResourceExhausted,
      "POLICY_LENGTH_EXCEEDED",
      lambda,
      ["google.rpc.QuotaFailure"],
    ],
    ["PublicPolicyException", Code.FailedPrecondition, "PUBLIC_POLICY", lambda, ["google.rpc.PreconditionFailure"]],
  ]),
  ...injected("listRamPermissions", {}, [
    ["ThrottlingException", Code.ResourceExhausted, "THROTTLING", ram, ["google.rpc.RetryInfo"]],
    ["ServerInternalException", Code.Unavailable, "SERVER_INTERNAL", ram, ["google.rpc.RetryInfo"]],
    ["ServiceUnavailableException", Code.Unavailable, "SERVICE_UNAVAILABLE", ram, ["google.rpc.RetryInfo"]],
    [
      "PermissionLimitExceededException",
      Code.ResourceExhausted,
      "PERMISSION_LIMIT_EXCEEDED",
      ram,
      ["google.rpc.QuotaFailure"],
    ],
    ["IdempotentParameterMismatchException", Code.FailedPrecondition, "IDEMPOTENT_PARAMETER_MISMATCH", ram, []],
    ["AccessDeniedException", Code.PermissionDenied, "UPSTREAM_ACCESS_DENIED", gateway, []],
    ["ExpiredTokenException", Code.Internal, "UPSTREAM_CREDENTIALS", gateway, []],
  ]),
];

function injected(method: MethodName, request: JsonValue, rows: [string, Code, string, string, string[]][]): Step[] {
  return rows.map(([errorCode, code, reason, domain, details]) => ({
    name: `${method} failing with ${errorCode} -> ${Code[code]} ${reason}`,
    method,
    request,
    faults: { errorRate: 1, errorCode },
    expect: { code, reason, domain, details },
  }));
}

function check(step: Step, result: CallResult): void {
  if (typeof step.expect === "function") {
    assert.ok(result.ok, `expected success, got ${JSON.stringify(!result.ok && result.error)}`);
    step.expect(result.response as JsonObject);
    return;
  }
  assert.ok(
    !result.ok,
    `expected ${Code[step.expect.code]}, got success ${JSON.stringify(result.ok && result.response)}`,
  );
  const { error } = result;
  assert.equal(Code[error.code], Code[step.expect.code], error.message);
  assert.equal(error.errorInfoCount, 1, "exactly one ErrorInfo");
  assert.equal(error.reason, step.expect.reason);
  assert.equal(error.domain, step.expect.domain);
  for (const detail of step.expect.details ?? [])
    assert.ok(error.detailTypes.includes(detail), `${detail} in ${error.detailTypes.join(", ")}`);
  if (step.expect.domain !== gateway || step.expect.reason.startsWith("UPSTREAM_")) {
    if (step.expect.reason !== "INVALID_REQUEST") {
      assert.match(error.metadata["awsErrorCode"] ?? "", /Exception$/);
      assert.match(error.metadata["awsRequestId"] ?? "", /.+/);
      assert.match(error.metadata["httpStatus"] ?? "", /^\d{3}$/);
    }
  }
  if (step.expect.violations !== undefined)
    assert.deepEqual([...error.violations].sort(), [...step.expect.violations].sort());
}

for (const kind of clientKinds) {
  describe(`the gateway over ${kind}`, () => {
    let server: TestGateway;
    let client: GatewayClient;
    before(async () => {
      server = await startTestGateway();
      client = createGatewayClient(kind, server.url);
    });
    after(async () => {
      client.close();
      await server.close();
    });
    for (const step of steps) {
      test(step.name, async () => {
        server.backend.setFaults(step.faults ?? { errorRate: 0 });
        check(step, await client.call(step.method, step.request));
      });
    }
  });
}

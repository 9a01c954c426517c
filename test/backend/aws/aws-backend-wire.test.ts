// The AWS backend through the real AWS SDK to our fake AWS endpoint over
// loopback HTTP: every operation's success path with the exact request the
// SDK put on the wire, and every AWS error of both APIs translated into the
// domain errors with code, status, request ID, Retry-After and what is missing.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AwsApiError,
  UpstreamOutcomeUnknownError,
  type AwsService,
  type MissingResource,
} from "../../../src/backend/errors.js";
import type { PermissionBackend } from "../../../src/backend/backend.js";
import { kindOfAwsError } from "../../../src/aws/error-catalogue.js";
import { MODELLED_ERRORS } from "./modelled-errors.js";
import {
  AWS_MANAGED_PREFIX_LIST,
  AWS_MANAGED_SUBNET,
  DEMO_ATTACHED,
  DEMO_PERMISSION,
  UUID_RE,
  fixedClock,
  fn,
  noDeadline,
  rejectionOf,
  startAwsStack,
  type AwsStack,
} from "./aws-test-stack.js";
import { permissionRef } from "../../support/permission-ref.js";

const lastExchange = (stack: AwsStack) => {
  const exchange = stack.proxy.exchanges.at(-1);
  assert.ok(exchange, "the proxy saw no request");
  return exchange;
};

describe("success paths on the wire", () => {
  let stack: AwsStack;
  before(async () => {
    stack = await startAwsStack({ clock: fixedClock });
  });
  after(() => stack.close());

  test("AddPermission sends every field and returns Lambda's statement", async () => {
    const result = await stack.backend.addLambdaPermission(
      {
        function: fn("arn:aws:lambda:us-east-1:123456789012:function:demo"),
        statementId: "allow-s3",
        action: "lambda:InvokeFunction",
        principal: "s3.amazonaws.com",
        sourceArn: "arn:aws:s3:::demo-bucket",
        sourceAccount: "123456789012",
        eventSourceToken: "token-1",
        qualifier: "live",
        principalOrgId: "o-abcdefghij",
        functionUrlAuthType: "AWS_IAM",
        invokedViaFunctionUrl: true,
      },
      noDeadline(),
    );
    const exchange = lastExchange(stack);
    assert.equal(exchange.method, "POST");
    assert.equal(
      exchange.path,
      "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ademo/policy",
    );
    assert.equal(exchange.query.get("Qualifier"), "live");
    assert.deepEqual(JSON.parse(exchange.body), {
      StatementId: "allow-s3",
      Action: "lambda:InvokeFunction",
      Principal: "s3.amazonaws.com",
      SourceArn: "arn:aws:s3:::demo-bucket",
      SourceAccount: "123456789012",
      EventSourceToken: "token-1",
      PrincipalOrgID: "o-abcdefghij",
      FunctionUrlAuthType: "AWS_IAM",
      InvokedViaFunctionUrl: true,
    });
    assert.equal(result.awsRequestId, exchange.requestId);
    const statement = JSON.parse(result.statement) as Record<string, unknown>;
    assert.equal(statement["Sid"], "allow-s3");
    assert.deepEqual((statement["Condition"] as Record<string, unknown>)["Bool"], {
      "lambda:InvokedViaFunctionUrl": "true",
    });
    assert.equal(statement["Resource"], "arn:aws:lambda:us-east-1:123456789012:function:demo:live");
  });

  test("GetPolicy returns the document and RevisionId; RemovePermission forwards them", async () => {
    const policy = await stack.backend.getLambdaPolicy({ function: fn("demo"), qualifier: "live" }, noDeadline());
    assert.match(policy.revisionId, UUID_RE);
    const document = JSON.parse(policy.policy) as { Statement: { Sid: string }[] };
    assert.deepEqual(
      document.Statement.map((s) => s.Sid),
      ["allow-s3"],
    );
    assert.equal(lastExchange(stack).method, "GET");

    await stack.backend.removeLambdaPermission(
      { function: fn("demo"), statementId: "allow-s3", qualifier: "live", revisionId: policy.revisionId },
      noDeadline(),
    );
    const exchange = lastExchange(stack);
    assert.equal(exchange.method, "DELETE");
    assert.equal(exchange.path, "/2015-03-31/functions/demo/policy/allow-s3");
    assert.equal(exchange.query.get("Qualifier"), "live");
    assert.equal(exchange.query.get("RevisionId"), policy.revisionId);
    assert.equal(exchange.status, 204);
  });

  test("CreatePermission sends tags as key/value pairs and maps the summary", async () => {
    const template = JSON.stringify({ Effect: "Allow", Action: ["ec2:DescribeSubnets"] });
    const output = await stack.backend.createRamPermission(
      {
        name: "wire-created",
        resourceType: "ec2:Subnet",
        policyTemplate: template,
        clientToken: "token-create-1",
        tags: { team: "platform", env: "test" },
      },
      noDeadline(),
    );
    const body = JSON.parse(lastExchange(stack).body) as Record<string, unknown>;
    assert.deepEqual(body, {
      name: "wire-created",
      resourceType: "ec2:Subnet",
      policyTemplate: template,
      clientToken: "token-create-1",
      tags: [
        { key: "team", value: "platform" },
        { key: "env", value: "test" },
      ],
    });
    assert.equal(output.clientToken, "token-create-1");
    assert.deepEqual(output.permission, {
      arn: "arn:aws:ram:us-east-1:123456789012:permission/wire-created",
      name: "wire-created",
      version: 1,
      defaultVersion: true,
      resourceType: "ec2:Subnet",
      status: "ATTACHABLE",
      permissionType: "CUSTOMER_MANAGED",
      policyTemplate: template,
      creationTime: new Date(fixedClock.now()),
      lastUpdatedTime: new Date(fixedClock.now()),
      tags: { team: "platform", env: "test" },
    });
    assert.equal(output.awsRequestId, lastExchange(stack).requestId);
  });

  test("GetPermission returns the tags given at CreatePermission, as RAM does", async () => {
    const template = JSON.stringify({ Effect: "Allow", Action: ["ec2:DescribeSubnets"] });
    await stack.backend.createRamPermission(
      {
        name: "wire-tagged",
        resourceType: "ec2:Subnet",
        policyTemplate: template,
        clientToken: "token-tagged",
        tags: { owner: "team-a" },
      },
      noDeadline(),
    );
    const permission = await stack.backend.getRamPermission(
      { permission: permissionRef("arn:aws:ram:us-east-1:123456789012:permission/wire-tagged") },
      noDeadline(),
    );
    assert.deepEqual(permission.tags, { owner: "team-a" });
  });

  test("GetPermission maps the detail: version number, dates, type, policy text", async () => {
    const { awsRequestId, ...permission } = await stack.backend.getRamPermission(
      { permission: permissionRef(DEMO_PERMISSION) },
      noDeadline(),
    );
    assert.deepEqual(JSON.parse(lastExchange(stack).body), { permissionArn: DEMO_PERMISSION });
    assert.equal(awsRequestId, lastExchange(stack).requestId);
    assert.deepEqual(permission, {
      arn: DEMO_PERMISSION,
      name: "demo-permission",
      version: 1,
      defaultVersion: true,
      resourceType: "ec2:Subnet",
      status: "ATTACHABLE",
      permissionType: "CUSTOMER_MANAGED",
      policyTemplate: JSON.stringify({ Effect: "Allow", Action: ["ec2:DescribeSubnets"] }),
      creationTime: new Date("2024-01-01T00:00:00Z"),
      lastUpdatedTime: new Date("2024-01-01T00:00:00Z"),
    });

    const older = await stack.backend.getRamPermission(
      { permission: permissionRef(AWS_MANAGED_PREFIX_LIST), permissionVersion: 1 },
      noDeadline(),
    );
    assert.deepEqual(JSON.parse(lastExchange(stack).body), {
      permissionArn: AWS_MANAGED_PREFIX_LIST,
      permissionVersion: 1,
    });
    assert.equal(older.version, 1);
    assert.equal(older.defaultVersion, false);
    assert.equal(older.permissionType, "AWS_MANAGED");
  });

  test("ListPermissions asks for ALL by default and pages with nextToken", async () => {
    const first = await stack.backend.listRamPermissions({ maxResults: 2 }, noDeadline());
    assert.deepEqual(JSON.parse(lastExchange(stack).body), { maxResults: 2, permissionType: "ALL" });
    assert.equal(first.permissions.length, 2);
    assert.ok(first.nextToken !== undefined);
    const second = await stack.backend.listRamPermissions({ maxResults: 2, nextToken: first.nextToken }, noDeadline());
    assert.deepEqual(JSON.parse(lastExchange(stack).body), {
      maxResults: 2,
      nextToken: first.nextToken,
      permissionType: "ALL",
    });
    assert.ok(second.permissions.length > 0);
    assert.ok(second.permissions.every((p) => !first.permissions.some((q) => q.arn === p.arn)));

    const filtered = await stack.backend.listRamPermissions(
      { maxResults: 50, permissionType: "AWS_MANAGED", resourceType: "ec2:Subnet" },
      noDeadline(),
    );
    assert.deepEqual(JSON.parse(lastExchange(stack).body), {
      maxResults: 50,
      permissionType: "AWS_MANAGED",
      resourceType: "ec2:Subnet",
    });
    assert.deepEqual(
      filtered.permissions.map((p) => p.arn),
      [AWS_MANAGED_SUBNET],
    );
    assert.equal(filtered.nextToken, undefined);
    // RAM's ListPermissions returns summaries, which carry no policy text.
    assert.ok(
      [...first.permissions, ...second.permissions, ...filtered.permissions].every((p) => p.policyTemplate === ""),
    );
  });

  test("DeletePermission sends the ARN and token as query parameters", async () => {
    const output = await stack.backend.deleteRamPermission(
      { permission: permissionRef(DEMO_PERMISSION), clientToken: "token-delete-1" },
      noDeadline(),
    );
    const exchange = lastExchange(stack);
    assert.equal(exchange.method, "DELETE");
    assert.equal(exchange.path, "/deletepermission");
    assert.equal(exchange.query.get("permissionArn"), DEMO_PERMISSION);
    assert.equal(exchange.query.get("clientToken"), "token-delete-1");
    assert.deepEqual(output, {
      returnValue: true,
      clientToken: "token-delete-1",
      permissionStatus: "DELETED",
      awsRequestId: exchange.requestId,
    });
  });

  test("DeletePermission maps RAM's DELETING, which an asynchronous deletion answers", async () => {
    const deleting = await startAwsStack({ clock: fixedClock, fake: { ramDeletionStatus: "DELETING" } });
    try {
      const output = await deleting.backend.deleteRamPermission(
        { permission: permissionRef(DEMO_PERMISSION), clientToken: "token-async" },
        noDeadline(),
      );
      assert.equal(output.permissionStatus, "DELETING");
    } finally {
      await deleting.close();
    }
  });
});

describe("errors the model answers, translated", () => {
  let stack: AwsStack;
  before(async () => {
    stack = await startAwsStack({ maxAttempts: 1 });
  });
  after(() => stack.close());

  interface ModelErrorCase {
    readonly name: string;
    readonly run: (backend: PermissionBackend) => Promise<unknown>;
    readonly service: AwsService;
    readonly code: string;
    readonly httpStatus: number;
    /** Absent or undefined: AWS's answer says nothing certain about what is missing. */
    readonly missing?: MissingResource | undefined;
  }

  const cases: ModelErrorCase[] = [
    {
      // GetPolicy says the same for an unknown function, alias or an empty policy: nothing certain.
      name: "GetPolicy of an unknown function",
      run: (b) => b.getLambdaPolicy({ function: fn("nope") }, noDeadline()),
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: undefined,
    },
    {
      name: "GetPolicy of an unknown alias",
      run: (b) => b.getLambdaPolicy({ function: fn("demo"), qualifier: "staging" }, noDeadline()),
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: undefined,
    },
    {
      name: "GetPolicy of a function with no statements",
      run: (b) => b.getLambdaPolicy({ function: fn("demo") }, noDeadline()),
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: undefined,
    },
    {
      name: "AddPermission on an unknown function",
      run: (b) =>
        b.addLambdaPermission(
          { function: fn("nope"), statementId: "s", action: "lambda:InvokeFunction", principal: "*" },
          noDeadline(),
        ),
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: "function",
    },
    {
      name: "AddPermission on an unknown alias",
      run: (b) =>
        b.addLambdaPermission(
          {
            function: fn("demo"),
            statementId: "s",
            action: "lambda:InvokeFunction",
            principal: "*",
            qualifier: "staging",
          },
          noDeadline(),
        ),
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: "qualifier",
    },
    {
      name: "RemovePermission on an unknown function",
      run: (b) => b.removeLambdaPermission({ function: fn("nope"), statementId: "x" }, noDeadline()),
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: undefined,
    },
    {
      name: "RemovePermission of a function with no policy",
      run: (b) => b.removeLambdaPermission({ function: fn("demo"), statementId: "none" }, noDeadline()),
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: "policy",
    },
    {
      name: "RemovePermission of an unknown version",
      run: (b) => b.removeLambdaPermission({ function: fn("demo"), statementId: "x", qualifier: "9" }, noDeadline()),
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: undefined,
    },
    {
      name: "AddPermission on $LATEST",
      run: (b) =>
        b.addLambdaPermission(
          {
            function: fn("demo"),
            statementId: "s",
            action: "lambda:InvokeFunction",
            principal: "s3.amazonaws.com",
            qualifier: "$LATEST",
          },
          noDeadline(),
        ),
      service: "lambda",
      code: "InvalidParameterValueException",
      httpStatus: 400,
    },
    {
      name: "AddPermission with a stale RevisionId",
      run: (b) =>
        b.addLambdaPermission(
          {
            function: fn("demo"),
            statementId: "s",
            action: "lambda:InvokeFunction",
            principal: "s3.amazonaws.com",
            revisionId: "0f0f0f0f-0000-4000-8000-000000000000",
          },
          noDeadline(),
        ),
      service: "lambda",
      code: "PreconditionFailedException",
      httpStatus: 412,
    },
    {
      name: "GetPermission of an unknown permission",
      run: (b) =>
        b.getRamPermission(
          { permission: permissionRef("arn:aws:ram:us-east-1:123456789012:permission/nope") },
          noDeadline(),
        ),
      service: "ram",
      code: "UnknownResourceException",
      httpStatus: 400,
      missing: "permission",
    },
    {
      name: "GetPermission of an unknown version",
      run: (b) =>
        b.getRamPermission({ permission: permissionRef(DEMO_PERMISSION), permissionVersion: 4 }, noDeadline()),
      service: "ram",
      code: "UnknownResourceException",
      httpStatus: 400,
      missing: "permission-version",
    },
    {
      name: "DeletePermission of an attached permission",
      run: (b) =>
        b.deleteRamPermission({ permission: permissionRef(DEMO_ATTACHED), clientToken: "t-attached" }, noDeadline()),
      service: "ram",
      code: "OperationNotPermittedException",
      httpStatus: 400,
    },
    {
      name: "DeletePermission of an AWS managed permission",
      run: (b) =>
        b.deleteRamPermission(
          { permission: permissionRef(AWS_MANAGED_SUBNET), clientToken: "t-managed" },
          noDeadline(),
        ),
      service: "ram",
      code: "OperationNotPermittedException",
      httpStatus: 400,
    },
    {
      name: "ListPermissions with a forged nextToken",
      run: (b) => b.listRamPermissions({ maxResults: 5, nextToken: "forged.token" }, noDeadline()),
      service: "ram",
      code: "InvalidNextTokenException",
      httpStatus: 400,
    },
    {
      name: "CreatePermission with a malformed policy template",
      run: (b) =>
        b.createRamPermission(
          {
            name: "bad-template",
            resourceType: "ec2:Subnet",
            policyTemplate: "{not json",
            clientToken: "t-bad",
            tags: {},
          },
          noDeadline(),
        ),
      service: "ram",
      code: "MalformedPolicyTemplateException",
      httpStatus: 400,
    },
    {
      name: "CreatePermission with a name that exists",
      run: (b) =>
        b.createRamPermission(
          {
            name: "demo-permission",
            resourceType: "ec2:Subnet",
            policyTemplate: '{"Effect":"Allow","Action":["ec2:DescribeSubnets"]}',
            clientToken: "t-exists",
            tags: {},
          },
          noDeadline(),
        ),
      service: "ram",
      code: "PermissionAlreadyExistsException",
      httpStatus: 409,
    },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const error = await rejectionOf(c.run(stack.backend));
      assert.ok(error instanceof AwsApiError, `expected AwsApiError, got ${error.name}: ${error.message}`);
      const exchange = lastExchange(stack);
      assert.equal(error.service, c.service);
      assert.equal(error.code, c.code);
      assert.equal(error.httpStatus, c.httpStatus);
      assert.equal(exchange.status, c.httpStatus);
      assert.equal(error.requestId, exchange.requestId);
      assert.match(error.requestId ?? "", UUID_RE);
      assert.equal(error.missing, c.missing);
      assert.equal(error.retryAfterSeconds, undefined);
    });
  }
});

describe("every AWS error of both APIs, injected at the endpoint", () => {
  let stack: AwsStack;
  let sequence = 0;
  before(async () => {
    // One attempt: retryable errors must reach the adapter, not be retried away.
    stack = await startAwsStack({ maxAttempts: 1 });
  });
  after(() => stack.close());

  const operations = {
    AddPermission: {
      service: "lambda",
      run: (b: PermissionBackend) =>
        b.addLambdaPermission(
          {
            function: fn("demo"),
            statementId: `s-${++sequence}`,
            action: "lambda:InvokeFunction",
            principal: "s3.amazonaws.com",
            qualifier: "1",
          },
          noDeadline(),
        ),
      errors: MODELLED_ERRORS.AddPermission,
    },
    RemovePermission: {
      service: "lambda",
      run: (b: PermissionBackend) =>
        b.removeLambdaPermission({ function: fn("demo"), statementId: "any" }, noDeadline()),
      errors: MODELLED_ERRORS.RemovePermission,
    },
    GetPolicy: {
      service: "lambda",
      run: (b: PermissionBackend) => b.getLambdaPolicy({ function: fn("demo") }, noDeadline()),
      errors: MODELLED_ERRORS.GetPolicy,
    },
    CreatePermission: {
      service: "ram",
      run: (b: PermissionBackend) =>
        b.createRamPermission(
          {
            name: `injected-${++sequence}`,
            resourceType: "ec2:Subnet",
            policyTemplate: '{"Effect":"Allow","Action":["ec2:DescribeSubnets"]}',
            clientToken: `t-${sequence}`,
            tags: {},
          },
          noDeadline(),
        ),
      errors: MODELLED_ERRORS.CreatePermission,
    },
    DeletePermission: {
      service: "ram",
      run: (b: PermissionBackend) =>
        b.deleteRamPermission(
          { permission: permissionRef(DEMO_PERMISSION), clientToken: `t-${++sequence}` },
          noDeadline(),
        ),
      errors: MODELLED_ERRORS.DeletePermission,
    },
    GetPermission: {
      service: "ram",
      run: (b: PermissionBackend) => b.getRamPermission({ permission: permissionRef(DEMO_PERMISSION) }, noDeadline()),
      errors: MODELLED_ERRORS.GetPermission,
    },
    ListPermissions: {
      service: "ram",
      run: (b: PermissionBackend) => b.listRamPermissions({ maxResults: 10 }, noDeadline()),
      errors: MODELLED_ERRORS.ListPermissions,
    },
  } as const;

  /** AWS's status for each code: the service models' httpError traits and the frontend's. */
  const statusOf: Readonly<Record<string, number>> = {
    InvalidParameterValueException: 400,
    PolicyLengthExceededException: 400,
    PreconditionFailedException: 412,
    PublicPolicyException: 400,
    ResourceConflictException: 409,
    ResourceNotFoundException: 404,
    ServiceException: 500,
    TooManyRequestsException: 429,
    IdempotentParameterMismatchException: 400,
    InvalidClientTokenException: 400,
    InvalidParameterException: 400,
    InvalidPolicyException: 400,
    MalformedPolicyTemplateException: 400,
    OperationNotPermittedException: 400,
    PermissionAlreadyExistsException: 409,
    PermissionLimitExceededException: 400,
    ServerInternalException: 500,
    ServiceUnavailableException: 503,
    ThrottlingException: 429,
    MalformedArnException: 400,
    UnknownResourceException: 400,
    InvalidNextTokenException: 400,
    AccessDeniedException: 403,
  };
  const throttling = new Set(["TooManyRequestsException", "ThrottlingException"]);
  const lambdaMutations = new Set(["AddPermission", "RemovePermission"]);
  const credentialCodes = ["ExpiredTokenException", "UnrecognizedClientException", "InvalidSignatureException"];

  for (const [operation, spec] of Object.entries(operations)) {
    for (const code of [...spec.errors, "AccessDeniedException"]) {
      test(`${operation}: ${code}`, async () => {
        const retryAfterSeconds = throttling.has(code) ? 7 : undefined;
        stack.endpoint.injectFault({
          operation,
          errorCode: code,
          times: 1,
          ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        });
        const rejection = await rejectionOf(spec.run(stack.backend));
        // A Lambda mutation answered 5xx may have taken effect: AWS's answer is the cause of an unknown outcome.
        const uncertain = lambdaMutations.has(operation) && (statusOf[code] ?? 0) >= 500;
        assert.equal(
          rejection instanceof UpstreamOutcomeUnknownError,
          uncertain,
          `${rejection.name}: ${rejection.message}`,
        );
        const error = uncertain ? rejection.cause : rejection;
        assert.ok(error instanceof AwsApiError, `expected AwsApiError, got ${rejection.name}: ${rejection.message}`);
        const exchange = lastExchange(stack);
        assert.equal(error.service, spec.service);
        assert.equal(error.code, code);
        assert.equal(error.httpStatus, statusOf[code]);
        assert.equal(exchange.status, statusOf[code]);
        assert.equal(error.requestId, exchange.requestId);
        assert.match(error.requestId ?? "", UUID_RE);
        assert.equal(error.retryAfterSeconds, retryAfterSeconds);
        assert.equal(error.missing, code === "UnknownResourceException" ? "permission" : undefined);
      });
    }
    for (const code of credentialCodes) {
      test(`${operation}: ${code} is AWS's answer, of the credentials kind, request ID kept`, async () => {
        stack.endpoint.injectFault({ operation, errorCode: code, times: 1 });
        const error = await rejectionOf(spec.run(stack.backend));
        assert.ok(error instanceof AwsApiError, `expected AwsApiError, got ${error.name}: ${error.message}`);
        assert.equal(error.service, spec.service);
        assert.equal(error.code, code);
        assert.equal(error.requestId, lastExchange(stack).requestId);
        assert.equal(kindOfAwsError(spec.service, code), "credentials");
      });
    }
  }
});

// RAM's four operations through the real @aws-sdk/client-ram against the fake
// AWS endpoint: success paths with the shapes the SDK deserialises (string
// versions, epoch-second timestamps), the model's answers as AWS errors, and
// every documented error of each operation as the SDK surfaces it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CreatePermissionCommand,
  DeletePermissionCommand,
  GetPermissionCommand,
  ListPermissionsCommand,
} from "@aws-sdk/client-ram";
import {
  ACCOUNT,
  ATTACHED_PERMISSION_ARN,
  AWS_MANAGED_ARN,
  PERMISSION_ARN,
  REGION,
  UUID_RE,
  assertAwsError,
  rejectionOf,
  startHarness,
} from "./harness.js";

const template = JSON.stringify({ Effect: "Allow", Action: ["ec2:DescribeSubnets"] });

describe("fake AWS endpoint: RAM", () => {
  it("creates a permission with tags and a client token, and answers a ResourceSharePermissionSummary", async (t) => {
    const { ram } = await startHarness(t);
    const created = await ram.send(
      new CreatePermissionCommand({
        name: "subnet-readers",
        resourceType: "ec2:Subnet",
        policyTemplate: template,
        clientToken: "token-1",
        tags: [{ key: "team", value: "net" }],
      }),
    );
    assert.equal(created.$metadata.httpStatusCode, 200);
    assert.equal(created.clientToken, "token-1");
    const permission = created.permission;
    assert.ok(permission);
    assert.equal(permission.arn, `arn:aws:ram:${REGION}:${ACCOUNT}:permission/subnet-readers`);
    assert.equal(permission.version, "1");
    assert.equal(permission.defaultVersion, true);
    assert.equal(permission.name, "subnet-readers");
    assert.equal(permission.resourceType, "ec2:Subnet");
    assert.equal(permission.status, "ATTACHABLE");
    assert.equal(permission.permissionType, "CUSTOMER_MANAGED");
    assert.equal(permission.featureSet, "STANDARD");
    assert.equal(permission.isResourceTypeDefault, false);
    assert.deepEqual(permission.tags, [{ key: "team", value: "net" }]);
    assert.ok(permission.creationTime instanceof Date && !Number.isNaN(permission.creationTime.getTime()));
    assert.ok(permission.lastUpdatedTime instanceof Date);

    // The same call with the same token is RAM's idempotent replay.
    const replay = await ram.send(
      new CreatePermissionCommand({
        name: "subnet-readers",
        resourceType: "ec2:Subnet",
        policyTemplate: template,
        clientToken: "token-1",
        tags: [{ key: "team", value: "net" }],
      }),
    );
    assert.equal(replay.permission?.arn, permission.arn);
  });

  it("generates a client token when the caller sends none, as RAM does", async (t) => {
    const { ram } = await startHarness(t);
    const created = await ram.send(
      new CreatePermissionCommand({ name: "no-token", resourceType: "ec2:Subnet", policyTemplate: template }),
    );
    assert.match(created.clientToken ?? "", UUID_RE);
    const deleted = await ram.send(new DeletePermissionCommand({ permissionArn: created.permission?.arn }));
    assert.match(deleted.clientToken ?? "", UUID_RE);
  });

  it("gets a permission's detail with its template, by default version and by number", async (t) => {
    const { ram } = await startHarness(t);
    const got = await ram.send(new GetPermissionCommand({ permissionArn: PERMISSION_ARN }));
    const detail = got.permission;
    assert.ok(detail);
    assert.equal(detail.arn, PERMISSION_ARN);
    assert.equal(detail.version, "1");
    assert.deepEqual(JSON.parse(detail.permission ?? ""), { Effect: "Allow", Action: ["ec2:DescribeSubnets"] });
    assert.equal(detail.creationTime?.toISOString(), "2024-01-01T00:00:00.000Z");
    const byVersion = await ram.send(new GetPermissionCommand({ permissionArn: PERMISSION_ARN, permissionVersion: 1 }));
    assert.equal(byVersion.permission?.version, "1");

    const managed = await ram.send(new GetPermissionCommand({ permissionArn: AWS_MANAGED_ARN }));
    assert.equal(managed.permission?.permissionType, "AWS_MANAGED");
    assert.equal(managed.permission?.isResourceTypeDefault, true);
  });

  it("lists with the permissionType filter and pages with nextToken and maxResults", async (t) => {
    const { ram } = await startHarness(t);
    const managed = await ram.send(new ListPermissionsCommand({ permissionType: "AWS_MANAGED" }));
    assert.deepEqual(
      managed.permissions?.map((p) => p.arn),
      [AWS_MANAGED_ARN],
    );
    const customer = await ram.send(
      new ListPermissionsCommand({ permissionType: "CUSTOMER_MANAGED", resourceType: "ec2:Subnet" }),
    );
    assert.deepEqual(
      new Set(customer.permissions?.map((p) => p.arn)),
      new Set([PERMISSION_ARN, ATTACHED_PERMISSION_ARN]),
    );

    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await ram.send(new ListPermissionsCommand({ permissionType: "ALL", maxResults: 1, nextToken }));
      assert.ok((page.permissions?.length ?? 0) <= 1);
      seen.push(...(page.permissions ?? []).map((p) => p.arn ?? ""));
      nextToken = page.nextToken;
      pages += 1;
    } while (nextToken !== undefined && pages < 10);
    assert.deepEqual(new Set(seen), new Set([PERMISSION_ARN, ATTACHED_PERMISSION_ARN, AWS_MANAGED_ARN]));
    assert.equal(seen.length, 3);
  });

  it("deletes a permission and echoes the client token", async (t) => {
    const { ram } = await startHarness(t);
    const deleted = await ram.send(
      new DeletePermissionCommand({ permissionArn: PERMISSION_ARN, clientToken: "del-1" }),
    );
    assert.equal(deleted.$metadata.httpStatusCode, 200);
    assert.equal(deleted.returnValue, true);
    assert.equal(deleted.clientToken, "del-1");
    assert.equal(deleted.permissionStatus, "DELETED");
    const gone = await rejectionOf(ram.send(new GetPermissionCommand({ permissionArn: PERMISSION_ARN })));
    assertAwsError(gone, "UnknownResourceException", 400);
  });

  const modelErrors: {
    name: string;
    setup?: (send: (c: CreatePermissionCommand) => Promise<unknown>) => Promise<unknown>;
    command: () => CreatePermissionCommand | DeletePermissionCommand | GetPermissionCommand | ListPermissionsCommand;
    code: string;
    status?: number;
  }[] = [
    {
      name: "unknown permission",
      command: () => new GetPermissionCommand({ permissionArn: `arn:aws:ram:${REGION}:${ACCOUNT}:permission/nope` }),
      code: "UnknownResourceException",
    },
    {
      name: "unknown version",
      command: () => new GetPermissionCommand({ permissionArn: PERMISSION_ARN, permissionVersion: 9 }),
      code: "UnknownResourceException",
    },
    {
      name: "malformed ARN",
      command: () => new DeletePermissionCommand({ permissionArn: "not-an-arn" }),
      code: "MalformedArnException",
    },
    {
      name: "permission attached to a resource share",
      command: () => new DeletePermissionCommand({ permissionArn: ATTACHED_PERMISSION_ARN }),
      code: "OperationNotPermittedException",
    },
    {
      name: "AWS managed permission",
      command: () => new DeletePermissionCommand({ permissionArn: AWS_MANAGED_ARN }),
      code: "OperationNotPermittedException",
    },
    {
      name: "name already taken",
      command: () =>
        new CreatePermissionCommand({ name: "demo-permission", resourceType: "ec2:Subnet", policyTemplate: template }),
      code: "PermissionAlreadyExistsException",
      status: 409,
    },
    {
      name: "client token reused with other parameters",
      setup: (send) =>
        send(
          new CreatePermissionCommand({
            name: "first",
            resourceType: "ec2:Subnet",
            policyTemplate: template,
            clientToken: "same",
          }),
        ),
      command: () =>
        new CreatePermissionCommand({
          name: "second",
          resourceType: "ec2:Subnet",
          policyTemplate: template,
          clientToken: "same",
        }),
      code: "IdempotentParameterMismatchException",
    },
    {
      name: "policy template that is not JSON",
      command: () =>
        new CreatePermissionCommand({ name: "bad-template", resourceType: "ec2:Subnet", policyTemplate: "{" }),
      code: "MalformedPolicyTemplateException",
    },
    {
      name: "policy template whose action belongs to another resource type",
      command: () =>
        new CreatePermissionCommand({
          name: "foreign-action",
          resourceType: "ec2:Subnet",
          policyTemplate: JSON.stringify({ Effect: "Allow", Action: ["s3:GetObject"] }),
        }),
      code: "MalformedPolicyTemplateException",
    },
    {
      name: "next token RAM never issued",
      command: () => new ListPermissionsCommand({ nextToken: "garbage" }),
      code: "InvalidNextTokenException",
    },
    {
      name: "maxResults outside 1..500",
      command: () => new ListPermissionsCommand({ maxResults: 501 }),
      code: "InvalidParameterException",
    },
    {
      name: "permissionType outside the enum",
      command: () => new ListPermissionsCommand({ permissionType: "SOME" as never }),
      code: "InvalidParameterException",
    },
    {
      name: "name breaking the model's constraint",
      command: () =>
        new CreatePermissionCommand({ name: "has space", resourceType: "ec2:Subnet", policyTemplate: template }),
      code: "InvalidParameterException",
    },
    {
      name: "missing policyTemplate",
      command: () => new CreatePermissionCommand({ name: "x", resourceType: "ec2:Subnet" } as never),
      code: "MissingRequiredParameterException",
    },
    {
      name: "missing permissionArn",
      command: () => new GetPermissionCommand({} as never),
      code: "MissingRequiredParameterException",
    },
  ];

  for (const scenario of modelErrors) {
    const status = scenario.status ?? 400;
    it(`answers ${scenario.code} (${status}): ${scenario.name}`, async (t) => {
      const { ram } = await startHarness(t);
      await scenario.setup?.((command) => ram.send(command));
      const error = await rejectionOf(ram.send(scenario.command() as GetPermissionCommand));
      assertAwsError(error, scenario.code, status);
      assert.ok(error.message.length > 0);
    });
  }

  // Every error the RAM API reference documents for each operation (and the
  // modelled ThrottlingException), with the status of the service model.
  const documented: Record<
    "DeletePermission" | "CreatePermission" | "GetPermission" | "ListPermissions",
    [string, number][]
  > = {
    DeletePermission: [
      ["IdempotentParameterMismatchException", 400],
      ["InvalidClientTokenException", 400],
      ["MalformedArnException", 400],
      ["OperationNotPermittedException", 400],
      ["ServerInternalException", 500],
      ["ServiceUnavailableException", 503],
      ["UnknownResourceException", 400],
      ["ThrottlingException", 429],
    ],
    CreatePermission: [
      ["IdempotentParameterMismatchException", 400],
      ["InvalidClientTokenException", 400],
      ["InvalidParameterException", 400],
      ["InvalidPolicyException", 400],
      ["MalformedPolicyTemplateException", 400],
      ["OperationNotPermittedException", 400],
      ["PermissionAlreadyExistsException", 409],
      ["PermissionLimitExceededException", 400],
      ["ServerInternalException", 500],
      ["ServiceUnavailableException", 503],
      ["ThrottlingException", 429],
    ],
    GetPermission: [
      ["InvalidParameterException", 400],
      ["MalformedArnException", 400],
      ["OperationNotPermittedException", 400],
      ["ServerInternalException", 500],
      ["ServiceUnavailableException", 503],
      ["UnknownResourceException", 400],
      ["ThrottlingException", 429],
    ],
    ListPermissions: [
      ["InvalidNextTokenException", 400],
      ["InvalidParameterException", 400],
      ["OperationNotPermittedException", 400],
      ["ServerInternalException", 500],
      ["ServiceUnavailableException", 503],
      ["ThrottlingException", 429],
    ],
  };
  const commands = {
    DeletePermission: () => new DeletePermissionCommand({ permissionArn: PERMISSION_ARN }),
    CreatePermission: () =>
      new CreatePermissionCommand({ name: "x", resourceType: "ec2:Subnet", policyTemplate: template }),
    GetPermission: () => new GetPermissionCommand({ permissionArn: PERMISSION_ARN }),
    ListPermissions: () => new ListPermissionsCommand({}),
  };

  for (const [operation, errors] of Object.entries(documented) as [keyof typeof documented, [string, number][]][]) {
    it(`surfaces each documented ${operation} error with its name, status, fault and request ID`, async (t) => {
      const { ram, server } = await startHarness(t);
      for (const [code, status] of errors) {
        server.injectFault({ operation, errorCode: code, times: 1, retryAfterSeconds: 0 });
        const error = await rejectionOf(ram.send(commands[operation]() as GetPermissionCommand));
        assertAwsError(error, code, status);
        assert.equal(error.$fault, status >= 500 ? "server" : "client", code);
      }
      assert.equal(server.callCount(operation), errors.length);
    });
  }

  it("sends Retry-After with ThrottlingException", async (t) => {
    const { ram, server } = await startHarness(t);
    server.injectFault({ operation: "ListPermissions", errorCode: "ThrottlingException", times: 1 });
    const error = await rejectionOf(ram.send(new ListPermissionsCommand({})));
    assertAwsError(error, "ThrottlingException", 429);
    assert.equal(error.$response?.headers["retry-after"], "1");
  });
});

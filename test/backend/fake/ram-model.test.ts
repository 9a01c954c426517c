// The fake's RAM model against the documented behaviour of CreatePermission,
// DeletePermission, GetPermission and ListPermissions.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createFakeBackend } from "../../../src/backend/fake/fake-backend.js";
import type { FakeBackend, FakeBackendOptions, FakeSeed } from "../../../src/backend/fake/fake-backend.js";
import type {
  CreateRamPermissionInput,
  ListRamPermissionsInput,
  RamPermission,
  RamPermissionRef,
} from "../../../src/backend/backend.js";
import { manualClock } from "../../support/manual-clock.js";
import { permissionRef } from "../../support/permission-ref.js";
import { callOptions, rejectsWithAws, withoutRequestId } from "./fake-test-helpers.js";

const demoPermission = "arn:aws:ram:us-east-1:123456789012:permission/demo-permission";
const demoAttached = "arn:aws:ram:us-east-1:123456789012:permission/demo-attached";
const ec2Subnet = "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet";
const prefixList = "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionPrefixList";
const template = JSON.stringify({ Effect: "Allow", Action: ["ec2:DescribeSubnets"] });

async function create(backend: FakeBackend, extra: Partial<CreateRamPermissionInput> = {}) {
  return withoutRequestId(
    await backend.createRamPermission(
      {
        name: "created",
        resourceType: "ec2:Subnet",
        policyTemplate: template,
        clientToken: "token-1",
        tags: {},
        ...extra,
      },
      callOptions(),
    ),
  );
}

/** A reference the gateway's parser would never make, so the fake's own ARN check is what refuses it. */
function unparsedRef(arn: string): RamPermissionRef {
  return { arn, partition: "aws", region: "", account: "", name: "", awsManaged: false };
}

async function get(backend: FakeBackend, arn: string | RamPermissionRef, permissionVersion?: number) {
  const permission = typeof arn === "string" ? permissionRef(arn) : arn;
  return withoutRequestId(await backend.getRamPermission({ permission, permissionVersion }, callOptions()));
}

async function remove(backend: FakeBackend, arn: string | RamPermissionRef, clientToken = "delete-token") {
  const permission = typeof arn === "string" ? permissionRef(arn) : arn;
  return withoutRequestId(await backend.deleteRamPermission({ permission, clientToken }, callOptions()));
}

function list(backend: FakeBackend, input: Partial<ListRamPermissionsInput> = {}) {
  return backend.listRamPermissions({ maxResults: 500, ...input }, callOptions());
}

async function listAll(backend: FakeBackend, input: Partial<ListRamPermissionsInput>): Promise<RamPermission[]> {
  const all: RamPermission[] = [];
  let nextToken: string | undefined;
  do {
    const page = await list(backend, { ...input, nextToken });
    assert.ok(page.permissions.length <= (input.maxResults ?? 500));
    all.push(...page.permissions);
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return all;
}

describe("fake RAM: GetPermission", () => {
  it("returns a customer managed permission's default version", async () => {
    const permission = await get(createFakeBackend(), demoPermission);
    assert.deepEqual(permission, {
      arn: demoPermission,
      name: "demo-permission",
      version: 1,
      defaultVersion: true,
      resourceType: "ec2:Subnet",
      status: "ATTACHABLE",
      permissionType: "CUSTOMER_MANAGED",
      policyTemplate: '{"Effect":"Allow","Action":["ec2:DescribeSubnets"]}',
      creationTime: new Date("2024-01-01T00:00:00Z"),
      lastUpdatedTime: new Date("2024-01-01T00:00:00Z"),
    });
  });

  it("returns an AWS managed permission", async () => {
    const permission = await get(createFakeBackend(), ec2Subnet);
    assert.equal(permission.permissionType, "AWS_MANAGED");
    assert.equal(permission.name, "AWSRAMDefaultPermissionEC2Subnet");
    assert.equal(permission.resourceType, "ec2:Subnet");
  });

  it("returns the version asked for, and says whether it is the default", async () => {
    const backend = createFakeBackend();
    const latest = await get(backend, prefixList);
    assert.equal(latest.version, 2);
    assert.equal(latest.defaultVersion, true);
    const first = await get(backend, prefixList, 1);
    assert.equal(first.version, 1);
    assert.equal(first.defaultVersion, false);
    assert.notEqual(first.policyTemplate, latest.policyTemplate);
  });

  it("answers UnknownResourceException (400, missing permission-version) for an unknown version", async () => {
    await rejectsWithAws(get(createFakeBackend(), prefixList, 3), {
      service: "ram",
      code: "UnknownResourceException",
      httpStatus: 400,
      missing: "permission-version",
    });
  });

  it("answers UnknownResourceException (400, missing permission) for an unknown ARN", async () => {
    await rejectsWithAws(get(createFakeBackend(), "arn:aws:ram:us-east-1:123456789012:permission/nope"), {
      service: "ram",
      code: "UnknownResourceException",
      httpStatus: 400,
      missing: "permission",
    });
  });

  it("answers MalformedArnException for an ARN that is not a permission ARN", async () => {
    await rejectsWithAws(
      get(createFakeBackend(), unparsedRef("arn:aws:ram:us-east-1:123456789012:resource-share/abc")),
      {
        service: "ram",
        code: "MalformedArnException",
        httpStatus: 400,
      },
    );
  });

  it("finds a permission seeded in another Region by its ARN", async () => {
    const seed: FakeSeed = {
      ram: {
        permissions: [{ name: "far", region: "eu-west-1", resourceType: "ec2:Subnet", policyTemplate: template }],
      },
    };
    const permission = await get(createFakeBackend({ seed }), "arn:aws:ram:eu-west-1:123456789012:permission/far");
    assert.equal(permission.name, "far");
  });
});

describe("fake RAM: CreatePermission", () => {
  it("creates version 1 as the default, stamped by the injected clock", async () => {
    const clock = manualClock();
    const backend = createFakeBackend({ clock });
    const { permission, clientToken } = await create(backend);
    assert.equal(clientToken, "token-1");
    assert.deepEqual(permission, {
      arn: "arn:aws:ram:us-east-1:123456789012:permission/created",
      name: "created",
      version: 1,
      defaultVersion: true,
      resourceType: "ec2:Subnet",
      status: "ATTACHABLE",
      permissionType: "CUSTOMER_MANAGED",
      policyTemplate: template,
      creationTime: new Date(clock.now()),
      lastUpdatedTime: new Date(clock.now()),
    });
    clock.advance(60_000);
    assert.deepEqual(await get(backend, permission.arn), permission);
  });

  it("creates in the backend's default account, Region and partition", async () => {
    const backend = createFakeBackend({
      defaultAccount: "111122223333",
      defaultRegion: "cn-north-1",
      defaultPartition: "aws-cn",
    });
    const { permission } = await create(backend);
    assert.equal(permission.arn, "arn:aws-cn:ram:cn-north-1:111122223333:permission/created");
  });

  it("spells a known resource type as RAM does, whatever the case given", async () => {
    const { permission } = await create(createFakeBackend(), {
      resourceType: "EC2:subnet",
      policyTemplate: JSON.stringify({ Effect: "Allow", Action: ["EC2:DescribeSubnets", "ec2:Describe*"] }),
    });
    assert.equal(permission.resourceType, "ec2:Subnet");
  });

  it("answers PermissionAlreadyExistsException (409) for a name taken in the account and Region", async () => {
    await rejectsWithAws(create(createFakeBackend(), { name: "demo-permission" }), {
      service: "ram",
      code: "PermissionAlreadyExistsException",
      httpStatus: 409,
    });
  });

  it("allows a name again once its permission is deleted", async () => {
    const backend = createFakeBackend();
    await remove(backend, demoPermission);
    const { permission } = await create(backend, { name: "demo-permission" });
    assert.equal(permission.arn, demoPermission);
  });

  const malformed: [string, string][] = [
    ["text that is not JSON", "{Effect: Allow"],
    ["a JSON array", JSON.stringify([{ Effect: "Allow", Action: "ec2:DescribeSubnets" }])],
    ["no Effect", JSON.stringify({ Action: "ec2:DescribeSubnets" })],
    ["no Action", JSON.stringify({ Effect: "Allow" })],
    ["an empty Action list", JSON.stringify({ Effect: "Allow", Action: [] })],
    ["Effect Deny", JSON.stringify({ Effect: "Deny", Action: "ec2:DescribeSubnets" })],
    ["a Principal", JSON.stringify({ Effect: "Allow", Action: "ec2:DescribeSubnets", Principal: "*" })],
    ["a Resource", JSON.stringify({ Effect: "Allow", Action: "ec2:DescribeSubnets", Resource: "*" })],
    // RAM: only actions the resource type (ec2:Subnet here) supports.
    ["an action of another resource type", JSON.stringify({ Effect: "Allow", Action: "s3:GetObject" })],
    ["one foreign action among its own", JSON.stringify({ Effect: "Allow", Action: ["ec2:DescribeSubnets", "s3:*"] })],
    ["an action of every service", JSON.stringify({ Effect: "Allow", Action: "*" })],
  ];
  for (const [what, policyTemplate] of malformed) {
    it(`answers MalformedPolicyTemplateException for a template with ${what}`, async () => {
      const backend = createFakeBackend();
      await rejectsWithAws(create(backend, { policyTemplate }), {
        service: "ram",
        code: "MalformedPolicyTemplateException",
        httpStatus: 400,
      });
      await rejectsWithAws(get(backend, "arn:aws:ram:us-east-1:123456789012:permission/created"), {
        service: "ram",
        code: "UnknownResourceException",
        httpStatus: 400,
      });
    });
  }

  it("answers PermissionLimitExceededException past the customer managed permission limit", async () => {
    // The demo seed already has two customer managed permissions in us-east-1.
    const backend = createFakeBackend({ limits: { ramCustomerManagedPermissions: 3 } });
    await create(backend, { name: "third", clientToken: "t3" });
    await rejectsWithAws(create(backend, { name: "fourth", clientToken: "t4" }), {
      service: "ram",
      code: "PermissionLimitExceededException",
      httpStatus: 400,
    });
    await remove(backend, demoPermission);
    await create(backend, { name: "fourth", clientToken: "t5" });
  });

  it("answers InvalidParameterException for a name RAM does not accept", async () => {
    await rejectsWithAws(create(createFakeBackend(), { name: "has space" }), {
      service: "ram",
      code: "InvalidParameterException",
      httpStatus: 400,
    });
    await rejectsWithAws(create(createFakeBackend(), { name: "x".repeat(37) }), {
      service: "ram",
      code: "InvalidParameterException",
      httpStatus: 400,
    });
  });

  it("answers InvalidParameterException for a resource type not written service:Type", async () => {
    await rejectsWithAws(create(createFakeBackend(), { resourceType: "Subnet" }), {
      service: "ram",
      code: "InvalidParameterException",
      httpStatus: 400,
    });
  });
});

describe("fake RAM: clientToken idempotency", () => {
  it("returns the original result for the same token and parameters, creating nothing more", async () => {
    const clock = manualClock();
    const backend = createFakeBackend({ clock });
    const first = await create(backend, { tags: { team: "a", env: "dev" } });
    clock.advance(5_000);
    const again = await create(backend, { tags: { env: "dev", team: "a" } });
    assert.deepEqual(again, first);
    assert.equal(again.clientToken, "token-1");
    const customer = await list(backend, { permissionType: "CUSTOMER_MANAGED" });
    assert.equal(customer.permissions.filter((p) => p.name === "created").length, 1);
  });

  it("refuses the same token with other parameters: IdempotentParameterMismatchException", async () => {
    const backend = createFakeBackend();
    await create(backend);
    for (const changed of [{ name: "other" }, { resourceType: "ec2:TransitGateway" }, { tags: { team: "b" } }]) {
      await rejectsWithAws(create(backend, changed), {
        service: "ram",
        code: "IdempotentParameterMismatchException",
        httpStatus: 400,
      });
    }
  });

  it("replays a delete for the same token, even though the permission is gone", async () => {
    const backend = createFakeBackend();
    const first = await remove(backend, demoPermission, "del-1");
    assert.deepEqual(await remove(backend, demoPermission, "del-1"), first);
    await rejectsWithAws(remove(backend, demoPermission, "del-2"), {
      service: "ram",
      code: "UnknownResourceException",
      httpStatus: 400,
    });
  });

  it("refuses a delete token reused for another permission", async () => {
    const backend = createFakeBackend();
    await create(backend, { name: "spare" });
    await remove(backend, demoPermission, "del-1");
    await rejectsWithAws(remove(backend, "arn:aws:ram:us-east-1:123456789012:permission/spare", "del-1"), {
      service: "ram",
      code: "IdempotentParameterMismatchException",
      httpStatus: 400,
    });
  });

  it("keeps tokens per operation: a create token does not clash with a delete token", async () => {
    const backend = createFakeBackend();
    await create(backend, { clientToken: "shared" });
    await remove(backend, demoPermission, "shared");
  });

  it("answers InvalidClientTokenException for a token that is not 1 to 64 printable ASCII characters", async () => {
    for (const clientToken of ["", "has space", "x".repeat(65), "naïve"]) {
      await rejectsWithAws(create(createFakeBackend(), { clientToken }), {
        service: "ram",
        code: "InvalidClientTokenException",
        httpStatus: 400,
      });
      await rejectsWithAws(remove(createFakeBackend(), demoPermission, clientToken), {
        service: "ram",
        code: "InvalidClientTokenException",
        httpStatus: 400,
      });
    }
  });

  it("forgets a token once its time is up", async () => {
    const clock = manualClock();
    const backend = createFakeBackend({ clock, limits: { clientTokenTtlMs: 60_000 } });
    await create(backend, { name: "first" });
    clock.advance(59_999);
    await rejectsWithAws(create(backend, { name: "second" }), {
      service: "ram",
      code: "IdempotentParameterMismatchException",
      httpStatus: 400,
    });
    clock.advance(1);
    const { permission } = await create(backend, { name: "second" });
    assert.equal(permission.name, "second");
  });

  it("remembers a bounded number of tokens, forgetting the oldest first", async () => {
    const backend = createFakeBackend({ limits: { maxClientTokens: 2 } });
    await create(backend, { name: "p1", clientToken: "t1" });
    await create(backend, { name: "p2", clientToken: "t2" });
    await create(backend, { name: "p3", clientToken: "t3" });
    // t1 is forgotten: reusing it with other parameters is a fresh call now.
    const { permission } = await create(backend, { name: "p4", clientToken: "t1" });
    assert.equal(permission.name, "p4");
    await rejectsWithAws(create(backend, { name: "p5", clientToken: "t3" }), {
      service: "ram",
      code: "IdempotentParameterMismatchException",
      httpStatus: 400,
    });
  });
});

describe("fake RAM: DeletePermission", () => {
  it("deletes the permission and answers returnValue true, status DELETED and the client token", async () => {
    const backend = createFakeBackend();
    assert.deepEqual(await remove(backend, demoPermission, "del-1"), {
      returnValue: true,
      clientToken: "del-1",
      permissionStatus: "DELETED",
    });
    await rejectsWithAws(get(backend, demoPermission), {
      service: "ram",
      code: "UnknownResourceException",
      httpStatus: 400,
      missing: "permission",
    });
  });

  it("deletes every version", async () => {
    const seed: FakeSeed = {
      ram: {
        permissions: [
          {
            name: "versioned",
            resourceType: "ec2:Subnet",
            versions: [
              { version: 1, policyTemplate: template },
              { version: 2, policyTemplate: template },
            ],
            defaultVersion: 1,
          },
        ],
      },
    };
    const backend = createFakeBackend({ seed });
    const arn = "arn:aws:ram:us-east-1:123456789012:permission/versioned";
    assert.equal((await get(backend, arn)).version, 1, "the seed's default version");
    await remove(backend, arn);
    for (const version of [1, 2]) {
      await rejectsWithAws(get(backend, arn, version), {
        service: "ram",
        code: "UnknownResourceException",
        httpStatus: 400,
        missing: "permission",
      });
    }
  });

  it("refuses to delete a permission attached to a resource share: OperationNotPermittedException", async () => {
    const backend = createFakeBackend();
    await rejectsWithAws(remove(backend, demoAttached), {
      service: "ram",
      code: "OperationNotPermittedException",
      httpStatus: 400,
      message: /attached/,
    });
    assert.equal((await get(backend, demoAttached)).name, "demo-attached");
  });

  it("refuses to delete an AWS managed permission: OperationNotPermittedException", async () => {
    const backend = createFakeBackend();
    await rejectsWithAws(remove(backend, ec2Subnet), {
      service: "ram",
      code: "OperationNotPermittedException",
      httpStatus: 400,
      message: /AWS managed/,
    });
    assert.equal((await get(backend, ec2Subnet)).name, "AWSRAMDefaultPermissionEC2Subnet");
  });

  it("answers UnknownResourceException (400, missing permission) for an unknown ARN", async () => {
    await rejectsWithAws(remove(createFakeBackend(), "arn:aws:ram:us-east-1:123456789012:permission/nope"), {
      service: "ram",
      code: "UnknownResourceException",
      httpStatus: 400,
      missing: "permission",
    });
  });

  it("answers MalformedArnException for an ARN that is not a permission ARN", async () => {
    await rejectsWithAws(remove(createFakeBackend(), unparsedRef("arn:aws:iam::123456789012:policy/x")), {
      service: "ram",
      code: "MalformedArnException",
      httpStatus: 400,
    });
  });
});

describe("fake RAM: ListPermissions", () => {
  it("lists AWS managed and the caller's customer managed permissions, default versions only", async () => {
    const { permissions, nextToken } = await list(createFakeBackend());
    assert.equal(nextToken, undefined);
    const names = permissions.map((p) => p.name);
    for (const name of [
      "demo-permission",
      "demo-attached",
      "AWSRAMDefaultPermissionEC2Subnet",
      "AWSRAMDefaultPermissionPrefixList",
    ]) {
      assert.ok(names.includes(name), name);
    }
    assert.equal(new Set(names).size, names.length, "one entry per permission");
    assert.ok(permissions.every((p) => p.defaultVersion));
    assert.equal(permissions.find((p) => p.name === "AWSRAMDefaultPermissionPrefixList")?.version, 2);
  });

  it("filters by permission type", async () => {
    const backend = createFakeBackend();
    const customer = await list(backend, { permissionType: "CUSTOMER_MANAGED" });
    assert.deepEqual(
      customer.permissions.map((p) => p.name),
      ["demo-permission", "demo-attached"],
    );
    const aws = await list(backend, { permissionType: "AWS_MANAGED" });
    assert.ok(aws.permissions.length >= 2);
    assert.ok(aws.permissions.every((p) => p.permissionType === "AWS_MANAGED"));
  });

  it("filters by resource type, without regard to case", async () => {
    const backend = createFakeBackend();
    const subnets = await list(backend, { resourceType: "EC2:SUBNET" });
    assert.deepEqual(
      subnets.permissions.map((p) => p.name),
      ["demo-permission", "demo-attached", "AWSRAMDefaultPermissionEC2Subnet"],
    );
    const both = await list(backend, { resourceType: "ec2:Subnet", permissionType: "AWS_MANAGED" });
    assert.deepEqual(
      both.permissions.map((p) => p.name),
      ["AWSRAMDefaultPermissionEC2Subnet"],
    );
  });

  it("leaves out other accounts' and Regions' customer managed permissions", async () => {
    const seed: FakeSeed = {
      ram: {
        permissions: [
          { name: "mine", resourceType: "ec2:Subnet", policyTemplate: template },
          { name: "other-region", region: "eu-west-1", resourceType: "ec2:Subnet", policyTemplate: template },
          { name: "other-account", account: "111122223333", resourceType: "ec2:Subnet", policyTemplate: template },
        ],
      },
    };
    const { permissions } = await list(createFakeBackend({ seed }));
    assert.deepEqual(
      permissions.map((p) => p.name),
      ["mine"],
    );
  });

  it("pages with an opaque nextToken in a stable order", async () => {
    const backend = createFakeBackend();
    for (let i = 0; i < 7; i++) await create(backend, { name: `p${i}`, clientToken: `t${i}` });
    const whole = (await list(backend)).permissions.map((p) => p.arn);
    for (const maxResults of [1, 2, 3, 500]) {
      const paged = (await listAll(backend, { maxResults })).map((p) => p.arn);
      assert.deepEqual(paged, whole, `maxResults ${maxResults}`);
    }
    const first = await list(backend, { maxResults: 2 });
    assert.equal(first.permissions.length, 2);
    assert.ok(first.nextToken !== undefined && !first.nextToken.includes(first.permissions[1]?.arn ?? "-"));
  });

  it("pages a large seed of several accounts in creation order: the caller's and AWS managed, each once", async () => {
    const permission = (name: string, account: string) => ({
      name,
      account,
      region: "us-east-1",
      resourceType: "ec2:Subnet",
      policyTemplate: { Effect: "Allow", Action: ["ec2:DescribeSubnets"] },
      creationTime: "2024-01-01T00:00:00Z",
    });
    const permissions = Array.from({ length: 3000 }, (_, i) =>
      permission(`p${i}`, i % 3 === 0 ? "210987654321" : "123456789012"),
    );
    const awsManaged = {
      name: "aws-managed",
      permissionType: "AWS_MANAGED" as const,
      resourceType: "ec2:Subnet",
      policyTemplate: { Effect: "Allow", Action: ["ec2:DescribeSubnets"] },
      creationTime: "2024-01-01T00:00:00Z",
    };
    const seed: FakeSeed = { ram: { permissions: [...permissions, awsManaged] } };
    const backend = createFakeBackend({ seed, limits: { ramCustomerManagedPermissions: 5000 } });
    const visible = [...permissions.filter((p) => p.account === "123456789012").map((p) => p.name), "aws-managed"];
    assert.deepEqual(
      (await listAll(backend, { maxResults: 37 })).map((p) => p.name),
      visible,
    );
    // Created later, listed last; deleted ones drop out of the pages still to come.
    const first = await list(backend, { maxResults: 500 });
    await create(backend, { name: "newest", clientToken: "t-newest" });
    await remove(backend, "arn:aws:ram:us-east-1:123456789012:permission/p1999");
    const rest: string[] = [];
    for (let nextToken = first.nextToken; nextToken !== undefined;) {
      const page = await list(backend, { maxResults: 500, nextToken });
      rest.push(...page.permissions.map((p) => p.name));
      nextToken = page.nextToken;
    }
    const expected = [...visible.slice(500).filter((name) => name !== "p1999"), "newest"];
    assert.deepEqual(rest, expected);
  });

  it("keeps paging consistent when a permission is deleted between pages", async () => {
    const backend = createFakeBackend();
    for (let i = 0; i < 4; i++) await create(backend, { name: `p${i}`, clientToken: `t${i}` });
    const first = await list(backend, { permissionType: "CUSTOMER_MANAGED", maxResults: 3 });
    assert.deepEqual(
      first.permissions.map((p) => p.name),
      ["demo-permission", "demo-attached", "p0"],
    );
    await remove(backend, "arn:aws:ram:us-east-1:123456789012:permission/p0");
    await remove(backend, "arn:aws:ram:us-east-1:123456789012:permission/p1", "other-token");
    const rest = await list(backend, { permissionType: "CUSTOMER_MANAGED", maxResults: 3, nextToken: first.nextToken });
    assert.deepEqual(
      rest.permissions.map((p) => p.name),
      ["p2", "p3"],
    );
    assert.equal(rest.nextToken, undefined);
  });

  it("answers InvalidNextTokenException for a token used with other filters", async () => {
    const backend = createFakeBackend();
    const { nextToken } = await list(backend, { resourceType: "ec2:Subnet", maxResults: 1 });
    assert.ok(nextToken !== undefined);
    for (const changed of [
      { resourceType: "ec2:PrefixList" },
      { resourceType: undefined },
      { resourceType: "ec2:Subnet", permissionType: "AWS_MANAGED" as const },
    ]) {
      await rejectsWithAws(list(backend, { maxResults: 1, nextToken, ...changed }), {
        service: "ram",
        code: "InvalidNextTokenException",
        httpStatus: 400,
      });
    }
    const next = await list(backend, { resourceType: "ec2:Subnet", maxResults: 1, nextToken });
    assert.equal(next.permissions.length, 1);
  });

  it("answers InvalidNextTokenException for a token it did not issue", async () => {
    const backend = createFakeBackend();
    const { nextToken } = await list(backend, { maxResults: 1 });
    assert.ok(nextToken !== undefined);
    const forged =
      Buffer.from(JSON.stringify({ a: 0, r: null, t: null })).toString("base64url") +
      "." +
      (nextToken.split(".")[1] ?? "");
    for (const token of ["garbage", "a.b", forged, `${nextToken}x`]) {
      await rejectsWithAws(list(backend, { maxResults: 1, nextToken: token }), {
        service: "ram",
        code: "InvalidNextTokenException",
        httpStatus: 400,
      });
    }
    const otherBackend = createFakeBackend();
    await rejectsWithAws(list(otherBackend, { maxResults: 1, nextToken }), {
      service: "ram",
      code: "InvalidNextTokenException",
      httpStatus: 400,
    });
  });

  it("answers InvalidParameterException for maxResults outside 1..500", async () => {
    for (const maxResults of [0, 501, 1.5]) {
      await rejectsWithAws(list(createFakeBackend(), { maxResults }), {
        service: "ram",
        code: "InvalidParameterException",
        httpStatus: 400,
      });
    }
  });
});

describe("fake RAM: results are copies", () => {
  it("does not let a caller change the model through a returned Date", async () => {
    const options: FakeBackendOptions = {};
    const backend = createFakeBackend(options);
    const first = await get(backend, demoPermission);
    first.creationTime.setTime(0);
    assert.equal((await get(backend, demoPermission)).creationTime.toISOString(), "2024-01-01T00:00:00.000Z");
  });
});

// A call goes to the Region its ARN names, else to the default Region; each
// Region gets one client pair, built once. Seen twice: in the Regions the
// backend asks its client factory for, and in the SigV4 credential scope the
// SDK signed each request with (an endpoint override does not change it).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AWS_MANAGED_SUBNET, fn, noDeadline, startAwsStack, type AwsStack } from "./aws-test-stack.js";
import type { PermissionBackend } from "../../../src/backend/backend.js";
import { permissionRef } from "../../support/permission-ref.js";

let stack: AwsStack;
before(async () => {
  stack = await startAwsStack({ defaultRegion: "us-west-2", maxAttempts: 1 });
});
after(() => stack.close());

/** Runs a call for its routing only: AWS's answer (often "not found" here) does not matter. */
async function signedScopeOf(
  run: (backend: PermissionBackend) => Promise<unknown>,
): Promise<[string | undefined, string | undefined]> {
  const before = stack.proxy.exchanges.length;
  await run(stack.backend).catch(() => undefined);
  const sent = stack.proxy.exchanges.slice(before);
  assert.equal(sent.length, 1);
  return [sent[0]?.signingService, sent[0]?.signingRegion];
}

const cases: { name: string; run: (b: PermissionBackend) => Promise<unknown>; scope: [string, string] }[] = [
  {
    name: "a function ARN in eu-west-1",
    run: (b) =>
      b.getLambdaPolicy({ function: fn("arn:aws:lambda:eu-west-1:123456789012:function:demo") }, noDeadline()),
    scope: ["lambda", "eu-west-1"],
  },
  {
    name: "a bare function name",
    run: (b) => b.getLambdaPolicy({ function: fn("demo") }, noDeadline()),
    scope: ["lambda", "us-west-2"],
  },
  {
    name: "a partial ARN, which names no Region",
    run: (b) =>
      b.removeLambdaPermission({ function: fn("123456789012:function:demo"), statementId: "x" }, noDeadline()),
    scope: ["lambda", "us-west-2"],
  },
  {
    name: "a function ARN in us-east-1 on AddPermission",
    run: (b) =>
      b.addLambdaPermission(
        {
          function: fn("arn:aws:lambda:us-east-1:123456789012:function:demo"),
          statementId: "r",
          action: "lambda:InvokeFunction",
          principal: "s3.amazonaws.com",
        },
        noDeadline(),
      ),
    scope: ["lambda", "us-east-1"],
  },
  {
    name: "a RAM permission ARN in eu-west-1",
    run: (b) =>
      b.getRamPermission(
        { permission: permissionRef("arn:aws:ram:eu-west-1:123456789012:permission/p") },
        noDeadline(),
      ),
    scope: ["ram", "eu-west-1"],
  },
  {
    name: "deleting a RAM permission in ap-southeast-2",
    run: (b) =>
      b.deleteRamPermission(
        { permission: permissionRef("arn:aws:ram:ap-southeast-2:123456789012:permission/p"), clientToken: "t" },
        noDeadline(),
      ),
    scope: ["ram", "ap-southeast-2"],
  },
  {
    name: "an AWS managed RAM permission, whose ARN has no Region",
    run: (b) => b.getRamPermission({ permission: permissionRef(AWS_MANAGED_SUBNET) }, noDeadline()),
    scope: ["ram", "us-west-2"],
  },
  {
    name: "an aws-cn AWS managed RAM permission, while the default Region is in aws",
    run: (b) =>
      b.getRamPermission(
        { permission: permissionRef("arn:aws-cn:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet") },
        noDeadline(),
      ),
    scope: ["ram", "cn-north-1"],
  },
  {
    name: "an aws-us-gov AWS managed RAM permission, while the default Region is in aws",
    run: (b) =>
      b.deleteRamPermission(
        {
          permission: permissionRef("arn:aws-us-gov:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet"),
          clientToken: "t3",
        },
        noDeadline(),
      ),
    scope: ["ram", "us-gov-west-1"],
  },
  {
    name: "ListPermissions",
    run: (b) => b.listRamPermissions({ maxResults: 5 }, noDeadline()),
    scope: ["ram", "us-west-2"],
  },
  {
    name: "CreatePermission",
    run: (b) =>
      b.createRamPermission(
        { name: "routed", resourceType: "ec2:Subnet", policyTemplate: "{}", clientToken: "t2", tags: {} },
        noDeadline(),
      ),
    scope: ["ram", "us-west-2"],
  },
];

for (const c of cases) {
  test(`routing: ${c.name} -> ${c.scope[1]}`, async () => {
    assert.deepEqual(await signedScopeOf(c.run), c.scope);
  });
}

test("one client pair per Region, built on first use and reused by both services", () => {
  assert.deepEqual(stack.regionsBuilt, [
    "eu-west-1",
    "us-west-2",
    "us-east-1",
    "ap-southeast-2",
    "cn-north-1",
    "us-gov-west-1",
  ]);
});

test("with a default Region in aws-cn, AWS managed ARNs go to their own partition", async () => {
  const cn = await startAwsStack({ defaultRegion: "cn-northwest-1", maxAttempts: 1 });
  try {
    const scopeOf = async (arn: string): Promise<string | undefined> => {
      const before = cn.proxy.exchanges.length;
      await cn.backend.getRamPermission({ permission: permissionRef(arn) }, noDeadline()).catch(() => undefined);
      const sent = cn.proxy.exchanges.slice(before);
      assert.equal(sent.length, 1);
      return sent[0]?.signingRegion;
    };
    // Same partition as the default Region: the default Region serves it.
    assert.equal(await scopeOf("arn:aws-cn:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet"), "cn-northwest-1");
    assert.equal(await scopeOf(AWS_MANAGED_SUBNET), "us-east-1");
    assert.equal(await scopeOf("arn:aws-us-gov:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet"), "us-gov-west-1");
    // A customer managed ARN names its Region, whatever the default.
    assert.equal(await scopeOf("arn:aws:ram:eu-west-1:123456789012:permission/p"), "eu-west-1");
  } finally {
    await cn.close();
  }
});

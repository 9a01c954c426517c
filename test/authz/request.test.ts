// The authorization request of each RPC: resource and context from the
// validated request, with what the call leaves unsaid taken from where the
// gateway sends it, and what nobody knows left out.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JsonObject } from "@bufbuild/protobuf";
import { authorizationRequestFor, type AuthorizationRequest } from "../../src/authz/request.js";
import type { ResourceDefaults } from "../../src/authz/resource.js";
import type { RpcName } from "../../src/rpc/rpc-table.js";
import { DEFAULTS, NO_ACCOUNT, parsedCall, requestFor } from "./fixtures.js";

const alice = { id: "alice", groups: ["payments"] };

interface Case {
  readonly name: string;
  readonly rpc: RpcName;
  readonly json: JsonObject;
  readonly defaults?: ResourceDefaults;
  readonly expect: Pick<AuthorizationRequest, "resource" | "context">;
}

const cases: Case[] = [
  {
    name: "a bare function name takes the default Region and account",
    rpc: "GetLambdaPolicy",
    json: { functionName: "payments-api" },
    expect: {
      resource: {
        kind: "LambdaFunction",
        id: "arn:aws:lambda:us-east-1:123456789012:function:payments-api",
        attributes: {
          partition: "aws",
          region: "us-east-1",
          account: "123456789012",
          name: "payments-api",
          arn: "arn:aws:lambda:us-east-1:123456789012:function:payments-api",
        },
      },
      context: {},
    },
  },
  {
    name: "a bare function name without a default account has no account and no ARN",
    rpc: "GetLambdaPolicy",
    json: { functionName: "payments-api", qualifier: "live" },
    defaults: NO_ACCOUNT,
    expect: {
      resource: {
        kind: "LambdaFunction",
        id: "payments-api:live",
        attributes: { partition: "aws", region: "us-east-1", name: "payments-api", qualifier: "live" },
      },
      context: {},
    },
  },
  {
    name: "a partial ARN's account wins over the default one",
    rpc: "RemoveLambdaPermission",
    json: { functionName: "111122223333:function:payments-api:7", statementId: "s3-invoke" },
    expect: {
      resource: {
        kind: "LambdaFunction",
        id: "arn:aws:lambda:us-east-1:111122223333:function:payments-api:7",
        attributes: {
          partition: "aws",
          region: "us-east-1",
          account: "111122223333",
          name: "payments-api",
          qualifier: "7",
          arn: "arn:aws:lambda:us-east-1:111122223333:function:payments-api:7",
        },
      },
      context: { statementId: "s3-invoke" },
    },
  },
  {
    name: "a full ARN gives partition, Region and account",
    rpc: "RemoveLambdaPermission",
    json: {
      functionName: "arn:aws-cn:lambda:cn-north-1:111122223333:function:payments-api",
      statementId: "x.1",
      revisionId: "r-1",
    },
    expect: {
      resource: {
        kind: "LambdaFunction",
        id: "arn:aws-cn:lambda:cn-north-1:111122223333:function:payments-api",
        attributes: {
          partition: "aws-cn",
          region: "cn-north-1",
          account: "111122223333",
          name: "payments-api",
          arn: "arn:aws-cn:lambda:cn-north-1:111122223333:function:payments-api",
        },
      },
      context: { statementId: "x.1", revisionId: "r-1" },
    },
  },
  {
    name: "AddLambdaPermission: every grant field under its request name, the event source token only as presence",
    rpc: "AddLambdaPermission",
    json: {
      functionName: "payments-api",
      statementId: "alexa",
      action: "lambda:InvokeFunction",
      principal: "alexa-appkit.amazon.com",
      sourceArn: "arn:aws:s3:::bucket",
      sourceAccount: "111122223333",
      principalOrgId: "o-abcdefghij",
      eventSourceToken: "amzn1.ask.skill.secret",
      functionUrlAuthType: "FUNCTION_URL_AUTH_TYPE_AWS_IAM",
    },
    expect: {
      resource: {
        kind: "LambdaFunction",
        id: "arn:aws:lambda:us-east-1:123456789012:function:payments-api",
        attributes: {
          partition: "aws",
          region: "us-east-1",
          account: "123456789012",
          name: "payments-api",
          arn: "arn:aws:lambda:us-east-1:123456789012:function:payments-api",
        },
      },
      context: {
        statementId: "alexa",
        action: "lambda:InvokeFunction",
        principal: "alexa-appkit.amazon.com",
        sourceArn: "arn:aws:s3:::bucket",
        sourceAccount: "111122223333",
        principalOrgId: "o-abcdefghij",
        functionUrlAuthType: "AWS_IAM",
        hasEventSourceToken: true,
      },
    },
  },
  {
    name: "a customer managed RAM permission",
    rpc: "DeleteRamPermission",
    json: { permissionArn: "arn:aws:ram:eu-west-1:111122223333:permission/payments-subnets", clientToken: "t-1" },
    expect: {
      resource: {
        kind: "RamPermission",
        id: "arn:aws:ram:eu-west-1:111122223333:permission/payments-subnets",
        attributes: {
          partition: "aws",
          region: "eu-west-1",
          account: "111122223333",
          name: "payments-subnets",
          awsManaged: false,
          arn: "arn:aws:ram:eu-west-1:111122223333:permission/payments-subnets",
        },
      },
      context: {},
    },
  },
  {
    name: 'an AWS managed RAM permission has no Region and the account "aws"',
    rpc: "GetRamPermission",
    json: { permissionArn: "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet", permissionVersion: 2 },
    expect: {
      resource: {
        kind: "RamPermission",
        id: "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet",
        attributes: {
          partition: "aws",
          account: "aws",
          name: "AWSRAMDefaultPermissionEC2Subnet",
          awsManaged: true,
          arn: "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet",
        },
      },
      context: { permissionVersion: 2 },
    },
  },
  {
    name: "CreateRamPermission: the permission to be, in the default account and Region",
    rpc: "CreateRamPermission",
    json: { name: "payments-subnets", resourceType: "ec2:Subnet", policyTemplate: "{}", tags: { team: "payments" } },
    expect: {
      resource: {
        kind: "RamPermission",
        id: "arn:aws:ram:us-east-1:123456789012:permission/payments-subnets",
        attributes: {
          partition: "aws",
          region: "us-east-1",
          account: "123456789012",
          name: "payments-subnets",
          awsManaged: false,
          arn: "arn:aws:ram:us-east-1:123456789012:permission/payments-subnets",
        },
      },
      context: { resourceType: "ec2:Subnet", tagKeys: ["team"] },
    },
  },
  {
    name: "CreateRamPermission without a default account: named by its name, no account, no ARN",
    rpc: "CreateRamPermission",
    json: { name: "payments-subnets", resourceType: "ec2:Subnet", policyTemplate: "{}" },
    defaults: NO_ACCOUNT,
    expect: {
      resource: {
        kind: "RamPermission",
        id: "payments-subnets",
        attributes: { partition: "aws", region: "us-east-1", name: "payments-subnets", awsManaged: false },
      },
      context: { resourceType: "ec2:Subnet", tagKeys: [] },
    },
  },
  {
    name: "ListRamPermissions reads the catalog of the default account and Region",
    rpc: "ListRamPermissions",
    json: { resourceType: "ec2:Subnet", permissionType: "PERMISSION_TYPE_CUSTOMER_MANAGED" },
    expect: {
      resource: {
        kind: "RamPermissionCatalog",
        id: "arn:aws:ram:us-east-1:123456789012:permission/*",
        attributes: { partition: "aws", region: "us-east-1", account: "123456789012" },
      },
      context: { resourceType: "ec2:Subnet", permissionType: "CUSTOMER_MANAGED" },
    },
  },
];

describe("authorizationRequestFor", () => {
  for (const c of cases) {
    test(c.name, () => {
      const request = requestFor(c.rpc, c.json, alice, c.defaults ?? DEFAULTS);
      assert.deepEqual(request, { caller: alice, action: c.rpc, ...c.expect });
    });
  }

  test("invokedViaFunctionUrl is passed on when the request carries it", () => {
    const call = parsedCall("AddLambdaPermission", {
      functionName: "f",
      statementId: "url",
      action: "lambda:InvokeFunction",
      principal: "*",
      invokedViaFunctionUrl: true,
    });
    const request = authorizationRequestFor(call, alice, DEFAULTS);
    assert.equal(request.context["invokedViaFunctionUrl"], true);
    assert.equal(request.context["hasEventSourceToken"], false);
  });
});

// The registry file's rules, the decision each call gets from it, and the
// SourceIdentity mapping: pure functions, table-driven.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AccountRegistryError, accountRegistryOf, parseAccountRegistry } from "../../src/accounts/registry.js";
import { sourceIdentityOf } from "../../src/accounts/source-identity.js";
import { AccountNotManagedError, callTargetOf, RegionNotManagedError } from "../../src/accounts/target.js";
import { parseFunctionName } from "../../src/aws/arn.js";
import type { RpcResource } from "../../src/authz/resource.js";

const payments = {
  id: "210987654321",
  alias: "payments-prod",
  roleArn: "arn:aws:iam::210987654321:role/permission-gateway",
  externalId: "ext-123",
  regions: ["us-east-1", "eu-west-1"],
};

describe("parseAccountRegistry", () => {
  test("reads every field", () => {
    assert.deepEqual(parseAccountRegistry(JSON.stringify({ accounts: [payments] })), [payments]);
  });

  const broken: [string, unknown, RegExp][] = [
    ["not JSON", "{", /not JSON/],
    ["no accounts array", { accounts: {} }, /"accounts" must be an array/],
    ["an id of 11 digits", { accounts: [{ ...payments, id: "21098765432" }] }, /accounts\[0\]\.id must be a 12-digit/],
    ["a numeric id", { accounts: [{ ...payments, id: 210987654321 }] }, /accounts\[0\]\.id/],
    ["no roleArn", { accounts: [{ id: payments.id }] }, /accounts\[0\]\.roleArn is required/],
    [
      "a roleArn of a user",
      { accounts: [{ ...payments, roleArn: "arn:aws:iam::210987654321:user/x" }] },
      /accounts\[0\]\.roleArn must be an IAM role ARN/,
    ],
    [
      "a role of another account",
      { accounts: [{ ...payments, roleArn: "arn:aws:iam::111122223333:role/x" }] },
      /accounts\[0\]\.roleArn must be a role of account 210987654321, not of 111122223333/,
    ],
    [
      "an empty Region list",
      { accounts: [{ ...payments, regions: [] }] },
      /accounts\[0\]\.regions must be a non-empty array/,
    ],
    [
      "a bad Region",
      { accounts: [{ ...payments, regions: ["us-east1"] }] },
      /accounts\[0\]\.regions\[0\] must be a Region code/,
    ],
    [
      "a one-character externalId",
      { accounts: [{ ...payments, externalId: "x" }] },
      /accounts\[0\]\.externalId must be 2-1224/,
    ],
    [
      "an unknown field",
      { accounts: [{ ...payments, role: "x" }] },
      /accounts\[0\]\.role is not a field of an account/,
    ],
    [
      "an account twice",
      { accounts: [payments, { ...payments, alias: "other" }] },
      /accounts\[1\]\.id: 210987654321 is listed twice/,
    ],
    [
      "an alias twice",
      { accounts: [payments, { ...payments, id: "111122223333", roleArn: "arn:aws:iam::111122223333:role/r" }] },
      /accounts\[1\]\.alias: "payments-prod" is used twice/,
    ],
  ];
  for (const [name, document, message] of broken) {
    test(`refuses ${name}, naming the field`, () => {
      const text = typeof document === "string" ? document : JSON.stringify(document);
      assert.throws(
        () => parseAccountRegistry(text),
        (error: unknown) => {
          assert.ok(error instanceof AccountRegistryError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});

describe("callTargetOf", () => {
  const registry = accountRegistryOf("123456789012", parseAccountRegistry(JSON.stringify({ accounts: [payments] })));
  const lambda = (name: string): RpcResource => {
    const parsed = parseFunctionName(name);
    assert.ok(parsed !== undefined, name);
    return { kind: "lambda-function", function: parsed };
  };

  test("a bare name is the own account, with the base credentials", () => {
    assert.deepEqual(callTargetOf(lambda("demo"), registry, "us-east-1"), {
      account: "123456789012",
      region: "us-east-1",
      managed: undefined,
    });
  });
  test("a partial ARN of a listed account goes there in the default Region", () => {
    const target = callTargetOf(lambda("210987654321:function:demo"), registry, "eu-west-1");
    assert.equal(target.account, "210987654321");
    assert.equal(target.region, "eu-west-1");
    assert.equal(target.managed?.roleArn, payments.roleArn);
  });
  test("an unlisted account is ACCOUNT_NOT_MANAGED", () => {
    assert.throws(
      () => callTargetOf(lambda("arn:aws:lambda:us-east-1:999999999999:function:demo"), registry, "us-east-1"),
      (error: unknown) => error instanceof AccountNotManagedError && error.account === "999999999999",
    );
  });
  test("a Region the account does not allow is REGION_NOT_MANAGED", () => {
    assert.throws(
      () => callTargetOf(lambda("arn:aws:lambda:ap-south-1:210987654321:function:demo"), registry, "us-east-1"),
      (error: unknown) => error instanceof RegionNotManagedError && error.region === "ap-south-1",
    );
  });
  test("an AWS managed RAM permission is read in the own account", () => {
    const resource: RpcResource = {
      kind: "ram-permission",
      permission: {
        arn: "arn:aws:ram::aws:permission/X",
        partition: "aws",
        region: "",
        account: "aws",
        name: "X",
        awsManaged: true,
      },
    };
    assert.equal(callTargetOf(resource, registry, "us-east-1").account, "123456789012");
  });
  test("CreateRamPermission and ListRamPermissions act in the own account", () => {
    assert.equal(callTargetOf({ kind: "ram-permission-catalog" }, registry, "us-east-1").account, "123456789012");
  });
});

describe("sourceIdentityOf", () => {
  const allowed = /^[\w+=,.@-]{2,64}$/;
  test("a caller STS accepts is itself", () => {
    assert.equal(sourceIdentityOf("alice@example.com"), "alice@example.com");
  });
  test("other characters and '=' are escaped as =HH of their UTF-8 bytes", () => {
    assert.equal(sourceIdentityOf("team/alice"), "team=2Falice");
    assert.equal(sourceIdentityOf("a=b"), "a=3Db");
    assert.equal(sourceIdentityOf("jö"), "j=C3=B6");
  });
  test("too long or too short: a prefix, '==' and a hash, never equal to an escaped form", () => {
    const long = "spiffe://cluster.local/ns/payments/sa/" + "x".repeat(60);
    const mapped = sourceIdentityOf(long);
    assert.match(mapped, allowed);
    assert.ok(mapped.length <= 64 && mapped.startsWith("spiffe=3A=2F=2Fcluster.local"));
    assert.match(mapped, /==[0-9a-f]{16}$/);
    assert.match(sourceIdentityOf("a"), /^a==[0-9a-f]{16}$/);
  });
  test("distinct callers map to distinct identities", () => {
    const callers = [
      "a/b",
      "a=2Fb",
      "a.b",
      "a_b",
      "x".repeat(70),
      "x".repeat(71),
      "a",
      "ab",
      "a=",
      "a==",
      "spiffe://x/y",
    ];
    const mapped = callers.map(sourceIdentityOf);
    for (const identity of mapped) assert.match(identity, allowed);
    assert.equal(new Set(mapped).size, callers.length, JSON.stringify(mapped));
  });
});

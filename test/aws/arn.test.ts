import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  awsManagedRamPermissionArn,
  lambdaFunctionArn,
  matchesFunctionNamePattern,
  parseFunctionName,
  parseRamPermissionArn,
  ramPermissionArn,
} from "../../src/aws/arn.js";
import type { ParsedFunctionName } from "../../src/aws/arn.js";

const name64 = "f".repeat(64);

describe("parseFunctionName", () => {
  const accepted: { input: string; expected: ParsedFunctionName }[] = [
    // name
    { input: "my-fn", expected: { functionName: "my-fn", name: "my-fn" } },
    { input: "My_Fn.v2-x", expected: { functionName: "My_Fn.v2-x", name: "My_Fn.v2-x" } },
    { input: name64, expected: { functionName: name64, name: name64 } },
    { input: "my-fn:live", expected: { functionName: "my-fn", name: "my-fn", qualifier: "live" } },
    { input: "my-fn:7", expected: { functionName: "my-fn", name: "my-fn", qualifier: "7" } },
    { input: "my-fn:$LATEST", expected: { functionName: "my-fn", name: "my-fn", qualifier: "$LATEST" } },
    {
      input: "my-fn:$LATEST.PUBLISHED",
      expected: { functionName: "my-fn", name: "my-fn", qualifier: "$LATEST.PUBLISHED" },
    },
    // Looks like "<region>:<name>" to the bare pattern; it is a name and an alias.
    { input: "my-fn-1:live", expected: { functionName: "my-fn-1", name: "my-fn-1", qualifier: "live" } },
    { input: "us-west-2:live", expected: { functionName: "us-west-2", name: "us-west-2", qualifier: "live" } },
    // partial ARN, both forms
    {
      input: "123456789012:my-fn",
      expected: { functionName: "123456789012:my-fn", name: "my-fn", account: "123456789012" },
    },
    {
      input: "123456789012:my-fn:prod",
      expected: { functionName: "123456789012:my-fn", name: "my-fn", account: "123456789012", qualifier: "prod" },
    },
    {
      input: "123456789012:function:my-fn",
      expected: { functionName: "123456789012:function:my-fn", name: "my-fn", account: "123456789012" },
    },
    {
      input: "123456789012:function:my-fn:$LATEST.PUBLISHED",
      expected: {
        functionName: "123456789012:function:my-fn",
        name: "my-fn",
        account: "123456789012",
        qualifier: "$LATEST.PUBLISHED",
      },
    },
    {
      input: "123456789012:function",
      expected: { functionName: "123456789012:function", name: "function", account: "123456789012" },
    },
    // full ARN, several partitions and regions
    {
      input: "arn:aws:lambda:us-west-2:123456789012:function:my-fn",
      expected: {
        functionName: "arn:aws:lambda:us-west-2:123456789012:function:my-fn",
        name: "my-fn",
        account: "123456789012",
        region: "us-west-2",
        partition: "aws",
      },
    },
    {
      input: "arn:aws:lambda:us-west-2:123456789012:function:my-fn:live",
      expected: {
        functionName: "arn:aws:lambda:us-west-2:123456789012:function:my-fn",
        name: "my-fn",
        account: "123456789012",
        region: "us-west-2",
        partition: "aws",
        qualifier: "live",
      },
    },
    {
      input: "arn:aws-cn:lambda:cn-northwest-1:123456789012:function:my-fn:3",
      expected: {
        functionName: "arn:aws-cn:lambda:cn-northwest-1:123456789012:function:my-fn",
        name: "my-fn",
        account: "123456789012",
        region: "cn-northwest-1",
        partition: "aws-cn",
        qualifier: "3",
      },
    },
    {
      input: "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:my-fn:$LATEST",
      expected: {
        functionName: "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:my-fn",
        name: "my-fn",
        account: "123456789012",
        region: "us-gov-west-1",
        partition: "aws-us-gov",
        qualifier: "$LATEST",
      },
    },
    {
      input: "arn:aws-iso-b:lambda:us-isob-east-1:123456789012:function:my.fn",
      expected: {
        functionName: "arn:aws-iso-b:lambda:us-isob-east-1:123456789012:function:my.fn",
        name: "my.fn",
        account: "123456789012",
        region: "us-isob-east-1",
        partition: "aws-iso-b",
      },
    },
  ];
  for (const { input, expected } of accepted) {
    it(`accepts ${JSON.stringify(input)}`, () => {
      assert.deepEqual(parseFunctionName(input), expected);
    });
  }

  const rejected: { input: string; why: string }[] = [
    { input: "", why: "empty" },
    { input: "my fn", why: "space in name" },
    { input: "my/fn", why: "slash in name" },
    { input: " my-fn", why: "not anchored at the start" },
    { input: "my-fn\n", why: "not anchored at the end" },
    { input: "my-fn:", why: "empty qualifier" },
    { input: ":my-fn", why: "empty name" },
    { input: "my-fn:live:extra", why: "two qualifiers" },
    { input: "my-fn:$PROD", why: "$ only as $LATEST" },
    { input: "my-fn:$LATEST.DRAFT", why: "unknown $LATEST suffix" },
    { input: "my-fn:live.1", why: "dot in alias suffix" },
    { input: "123456789012:function:my-fn:live:x", why: "too many parts" },
    { input: "arn:aws:lambda:us-west-2:123456789012:my-fn", why: "ARN without function:" },
    { input: "arn:aws:s3:us-west-2:123456789012:function:my-fn", why: "not lambda" },
    { input: "arn:azure:lambda:us-west-2:123456789012:function:my-fn", why: "unknown partition" },
    { input: "arn:aws:lambda:us-west-2:12345678901:function:my-fn", why: "11-digit account" },
    { input: "arn:aws:lambda:uswest2:123456789012:function:my-fn", why: "bad region" },
    { input: "arn:aws:lambda::123456789012:function:my-fn", why: "no region" },
    { input: "us-west-2:123456789012:function:my-fn", why: "region without arn: is no documented form" },
  ];
  for (const { input, why } of rejected) {
    it(`rejects ${JSON.stringify(input)} (${why})`, () => {
      assert.equal(parseFunctionName(input), undefined);
    });
  }

  it("tells a pattern mismatch from an undocumented form", () => {
    assert.equal(matchesFunctionNamePattern("us-west-2:123456789012:function:my-fn"), true);
    assert.equal(matchesFunctionNamePattern("my fn"), false);
    assert.equal(matchesFunctionNamePattern("my-fn\n"), false);
  });
});

describe("lambdaFunctionArn", () => {
  it("builds an unqualified ARN that parses back", () => {
    const arn = lambdaFunctionArn({ partition: "aws", region: "us-east-1", account: "123456789012", name: "demo" });
    assert.equal(arn, "arn:aws:lambda:us-east-1:123456789012:function:demo");
    assert.deepEqual(parseFunctionName(arn), {
      functionName: arn,
      name: "demo",
      account: "123456789012",
      region: "us-east-1",
      partition: "aws",
    });
  });

  it("appends the qualifier", () => {
    const arn = lambdaFunctionArn({
      partition: "aws-us-gov",
      region: "us-gov-east-1",
      account: "123456789012",
      name: "demo",
      qualifier: "$LATEST.PUBLISHED",
    });
    assert.equal(arn, "arn:aws-us-gov:lambda:us-gov-east-1:123456789012:function:demo:$LATEST.PUBLISHED");
    assert.equal(parseFunctionName(arn)?.qualifier, "$LATEST.PUBLISHED");
  });
});

describe("parseRamPermissionArn", () => {
  const accepted = [
    {
      input: "arn:aws:ram:us-east-1:123456789012:permission/demo-permission",
      partition: "aws",
      region: "us-east-1",
      account: "123456789012",
      name: "demo-permission",
      awsManaged: false,
    },
    {
      input: "arn:aws-cn:ram:cn-north-1:123456789012:permission/My_Perm.v2",
      partition: "aws-cn",
      region: "cn-north-1",
      account: "123456789012",
      name: "My_Perm.v2",
      awsManaged: false,
    },
    {
      input: "arn:aws-us-gov:ram:us-gov-west-1:123456789012:permission/gov",
      partition: "aws-us-gov",
      region: "us-gov-west-1",
      account: "123456789012",
      name: "gov",
      awsManaged: false,
    },
    {
      input: "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet",
      partition: "aws",
      region: "",
      account: "aws",
      name: "AWSRAMDefaultPermissionEC2Subnet",
      awsManaged: true,
    },
    {
      input: "arn:aws-cn:ram::aws:permission/AWSRAMPermissionGlueDatabaseReadWriteTableReadWrite",
      partition: "aws-cn",
      region: "",
      account: "aws",
      name: "AWSRAMPermissionGlueDatabaseReadWriteTableReadWrite",
      awsManaged: true,
    },
  ];
  for (const { input, ...expected } of accepted) {
    it(`accepts ${input}`, () => {
      assert.deepEqual(parseRamPermissionArn(input), { arn: input, ...expected });
    });
  }

  const rejected = [
    "",
    "demo-permission",
    "arn:aws:ram:us-east-1:123456789012:permission/",
    "arn:aws:ram:us-east-1:123456789012:permission/a/b",
    "arn:aws:ram:us-east-1:123456789012:permission/a b",
    "arn:aws:ram:us-east-1:123456789012:permission/demo\n",
    "arn:aws:ram:us-east-1:123456789012:resource-share/abc",
    "arn:aws:lambda:us-east-1:123456789012:permission/demo",
    "arn:azure:ram:us-east-1:123456789012:permission/demo",
    "arn:aws:ram:us-east-1:12345678901:permission/demo",
    "arn:aws:ram::123456789012:permission/demo",
    "arn:aws:ram:us-east-1:aws:permission/demo",
    "arn:aws:ram:useast1:123456789012:permission/demo",
  ];
  for (const input of rejected) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.equal(parseRamPermissionArn(input), undefined);
    });
  }
});

describe("ramPermissionArn", () => {
  it("builds customer managed ARNs that parse back", () => {
    const arn = ramPermissionArn({ partition: "aws", region: "us-east-1", account: "123456789012", name: "demo" });
    assert.equal(arn, "arn:aws:ram:us-east-1:123456789012:permission/demo");
    assert.equal(parseRamPermissionArn(arn)?.awsManaged, false);
  });

  it("builds AWS managed ARNs that parse back", () => {
    const arn = awsManagedRamPermissionArn("AWSRAMDefaultPermissionEC2Subnet");
    assert.equal(arn, "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet");
    assert.equal(
      ramPermissionArn({ partition: "aws", region: "", account: "aws", name: "AWSRAMDefaultPermissionEC2Subnet" }),
      arn,
    );
    assert.equal(parseRamPermissionArn(arn)?.awsManaged, true);
  });
});

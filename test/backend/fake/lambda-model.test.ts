// The fake's Lambda model against the documented behaviour of AddPermission,
// RemovePermission and GetPolicy.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createFakeBackend } from "../../../src/backend/fake/fake-backend.js";
import type { FakeBackend, FakeSeed } from "../../../src/backend/fake/fake-backend.js";
import type { AddLambdaPermissionInput, LambdaFunctionRef } from "../../../src/backend/backend.js";
import { parsePolicy, parseStatement } from "../../support/policy-json.js";
import { callOptions, fn, rejectsWithAws, uuidPattern } from "./fake-test-helpers.js";

const demoArn = "arn:aws:lambda:us-east-1:123456789012:function:demo";

function add(backend: FakeBackend, statementId: string, extra: Partial<AddLambdaPermissionInput> = {}) {
  return backend.addLambdaPermission(
    { function: fn("demo"), statementId, action: "lambda:InvokeFunction", principal: "s3.amazonaws.com", ...extra },
    callOptions(),
  );
}

function getPolicy(backend: FakeBackend, qualifier?: string, ref: LambdaFunctionRef = fn("demo")) {
  return backend.getLambdaPolicy({ function: ref, qualifier }, callOptions());
}

async function sids(backend: FakeBackend, qualifier?: string): Promise<string[]> {
  const document = parsePolicy((await getPolicy(backend, qualifier)).policy);
  return document.Statement.map((s) => s.Sid);
}

describe("fake Lambda: GetPolicy", () => {
  it("answers ResourceNotFoundException (404) for a function without a policy, in words that do not tell it from a missing function", async () => {
    await rejectsWithAws(getPolicy(createFakeBackend()), {
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: undefined,
      message: "The resource you requested does not exist.",
    });
  });

  it("returns the policy document as Lambda writes it, with its RevisionId", async () => {
    const backend = createFakeBackend();
    const { statement } = await add(backend, "s3invoke");
    const { policy, revisionId } = await getPolicy(backend);
    assert.deepEqual(JSON.parse(policy), { Version: "2012-10-17", Id: "default", Statement: [JSON.parse(statement)] });
    assert.ok(policy.startsWith('{"Version":"2012-10-17","Id":"default","Statement":['));
    assert.match(revisionId, uuidPattern);
  });

  it("keeps statements in the order they were added, also after a removal", async () => {
    const backend = createFakeBackend();
    for (const sid of ["a", "b", "c", "d"]) await add(backend, sid);
    await backend.removeLambdaPermission({ function: fn("demo"), statementId: "b" }, callOptions());
    await add(backend, "e");
    assert.deepEqual(await sids(backend), ["a", "c", "d", "e"]);
  });

  it("treats $LATEST as the unqualified function's policy", async () => {
    const backend = createFakeBackend();
    await add(backend, "unqualified");
    assert.deepEqual(await sids(backend, "$LATEST"), ["unqualified"]);
  });
});

describe("fake Lambda: AddPermission statements", () => {
  it("writes Sid, Effect, Principal, Action and the unqualified Resource", async () => {
    const { statement } = await add(createFakeBackend(), "s3invoke");
    assert.equal(
      statement,
      `{"Sid":"s3invoke","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"${demoArn}"}`,
    );
  });

  const principals: [string, unknown][] = [
    ["s3.amazonaws.com", { Service: "s3.amazonaws.com" }],
    ["111122223333", { AWS: "arn:aws:iam::111122223333:root" }],
    ["arn:aws:iam::111122223333:role/caller", { AWS: "arn:aws:iam::111122223333:role/caller" }],
    ["*", "*"],
  ];
  for (const [principal, expected] of principals) {
    it(`writes principal ${principal} as Lambda does`, async () => {
      const { statement } = await add(createFakeBackend(), "p", { principal });
      assert.deepEqual(parseStatement(statement).Principal, expected);
    });
  }

  for (const principal of ["nobody", "invalid.nonaws.com", "s3.amazonaws.con", "arn:aws:s3:::bucket"]) {
    it(`refuses the principal ${principal} with InvalidParameterValueException, as Lambda does`, async () => {
      await rejectsWithAws(add(createFakeBackend(), "p", { principal }), {
        service: "lambda",
        code: "InvalidParameterValueException",
        httpStatus: 400,
        message: "The provided principal was invalid. Please check the principal and try again.",
      });
    });
  }

  for (const principal of [
    "alexa-appkit.amazon.com",
    "s3.amazonaws.com.cn",
    "arn:aws:sts::111122223333:assumed-role/ci/session",
  ]) {
    it(`accepts the principal ${principal}`, async () => {
      await add(createFakeBackend(), "p", { principal });
    });
  }

  const conditions: [string, Partial<AddLambdaPermissionInput>, unknown][] = [
    ["SourceArn", { sourceArn: "arn:aws:s3:::bucket" }, { ArnLike: { "AWS:SourceArn": "arn:aws:s3:::bucket" } }],
    ["SourceAccount", { sourceAccount: "111122223333" }, { StringEquals: { "AWS:SourceAccount": "111122223333" } }],
    ["EventSourceToken", { eventSourceToken: "token-1" }, { StringEquals: { "lambda:EventSourceToken": "token-1" } }],
    ["PrincipalOrgID", { principalOrgId: "o-a1b2c3d4e5" }, { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } }],
    [
      "FunctionUrlAuthType",
      { functionUrlAuthType: "NONE", action: "lambda:InvokeFunctionUrl" },
      { StringEquals: { "lambda:FunctionUrlAuthType": "NONE" } },
    ],
    [
      "SourceAccount and SourceArn",
      { sourceAccount: "111122223333", sourceArn: "arn:aws:s3:::bucket" },
      { StringEquals: { "AWS:SourceAccount": "111122223333" }, ArnLike: { "AWS:SourceArn": "arn:aws:s3:::bucket" } },
    ],
  ];
  for (const [name, extra, expected] of conditions) {
    it(`writes ${name} as a Condition`, async () => {
      const { statement } = await add(createFakeBackend(), "c", extra);
      assert.deepEqual(parseStatement(statement).Condition, expected);
    });
  }

  it("writes the condition keys in the order Lambda writes them (recorded)", async () => {
    const { statement } = await add(createFakeBackend(), "c", {
      action: "lambda:InvokeFunctionUrl",
      principal: "*",
      sourceArn: "arn:aws:s3:::bucket",
      sourceAccount: "111122223333",
      principalOrgId: "o-1234567890",
      functionUrlAuthType: "NONE",
    });
    assert.equal(
      statement,
      `{"Sid":"c","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"${demoArn}",` +
        `"Condition":{"StringEquals":{"AWS:SourceAccount":"111122223333","lambda:FunctionUrlAuthType":"NONE","aws:PrincipalOrgID":"o-1234567890"},` +
        `"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket"}}}`,
    );
  });

  for (const invoked of [true, false]) {
    it(`writes InvokedViaFunctionUrl ${invoked} as the Bool condition lambda:InvokedViaFunctionUrl`, async () => {
      const { statement } = await add(createFakeBackend(), "url", { principal: "*", invokedViaFunctionUrl: invoked });
      assert.deepEqual(parseStatement(statement).Condition, {
        Bool: { "lambda:InvokedViaFunctionUrl": String(invoked) },
      });
    });
  }

  it("answers a member that breaks the model's constraints with Lambda's ValidationException", async () => {
    await rejectsWithAws(add(createFakeBackend(), "example.com"), {
      service: "lambda",
      code: "ValidationException",
      httpStatus: 400,
      message:
        "1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
    });
  });

  it("refuses $LATEST as qualifier with InvalidParameterValueException", async () => {
    await rejectsWithAws(add(createFakeBackend(), "x", { qualifier: "$LATEST" }), {
      service: "lambda",
      code: "InvalidParameterValueException",
      httpStatus: 400,
      message: "We currently do not support adding policies for $LATEST.",
    });
  });

  it("refuses a duplicate Sid with ResourceConflictException (409)", async () => {
    const backend = createFakeBackend();
    await add(backend, "dup");
    await rejectsWithAws(add(backend, "dup"), {
      service: "lambda",
      code: "ResourceConflictException",
      httpStatus: 409,
      message: /The statement id \(dup\) provided already exists/,
    });
  });

  it("refuses a policy over 20 KB with PolicyLengthExceededException and leaves the policy as it was", async () => {
    const backend = createFakeBackend();
    let added = 0;
    // Rejects with the first refusal.
    const addUntilRefused = async (): Promise<void> => {
      for (;;) {
        await add(backend, `statement-${String(added).padStart(4, "0")}`, {
          sourceArn: `arn:aws:s3:::bucket-${"x".repeat(100)}`,
        });
        added++;
      }
    };
    const rejected = await rejectsWithAws(addUntilRefused(), {
      service: "lambda",
      code: "PolicyLengthExceededException",
      httpStatus: 400,
      message: /^The final policy size \(\d+\) is bigger than the limit \(20480\)\.$/,
    });
    const size = Number(/\((\d+)\)/.exec(rejected.message)?.[1]);
    assert.ok(size > 20480);
    const { policy } = await getPolicy(backend);
    assert.ok(Buffer.byteLength(policy) <= 20480);
    assert.equal(parsePolicy(policy).Statement.length, added);
  });

  it("measures the limit on the whole document, exactly", async () => {
    const probe = createFakeBackend();
    await add(probe, "only");
    const exact = Buffer.byteLength((await getPolicy(probe)).policy);
    const fits = createFakeBackend({ limits: { lambdaPolicyBytes: exact } });
    await add(fits, "only");
    const tooSmall = createFakeBackend({ limits: { lambdaPolicyBytes: exact - 1 } });
    await rejectsWithAws(add(tooSmall, "only"), {
      service: "lambda",
      code: "PolicyLengthExceededException",
      httpStatus: 400,
    });
  });
});

describe("fake Lambda: functions, versions and aliases", () => {
  const nope = "arn:aws:lambda:us-east-1:123456789012:function:nope";
  it("answers an unknown function in each operation's recorded words", async () => {
    const backend = createFakeBackend();
    await rejectsWithAws(add(backend, "s", { function: fn("nope") }), {
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: "function",
      message: `Function not found: ${nope}`,
    });
    await rejectsWithAws(backend.removeLambdaPermission({ function: fn("nope"), statementId: "s" }, callOptions()), {
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: undefined,
      message: `No policy found for: ${nope}`,
    });
    await rejectsWithAws(getPolicy(backend, undefined, fn("nope")), {
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: undefined,
      message: "The resource you requested does not exist.",
    });
  });

  it("holds functions of the aws-eusc partition, in its eusc- Regions", async () => {
    const seed: FakeSeed = {
      lambda: { functions: [{ name: "sovereign", account: "123456789012", region: "eusc-de-east-1" }] },
    };
    const arn = "arn:aws-eusc:lambda:eusc-de-east-1:123456789012:function:sovereign";
    const backend = createFakeBackend({ seed });
    const ref = fn("sovereign", {
      functionName: arn,
      account: "123456789012",
      region: "eusc-de-east-1",
      partition: "aws-eusc",
    });
    const { statement } = await add(backend, "s", { function: ref, principal: "123456789012" });
    assert.deepEqual(JSON.parse(statement), {
      Sid: "s",
      Effect: "Allow",
      Principal: { AWS: "arn:aws-eusc:iam::123456789012:root" },
      Action: "lambda:InvokeFunction",
      Resource: arn,
    });
  });

  it("finds the function by name, partial ARN and full ARN", async () => {
    const backend = createFakeBackend();
    await add(backend, "s");
    const refs: LambdaFunctionRef[] = [
      fn("demo"),
      fn("demo", { functionName: "123456789012:demo", account: "123456789012" }),
      fn("demo", { functionName: "123456789012:function:demo", account: "123456789012" }),
      fn("demo", { functionName: demoArn, account: "123456789012", region: "us-east-1", partition: "aws" }),
    ];
    for (const ref of refs)
      assert.deepEqual(parsePolicy((await getPolicy(backend, undefined, ref)).policy).Statement.length, 1);
  });

  const elsewhere: [string, Partial<LambdaFunctionRef>][] = [
    ["another account", { account: "111122223333" }],
    ["another Region", { region: "eu-west-1", account: "123456789012" }],
    ["another partition", { partition: "aws-cn", region: "cn-north-1", account: "123456789012" }],
  ];
  for (const [where, extra] of elsewhere) {
    it(`does not find the demo function in ${where}`, async () => {
      await rejectsWithAws(add(createFakeBackend(), "s", { function: fn("demo", extra) }), {
        service: "lambda",
        code: "ResourceNotFoundException",
        httpStatus: 404,
        missing: "function",
        message: /^Function not found: arn:aws(-cn)?:lambda:/,
      });
    });
  }

  it("resolves a bare name against the backend's default account and Region", async () => {
    const seed: FakeSeed = { lambda: { functions: [{ name: "far", account: "111122223333", region: "eu-west-1" }] } };
    const backend = createFakeBackend({ seed, defaultAccount: "111122223333", defaultRegion: "eu-west-1" });
    const { statement } = await backend.addLambdaPermission(
      { function: fn("far"), statementId: "s", action: "lambda:InvokeFunction", principal: "*" },
      callOptions(),
    );
    assert.equal(parseStatement(statement).Resource, "arn:aws:lambda:eu-west-1:111122223333:function:far");
  });

  const unknownQualifiers: [string, string, string][] = [
    ["version 7", "7", `Function not found: ${demoArn}:7`],
    ["alias nope", "nope", `Cannot find alias arn: ${demoArn}:nope`],
    ["qualifier that is no alias name", "valid-with-$", `Function not found: ${demoArn}:valid-with-$`],
  ];
  for (const [what, qualifier, addMessage] of unknownQualifiers) {
    it(`answers an unknown ${what} as missing on AddPermission, and in GetPolicy's words on GetPolicy`, async () => {
      const backend = createFakeBackend();
      await rejectsWithAws(add(backend, "s", { qualifier }), {
        service: "lambda",
        code: "ResourceNotFoundException",
        httpStatus: 404,
        missing: "qualifier",
        message: addMessage,
      });
      await rejectsWithAws(getPolicy(backend, qualifier), {
        service: "lambda",
        code: "ResourceNotFoundException",
        httpStatus: 404,
        missing: undefined,
        message: "The resource you requested does not exist.",
      });
    });
  }

  it("keeps a separate policy per unqualified function, version and alias", async () => {
    const backend = createFakeBackend();
    await add(backend, "plain");
    await add(backend, "on-version", { qualifier: "1" });
    await add(backend, "on-alias", { qualifier: "live" });
    assert.deepEqual(await sids(backend), ["plain"]);
    assert.deepEqual(await sids(backend, "1"), ["on-version"]);
    assert.deepEqual(await sids(backend, "live"), ["on-alias"]);
  });

  it("names the qualified ARN as Resource of a version's or alias's statement", async () => {
    const backend = createFakeBackend();
    assert.equal(parseStatement((await add(backend, "v", { qualifier: "1" })).statement).Resource, `${demoArn}:1`);
    assert.equal(
      parseStatement((await add(backend, "a", { qualifier: "live" })).statement).Resource,
      `${demoArn}:live`,
    );
  });

  it("allows the same Sid on different qualifiers", async () => {
    const backend = createFakeBackend();
    await add(backend, "same");
    await add(backend, "same", { qualifier: "1" });
    await add(backend, "same", { qualifier: "live" });
  });

  it("takes a qualifier from the function name and refuses a different Qualifier", async () => {
    const backend = createFakeBackend();
    await add(backend, "x", { function: fn("demo", { functionName: "demo:live" }) });
    assert.deepEqual(await sids(backend, "live"), ["x"]);
    await add(backend, "y", { function: fn("demo", { functionName: `${demoArn}:live` }), qualifier: "live" });
    await rejectsWithAws(add(backend, "z", { function: fn("demo", { functionName: "demo:live" }), qualifier: "1" }), {
      service: "lambda",
      code: "InvalidParameterValueException",
      httpStatus: 400,
      message: "The derived qualifier from the function name does not match the specified qualifier.",
    });
  });
});

describe("fake Lambda: RemovePermission", () => {
  it("removes one statement and keeps the others", async () => {
    const backend = createFakeBackend();
    await add(backend, "keep");
    await add(backend, "drop");
    await backend.removeLambdaPermission({ function: fn("demo"), statementId: "drop" }, callOptions());
    assert.deepEqual(await sids(backend), ["keep"]);
  });

  it("leaves no policy once the last statement is gone", async () => {
    const backend = createFakeBackend();
    await add(backend, "only");
    await backend.removeLambdaPermission({ function: fn("demo"), statementId: "only" }, callOptions());
    await rejectsWithAws(getPolicy(backend), {
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: undefined,
    });
  });

  it("answers ResourceNotFoundException (missing policy) when the function has no policy", async () => {
    await rejectsWithAws(
      createFakeBackend().removeLambdaPermission({ function: fn("demo"), statementId: "x" }, callOptions()),
      {
        service: "lambda",
        code: "ResourceNotFoundException",
        httpStatus: 404,
        missing: "policy",
        message: "No policy is associated with the given resource.",
      },
    );
  });

  it("answers ResourceNotFoundException (missing statement) for an unknown Sid", async () => {
    const backend = createFakeBackend();
    await add(backend, "there");
    await rejectsWithAws(backend.removeLambdaPermission({ function: fn("demo"), statementId: "gone" }, callOptions()), {
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: "statement",
      message: "Statement gone is not found in resource policy.",
    });
  });

  it("removes from the qualifier's policy only", async () => {
    const backend = createFakeBackend();
    await add(backend, "s");
    await add(backend, "s", { qualifier: "live" });
    await backend.removeLambdaPermission({ function: fn("demo"), statementId: "s", qualifier: "live" }, callOptions());
    assert.deepEqual(await sids(backend), ["s"]);
    await rejectsWithAws(getPolicy(backend, "live"), {
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: undefined,
    });
  });

  it("answers an unknown version or alias before looking at statements, never as a missing statement", async () => {
    const backend = createFakeBackend();
    await rejectsWithAws(
      backend.removeLambdaPermission({ function: fn("demo"), statementId: "s", qualifier: "9" }, callOptions()),
      {
        service: "lambda",
        code: "ResourceNotFoundException",
        httpStatus: 404,
        missing: undefined,
        message: `No policy found for: ${demoArn}:9`,
      },
    );
    await rejectsWithAws(
      backend.removeLambdaPermission({ function: fn("demo"), statementId: "s", qualifier: "staging" }, callOptions()),
      {
        service: "lambda",
        code: "ResourceNotFoundException",
        httpStatus: 404,
        missing: "qualifier",
        message: `Cannot find alias arn: ${demoArn}:staging`,
      },
    );
  });

  it("returns the statement it removed", async () => {
    const backend = createFakeBackend();
    const { statement } = await add(backend, "gone-soon");
    const removed = await backend.removeLambdaPermission(
      { function: fn("demo"), statementId: "gone-soon" },
      callOptions(),
    );
    assert.equal(removed.removedStatement, statement);
    assert.match(removed.awsRequestId ?? "", uuidPattern);
  });
});

describe("fake Lambda: RevisionId", () => {
  it("is the function's own, so an AddPermission guarded by it succeeds before any policy exists (as in Lambda)", async () => {
    const revisionId = "0a1b2c3d-0000-4000-8000-00000000f00d";
    const seed: FakeSeed = {
      lambda: { functions: [{ name: "guarded", revisionId, versions: ["1"], aliases: { live: "1" } }] },
    };
    const backend = createFakeBackend({ seed });
    const guarded = fn("guarded");
    await rejectsWithAws(add(backend, "s3", { function: guarded, revisionId: "wrong" }), {
      service: "lambda",
      code: "PreconditionFailedException",
      httpStatus: 412,
      message:
        "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id",
    });
    await add(backend, "s3", { function: guarded, revisionId });
    const after = (await getPolicy(backend, undefined, guarded)).revisionId;
    assert.notEqual(after, revisionId, "the policy change renewed the function's RevisionId");
    // The alias and the version have RevisionIds of their own.
    await rejectsWithAws(add(backend, "s3", { function: guarded, qualifier: "live", revisionId: after }), {
      service: "lambda",
      code: "PreconditionFailedException",
      httpStatus: 412,
    });
  });

  it("gives each change a new RevisionId", async () => {
    const backend = createFakeBackend();
    await add(backend, "a");
    const first = (await getPolicy(backend)).revisionId;
    assert.equal((await getPolicy(backend)).revisionId, first, "reading does not change it");
    await add(backend, "b");
    const second = (await getPolicy(backend)).revisionId;
    await backend.removeLambdaPermission({ function: fn("demo"), statementId: "a" }, callOptions());
    const third = (await getPolicy(backend)).revisionId;
    for (const id of [first, second, third]) assert.match(id, uuidPattern);
    assert.equal(new Set([first, second, third]).size, 3);
  });

  it("accepts the current RevisionId on add and remove", async () => {
    const backend = createFakeBackend();
    await add(backend, "a");
    await add(backend, "b", { revisionId: (await getPolicy(backend)).revisionId });
    await backend.removeLambdaPermission(
      { function: fn("demo"), statementId: "a", revisionId: (await getPolicy(backend)).revisionId },
      callOptions(),
    );
    assert.deepEqual(await sids(backend), ["b"]);
  });

  it("refuses a stale RevisionId on add with PreconditionFailedException (412)", async () => {
    const backend = createFakeBackend();
    await add(backend, "a");
    const stale = (await getPolicy(backend)).revisionId;
    await add(backend, "b");
    await rejectsWithAws(add(backend, "c", { revisionId: stale }), {
      service: "lambda",
      code: "PreconditionFailedException",
      httpStatus: 412,
    });
    assert.deepEqual(await sids(backend), ["a", "b"]);
  });

  it("refuses a stale RevisionId on remove with PreconditionFailedException (412)", async () => {
    const backend = createFakeBackend();
    await add(backend, "a");
    const stale = (await getPolicy(backend)).revisionId;
    await add(backend, "b");
    await rejectsWithAws(
      backend.removeLambdaPermission({ function: fn("demo"), statementId: "a", revisionId: stale }, callOptions()),
      {
        service: "lambda",
        code: "PreconditionFailedException",
        httpStatus: 412,
      },
    );
    assert.deepEqual(await sids(backend), ["a", "b"]);
  });

  it("keeps a RevisionId per qualifier: a change to one leaves the others alone", async () => {
    const backend = createFakeBackend();
    await add(backend, "u");
    await add(backend, "v", { qualifier: "1" });
    const unqualified = (await getPolicy(backend)).revisionId;
    const version = (await getPolicy(backend, "1")).revisionId;
    assert.notEqual(unqualified, version);
    await add(backend, "w", { qualifier: "live" });
    assert.equal((await getPolicy(backend)).revisionId, unqualified);
    assert.equal((await getPolicy(backend, "1")).revisionId, version);
    await rejectsWithAws(add(backend, "x", { qualifier: "1", revisionId: unqualified }), {
      service: "lambda",
      code: "PreconditionFailedException",
      httpStatus: 412,
    });
  });
});

describe("fake Lambda: seeded statements and scale", () => {
  it("serves statements from the seed as if AddPermission had added them", async () => {
    const seed: FakeSeed = {
      lambda: {
        functions: [
          {
            name: "seeded",
            versions: ["1", "2"],
            aliases: { prod: "2" },
            statements: [
              {
                statementId: "events",
                action: "lambda:InvokeFunction",
                principal: "events.amazonaws.com",
                sourceArn: "arn:aws:events:us-east-1:123456789012:rule/r",
              },
              { statementId: "prod", qualifier: "prod", action: "lambda:InvokeFunction", principal: "111122223333" },
            ],
          },
        ],
      },
    };
    const backend = createFakeBackend({ seed });
    const plain = parsePolicy((await getPolicy(backend, undefined, fn("seeded"))).policy);
    assert.deepEqual(plain.Statement[0]?.Condition, {
      ArnLike: { "AWS:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/r" },
    });
    const prod = parsePolicy((await getPolicy(backend, "prod", fn("seeded"))).policy);
    assert.equal(prod.Statement[0]?.Resource, "arn:aws:lambda:us-east-1:123456789012:function:seeded:prod");
    await rejectsWithAws(getPolicy(backend, "2", fn("seeded")), {
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: undefined,
    });
  });

  it("handles many functions and statements (Map-backed lookups)", async () => {
    const functions = Array.from({ length: 5000 }, (_, i) => ({ name: `f${i}` }));
    const backend = createFakeBackend({ seed: { lambda: { functions } }, limits: { lambdaPolicyBytes: 10_000_000 } });
    const ref = fn("f4999");
    for (let i = 0; i < 2000; i++) {
      await backend.addLambdaPermission(
        { function: ref, statementId: `s${i}`, action: "lambda:InvokeFunction", principal: "*" },
        callOptions(),
      );
    }
    await backend.removeLambdaPermission({ function: ref, statementId: "s1000" }, callOptions());
    const document = parsePolicy((await getPolicy(backend, undefined, ref)).policy);
    assert.equal(document.Statement.length, 1999);
    assert.equal(document.Statement[1000]?.Sid, "s1001");
  });
});

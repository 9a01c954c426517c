// The Cedar authorizer against the shipped schema: decisions by RPC,
// account, Region, function name, RAM permission and grant; default deny;
// policies that do not validate are refused with their file, place, ID and
// error; reload replaces the set whole or not at all.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, test, type TestContext } from "node:test";
import type { JsonObject } from "@bufbuild/protobuf";
import {
  AuthorizationEvaluationError,
  AuthzPolicyError,
  type AuthorizationDecision,
  type Authorizer,
} from "../../src/authz/authorizer.js";
import { createDecisionCache } from "../../src/authz/decision-cache.js";
import { createCedarAuthorizer } from "../../src/authz/cedar/cedar-authorizer.js";
import { packageRootOf, shippedSchemaFile } from "../../src/authz/cedar/schema-file.js";
import type { Caller } from "../../src/authz/request.js";
import { silentLogger } from "../../src/logger.js";
import { assertDecisions, DEFAULTS, NO_ACCOUNT, policyDir, requestFor, type DecisionCase } from "./fixtures.js";

const POLICIES = `
@id("payments-manage")
permit (
  principal in PermissionGateway::Group::"payments",
  action in PermissionGateway::Action::"LambdaPolicy",
  resource is PermissionGateway::LambdaFunction
)
when {
  resource.name like "payments-*" &&
  resource has account && resource.account == "111122223333" &&
  resource.region == "eu-west-1"
};

@id("ram-admins-manage")
permit (
  principal in PermissionGateway::Group::"ram-admins",
  action in PermissionGateway::Action::"RamPermissions",
  resource is PermissionGateway::RamPermission
)
when { !resource.awsManaged && resource has account && resource.account == "111122223333" };

@id("ram-admins-list")
permit (
  principal in PermissionGateway::Group::"ram-admins",
  action == PermissionGateway::Action::"ListRamPermissions",
  resource
);

@id("alice-reads")
permit (principal == PermissionGateway::Caller::"alice", action in PermissionGateway::Action::"Read", resource);

@id("no-public-grants")
forbid (principal, action == PermissionGateway::Action::"AddLambdaPermission", resource)
when { context.principal == "*" };
`;

const payments: Caller = { id: "pat", groups: ["payments"] };
const ramAdmin: Caller = { id: "rita", groups: ["ram-admins"] };
const alice: Caller = { id: "alice", groups: [] };
const bob: Caller = { id: "bob", groups: ["someone-else"] };

const paymentsFn = "arn:aws:lambda:eu-west-1:111122223333:function:payments-api";
const grant = (functionName: string, principal = "s3.amazonaws.com"): JsonObject => ({
  functionName,
  statementId: "s3-invoke",
  action: "lambda:InvokeFunction",
  principal,
});
const ramArn = (account: string, name = "subnets"): string => `arn:aws:ram:eu-west-1:${account}:permission/${name}`;

type Case = DecisionCase & { readonly name: string };

const cases: Case[] = [
  {
    name: "team adds to its function",
    caller: payments,
    rpc: "AddLambdaPermission",
    json: grant(paymentsFn),
    allowed: true,
    determining: ["payments-manage"],
  },
  {
    name: "team removes from its function",
    caller: payments,
    rpc: "RemoveLambdaPermission",
    json: { functionName: paymentsFn, statementId: "s3-invoke" },
    allowed: true,
    determining: ["payments-manage"],
  },
  {
    name: "team reads its function's policy",
    caller: payments,
    rpc: "GetLambdaPolicy",
    json: { functionName: `${paymentsFn}:live` },
    allowed: true,
    determining: ["payments-manage"],
  },
  {
    name: "another account",
    caller: payments,
    rpc: "AddLambdaPermission",
    json: grant("arn:aws:lambda:eu-west-1:444455556666:function:payments-api"),
    allowed: false,
    determining: [],
  },
  {
    name: "another Region",
    caller: payments,
    rpc: "AddLambdaPermission",
    json: grant("arn:aws:lambda:us-east-1:111122223333:function:payments-api"),
    allowed: false,
    determining: [],
  },
  {
    name: "a function outside the name pattern",
    caller: payments,
    rpc: "AddLambdaPermission",
    json: grant("arn:aws:lambda:eu-west-1:111122223333:function:orders-api"),
    allowed: false,
    determining: [],
  },
  {
    name: "a bare name whose account nobody knows",
    caller: payments,
    rpc: "AddLambdaPermission",
    json: grant("payments-api"),
    defaults: { ...NO_ACCOUNT, region: "eu-west-1" },
    allowed: false,
    determining: [],
  },
  {
    name: "a bare name in the configured account",
    caller: payments,
    rpc: "AddLambdaPermission",
    json: grant("payments-api"),
    defaults: { ...DEFAULTS, region: "eu-west-1", account: "111122223333" },
    allowed: true,
    determining: ["payments-manage"],
  },
  {
    name: "grant principal * is forbidden even where permitted",
    caller: payments,
    rpc: "AddLambdaPermission",
    json: grant(paymentsFn, "*"),
    allowed: false,
    determining: ["no-public-grants"],
  },
  {
    name: "an RPC the team is not permitted",
    caller: payments,
    rpc: "DeleteRamPermission",
    json: { permissionArn: ramArn("111122223333") },
    allowed: false,
    determining: [],
  },
  {
    name: "RAM admin deletes a customer managed permission",
    caller: ramAdmin,
    rpc: "DeleteRamPermission",
    json: { permissionArn: ramArn("111122223333") },
    allowed: true,
    determining: ["ram-admins-manage"],
  },
  {
    name: "RAM admin and an AWS managed permission",
    caller: ramAdmin,
    rpc: "GetRamPermission",
    json: { permissionArn: "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet" },
    allowed: false,
    determining: [],
  },
  {
    name: "RAM admin and another account's permission",
    caller: ramAdmin,
    rpc: "DeleteRamPermission",
    json: { permissionArn: ramArn("444455556666") },
    allowed: false,
    determining: [],
  },
  {
    name: "RAM admin creates in the configured account",
    caller: ramAdmin,
    rpc: "CreateRamPermission",
    json: { name: "subnets", resourceType: "ec2:Subnet", policyTemplate: "{}" },
    defaults: { ...DEFAULTS, account: "111122223333" },
    allowed: true,
    determining: ["ram-admins-manage"],
  },
  {
    name: "RAM admin lists",
    caller: ramAdmin,
    rpc: "ListRamPermissions",
    json: {},
    allowed: true,
    determining: ["ram-admins-list"],
  },
  {
    name: "RAM admin and a Lambda function",
    caller: ramAdmin,
    rpc: "GetLambdaPolicy",
    json: { functionName: paymentsFn },
    allowed: false,
    determining: [],
  },
  {
    name: "a caller by ID reads",
    caller: alice,
    rpc: "GetRamPermission",
    json: { permissionArn: ramArn("444455556666") },
    allowed: true,
    determining: ["alice-reads"],
  },
  {
    name: "a caller by ID does not write",
    caller: alice,
    rpc: "DeleteRamPermission",
    json: { permissionArn: ramArn("444455556666") },
    allowed: false,
    determining: [],
  },
  {
    name: "default deny: no policy names this caller",
    caller: bob,
    rpc: "GetLambdaPolicy",
    json: { functionName: paymentsFn },
    allowed: false,
    determining: [],
  },
];

async function authorizerFor(
  t: TestContext,
  files: Readonly<Record<string, string>>,
): Promise<{ authorizer: Authorizer; dir: string }> {
  const dir = await policyDir(t, files);
  return { authorizer: await createCedarAuthorizer({ policies: dir, logger: silentLogger }), dir };
}

async function refusal(t: TestContext, files: Readonly<Record<string, string>>): Promise<AuthzPolicyError> {
  const dir = await policyDir(t, files);
  const error = await createCedarAuthorizer({ policies: dir, logger: silentLogger }).then(
    () => assert.fail("the policies were accepted"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AuthzPolicyError, String(error));
  assert.ok(error.message.startsWith(`authorization policies ${dir}`), error.message);
  return error;
}

describe("Cedar authorizer decisions", () => {
  test("allowed and denied by RPC, account, Region, function name, RAM permission and grant", async (t) => {
    const { authorizer } = await authorizerFor(t, { "policies.cedar": POLICIES });
    assert.deepEqual(authorizer.policyIds(), [
      "payments-manage",
      "ram-admins-manage",
      "ram-admins-list",
      "alice-reads",
      "no-public-grants",
    ]);
    assertDecisions(authorizer, cases);
  });

  test("a request that does not match the schema is an evaluation error, not a decision", async (t) => {
    const { authorizer } = await authorizerFor(t, { "policies.cedar": POLICIES });
    const request = requestFor("GetLambdaPolicy", { functionName: paymentsFn }, payments);
    assert.throws(
      () => authorizer.authorize({ ...request, context: { unexpected: "x" } }),
      (error: unknown) => error instanceof AuthorizationEvaluationError && /unexpected/.test(error.message),
    );
  });

  test("policies without @id are named <file>#<n>, files are read at any depth", async (t) => {
    const { authorizer } = await authorizerFor(t, {
      "teams/payments.cedar": `permit (principal == PermissionGateway::Caller::"x", action, resource);\npermit (principal, action, resource) when { principal == PermissionGateway::Caller::"pat" };`,
      "README.md": "not a policy",
    });
    assert.deepEqual(authorizer.policyIds(), ["teams/payments.cedar#1", "teams/payments.cedar#2"]);
    const decision = authorizer.authorize(requestFor("GetLambdaPolicy", { functionName: "f" }, payments));
    assert.deepEqual(decision.determiningPolicies, ["teams/payments.cedar#2"]);
  });

  test("a ConfigMap-style directory counts each file once: hidden folders skipped, links to files followed", async (t) => {
    const dir = await policyDir(t, {
      "..2025_06_01_12_00_00.123/team.cedar": `@id("team") permit (principal in PermissionGateway::Group::"payments", action, resource);`,
      ".editor/backup.cedar": `@id("team") forbid (principal, action, resource);`,
    });
    await symlink("..2025_06_01_12_00_00.123", join(dir, "..data"));
    await symlink(join("..data", "team.cedar"), join(dir, "team.cedar"));
    await symlink("nowhere.cedar", join(dir, "dangling.cedar"));
    const authorizer = await createCedarAuthorizer({ policies: dir, logger: silentLogger });
    assert.deepEqual(authorizer.policyIds(), ["team"]);
    assert.equal(authorizer.authorize(requestFor("ListRamPermissions", {}, payments)).allowed, true);
  });

  test("a single .cedar file is a policy set too", async (t) => {
    const dir = await policyDir(t, { "one.cedar": POLICIES });
    const authorizer = await createCedarAuthorizer({ policies: join(dir, "one.cedar"), logger: silentLogger });
    assert.equal(authorizer.authorize(requestFor("ListRamPermissions", {}, ramAdmin)).allowed, true);
  });
});

describe("Cedar authorizer refuses policies it cannot use", () => {
  const cases: { name: string; files: Record<string, string>; expect: RegExp[] }[] = [
    {
      name: "an optional attribute read without `has` names the file, line, column, policy and the fix",
      files: {
        "ok.cedar": `@id("fine")\npermit (principal, action, resource is PermissionGateway::LambdaFunction) when { resource.name == "x" };\n`,
        "team.cedar": `// the team's policy\n@id("team-account")\npermit (principal, action, resource is PermissionGateway::LambdaFunction)\nwhen { resource.account == "111122223333" };\n`,
      },
      expect: [/team\.cedar:4:8: policy "team-account": .*optional attribute `account`/, /has account/],
    },
    {
      name: "an attribute the schema does not have",
      files: {
        "a.cedar": `@id("typo")\npermit (principal, action, resource is PermissionGateway::LambdaFunction) when { resource.functionName == "x" };`,
      },
      expect: [/a\.cedar:2:\d+: policy "typo": .*functionName/],
    },
    {
      name: "an entity type the schema does not have",
      files: {
        "a.cedar": `@id("wrong-type")\npermit (principal in PermissionGateway::Team::"payments", action, resource);`,
      },
      expect: [/policy "wrong-type": .*PermissionGateway::Team/],
    },
    {
      name: "a context attribute of another action",
      files: {
        "a.cedar": `@id("ctx")\npermit (principal, action == PermissionGateway::Action::"DeleteRamPermission", resource) when { context.principal == "*" };`,
      },
      expect: [/policy "ctx": .*principal/],
    },
    {
      name: "a syntax error names the file, line and column",
      files: {
        "a.cedar": `@id("ok")\npermit (principal, action, resource);\n\npermit (principal, action resource);\n`,
      },
      expect: [/a\.cedar:4:\d+: /],
    },
    {
      name: "two policies with one @id, in two files",
      files: {
        "a.cedar": `@id("same")\npermit (principal, action, resource);`,
        "b.cedar": `\n@id("same")\nforbid (principal, action, resource);`,
      },
      expect: [/b\.cedar:2:1: policy "same": this ID is already used at .*a\.cedar:1:1/],
    },
    {
      name: "templates are not supported",
      files: { "a.cedar": `@id("t")\npermit (principal == ?principal, action, resource);` },
      expect: [/a\.cedar: templates .* are not supported/],
    },
    {
      name: "an empty @id",
      files: { "a.cedar": `@id("")\npermit (principal, action, resource);` },
      expect: [/a\.cedar:1:1: @id\(""\) is empty/],
    },
    {
      name: "files with no policy in them",
      files: { "a.cedar": `// nothing yet\n` },
      expect: [/no policy at all: every call would be denied/],
    },
    {
      name: "a directory without .cedar files",
      files: { "policies.txt": POLICIES },
      expect: [/the directory holds no \.cedar file/],
    },
  ];
  for (const c of cases) {
    test(c.name, async (t) => {
      const error = await refusal(t, c.files);
      for (const pattern of c.expect) assert.match(error.message, pattern);
    });
  }

  test("every problem of every file is reported at once", async (t) => {
    const error = await refusal(t, {
      "a.cedar": `@id("one")\npermit (principal, action, resource is PermissionGateway::LambdaFunction) when { resource.account == "1" };`,
      "b.cedar": `@id("two")\npermit (principal, action, resource is PermissionGateway::RamPermission) when { resource.region == "x" };`,
    });
    assert.equal(error.problems.length, 2, error.message);
  });

  test("a path that does not exist", async () => {
    const missing = join(tmpdir(), `pg-authz-missing-${process.pid}`);
    await assert.rejects(createCedarAuthorizer({ policies: missing, logger: silentLogger }), (error: unknown) => {
      assert.ok(error instanceof AuthzPolicyError);
      assert.match(error.message, new RegExp(`${missing}: cannot be read: ENOENT`));
      return true;
    });
  });
});

describe("Cedar authorizer reload", () => {
  test("a good set replaces the old one; a broken one is refused and the old one stays", async (t) => {
    const { authorizer, dir } = await authorizerFor(t, {
      "p.cedar": `@id("v1") permit (principal == PermissionGateway::Caller::"alice", action, resource);`,
    });
    const aliceReads = requestFor("GetLambdaPolicy", { functionName: "f" }, alice);
    const bobReads = requestFor("GetLambdaPolicy", { functionName: "f" }, bob);
    assert.equal(authorizer.authorize(aliceReads).allowed, true);

    await writeFile(
      join(dir, "p.cedar"),
      `@id("v2") permit (principal == PermissionGateway::Caller::"bob", action, resource);`,
    );
    assert.deepEqual(await authorizer.reload(), { ok: true });
    assert.deepEqual(authorizer.policyIds(), ["v2"]);
    assert.equal(authorizer.authorize(aliceReads).allowed, false);
    assert.deepEqual(authorizer.authorize(bobReads).determiningPolicies, ["v2"]);

    await writeFile(join(dir, "p.cedar"), `@id("v3") permit (principal, action, resource) when { resource.nope };`);
    const failed = await authorizer.reload();
    assert.equal(failed.ok, false);
    assert.match(failed.ok ? "" : failed.error, /p\.cedar:1:\d+: policy "v3"/);
    assert.deepEqual(authorizer.policyIds(), ["v2"]);
    assert.deepEqual(authorizer.authorize(bobReads).determiningPolicies, ["v2"]);
  });

  test("reloads while calls run: every decision comes from one whole set, and reloads apply in order", async (t) => {
    const set = (name: string): string =>
      [1, 2, 3].map((n) => `@id("${name}${n}") permit (principal, action, resource);`).join("\n");
    const { authorizer, dir } = await authorizerFor(t, { "p.cedar": set("a") });
    const request = requestFor("RemoveLambdaPermission", { functionName: "f", statementId: "s" }, bob);
    const seen = new Set<string>();
    let calling = true;
    const caller = (async () => {
      let calls = 0;
      while (calling || calls < 200) {
        const decision = authorizer.authorize(request);
        assert.equal(decision.allowed, true);
        const ids = [...decision.determiningPolicies].sort().join(",");
        assert.ok(ids === "a1,a2,a3" || ids === "b1,b2,b3", `a mixture of sets: ${ids}`);
        seen.add(ids);
        calls++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (let round = 0; round < 20; round++) {
      await writeFile(join(dir, "p.cedar"), set(round % 2 === 0 ? "b" : "a"));
      assert.deepEqual(await authorizer.reload(), { ok: true });
    }
    calling = false;
    await caller;
    assert.deepEqual([...seen].sort(), ["a1,a2,a3", "b1,b2,b3"]);

    // Reloads asked back to back apply in the order asked: the last one's
    // files win. The file is replaced by a rename, as a deploy should, so the
    // first reload reads the old or the new file whole, never a half-written one.
    await writeFile(join(dir, "p.cedar"), set("b"));
    const first = authorizer.reload();
    await writeFile(join(dir, "next.tmp"), set("a"));
    await rename(join(dir, "next.tmp"), join(dir, "p.cedar"));
    const second = authorizer.reload();
    assert.deepEqual(await Promise.all([first, second]), [{ ok: true }, { ok: true }]);
    assert.deepEqual(authorizer.policyIds(), ["a1", "a2", "a3"]);
  });

  test("two authorizers in one process keep their own sets", async (t) => {
    const one = await authorizerFor(t, { "p.cedar": `@id("one") permit (principal, action, resource);` });
    const two = await authorizerFor(t, { "p.cedar": `@id("two") permit (principal, action, resource);` });
    const request = requestFor("ListRamPermissions", {}, bob);
    assert.deepEqual(one.authorizer.authorize(request).determiningPolicies, ["one"]);
    assert.deepEqual(two.authorizer.authorize(request).determiningPolicies, ["two"]);
  });
});

describe("the shipped schema", () => {
  test("is found from the package root, from src/ and from a compiled dist/src/ alike", async (t) => {
    assert.ok(existsSync(shippedSchemaFile()), shippedSchemaFile());
    const root = await mkdtemp(join(tmpdir(), "pg-root-"));
    t.after(() => rm(root, { recursive: true, force: true }));
    await writeFile(join(root, "package.json"), "{}");
    await mkdir(join(root, "dist", "src", "authz", "cedar"), { recursive: true });
    const compiled = pathToFileURL(join(root, "dist", "src", "authz", "cedar", "schema-file.js")).href;
    assert.equal(packageRootOf(compiled), root);
    assert.equal(shippedSchemaFile(compiled), join(root, "authz", "schema.cedarschema"));
  });

  test("a schema that cannot be read stops start-up", async (t) => {
    const dir = await policyDir(t, { "p.cedar": POLICIES });
    await assert.rejects(
      createCedarAuthorizer({ policies: dir, logger: silentLogger, schemaFile: join(dir, "missing.cedarschema") }),
      (error: unknown) =>
        error instanceof AuthzPolicyError && /missing\.cedarschema.*cannot be read: ENOENT/.test(error.message),
    );
  });
});

describe("remembered decisions", () => {
  const policy = `@id("payments-only") permit (principal in PermissionGateway::Group::"payments", action, resource)
    when { resource is PermissionGateway::LambdaFunction && resource.name like "payments-*" };`;

  test("a repeated request gets the same decision; whatever Cedar is given differs, it decides anew", async (t) => {
    const dir = await policyDir(t, { "p.cedar": policy });
    const cached = await createCedarAuthorizer({ policies: dir, logger: silentLogger });
    const uncached = await createCedarAuthorizer({ policies: dir, logger: silentLogger, decisionCacheEntries: 0 });
    const payments: Caller = { id: "carol", groups: ["payments"] };
    const requests = [
      requestFor("GetLambdaPolicy", { functionName: "payments-api" }, payments),
      requestFor("GetLambdaPolicy", { functionName: "payments-api" }, { id: "carol", groups: [] }),
      requestFor("GetLambdaPolicy", { functionName: "billing-api" }, payments),
      requestFor("GetLambdaPolicy", { functionName: "payments-api", qualifier: "live" }, payments),
      requestFor("RemoveLambdaPermission", { functionName: "payments-api", statementId: "s" }, payments),
    ];
    for (let round = 0; round < 3; round++) {
      for (const request of requests) assert.deepEqual(cached.authorize(request), uncached.authorize(request));
    }
    assert.deepEqual(
      requests.map((request) => cached.authorize(request).allowed),
      [true, false, false, true, true],
    );
  });

  test("a reload forgets them: the next call is decided by the new set", async (t) => {
    const { authorizer, dir } = await authorizerFor(t, { "p.cedar": policy });
    const request = requestFor("GetLambdaPolicy", { functionName: "payments-api" }, { id: "c", groups: ["payments"] });
    assert.equal(authorizer.authorize(request).allowed, true);
    assert.equal(authorizer.authorize(request).allowed, true);
    await writeFile(join(dir, "p.cedar"), `@id("nobody") forbid (principal, action, resource);`);
    assert.deepEqual(await authorizer.reload(), { ok: true });
    assert.deepEqual(authorizer.authorize(request), { allowed: false, determiningPolicies: ["nobody"], errors: [] });
  });
});

describe("createDecisionCache", () => {
  const decision = (allowed: boolean): AuthorizationDecision => ({ allowed, determiningPolicies: [], errors: [] });

  test("holds at most its size, least recently used out first", () => {
    const cache = createDecisionCache(2);
    let decided = 0;
    const ask = (name: string): boolean =>
      cache.decision(requestFor("GetLambdaPolicy", { functionName: name }, alice), () => {
        decided++;
        return decision(name === "a");
      }).allowed;
    assert.equal(ask("a"), true);
    assert.equal(ask("b"), false);
    assert.equal(ask("a"), true); // a is now the most recent
    assert.equal(decided, 2);
    ask("c"); // b goes
    assert.equal(cache.size(), 2);
    ask("a");
    assert.equal(decided, 3, "a was kept");
    ask("b");
    assert.equal(decided, 4, "b was forgotten");
    cache.clear();
    assert.equal(cache.size(), 0);
  });

  test("size 0 remembers nothing", () => {
    const cache = createDecisionCache(0);
    let decided = 0;
    for (let i = 0; i < 3; i++)
      cache.decision(requestFor("ListRamPermissions", {}, alice), () => {
        decided++;
        return decision(true);
      });
    assert.equal(decided, 3);
    assert.equal(cache.size(), 0);
  });
});

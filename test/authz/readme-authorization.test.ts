// docs/security.md's "Authorization" section, tested as written: its three
// example policy sets are the files in authz/examples (which these tests
// load and exercise), its example error is the one start-up prints, and the
// configuration table has a row for every authorization variable.
import assert from "node:assert/strict";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { describe, test, type TestContext } from "node:test";
import type { JsonObject } from "@bufbuild/protobuf";
import { AuthzPolicyError, type Authorizer } from "../../src/authz/authorizer.js";
import { schemaToJsonWithResolvedTypes } from "@cedar-policy/cedar-wasm/nodejs";
import { createCedarAuthorizer } from "../../src/authz/cedar/cedar-authorizer.js";
import { shippedSchemaFile } from "../../src/authz/cedar/schema-file.js";
import { AUTHZ_ENV_HELP } from "../../src/authz/config.js";
import type { Caller } from "../../src/authz/request.js";
import type { ResourceDefaults } from "../../src/authz/resource.js";
import { silentLogger } from "../../src/logger.js";
import { codeBlocks, CONFIGURATION_DOC, docSection, readDoc, readmeRow } from "../support/readme.js";
import { assertDecisions, DEFAULTS, type DecisionCase, NO_ACCOUNT, policyDir } from "./fixtures.js";

const examples = fileURLToPath(new URL("../../authz/examples/", import.meta.url));
const section = await docSection("docs/security.md", "## Authorization");

const auditor: Caller = { id: "ada", groups: ["auditors"] };
const payments: Caller = { id: "pat", groups: ["payments"] };
const platform: Caller = { id: "pia", groups: ["platform"] };
const stranger: Caller = { id: "sam", groups: ["orders"] };

const account = "111122223333";
const TEAM: ResourceDefaults = { ...DEFAULTS, account };
const fn = (name: string, inAccount = account) => `arn:aws:lambda:eu-west-1:${inAccount}:function:${name}`;
const add = (functionName: string, fields: JsonObject = {}): JsonObject => ({
  functionName,
  statementId: "payments-s3",
  action: "lambda:InvokeFunction",
  principal: "s3.amazonaws.com",
  ...fields,
});
const ramArn = `arn:aws:ram:eu-west-1:${account}:permission/subnets`;

const check = async (authorizer: Authorizer, cases: readonly DecisionCase[]): Promise<void> =>
  assertDecisions(authorizer, cases, TEAM);

const exampleSet = (set: string): Promise<Authorizer> =>
  createCedarAuthorizer({ policies: join(examples, set), logger: silentLogger });

describe("docs/security.md: Authorization", () => {
  test("the example policy sets shown are the files in authz/examples", async () => {
    const shown = codeBlocks(section, "cedar");
    for (const file of [
      "read-only-auditors/auditors.cedar",
      "team-scoped/payments.cedar",
      "forbid-public-grants/platform.cedar",
    ]) {
      const text = (await readFile(join(examples, file), "utf8")).replace(/\n$/, "");
      assert.ok(section.includes(`\`authz/examples/${file}\`:`), `docs/security.md names ${file}`);
      assert.ok(shown.includes(text), `docs/security.md shows ${file} as it is`);
    }
  });

  test("the tables of actions, resources and contexts say what the shipped schema says", async () => {
    const schema = schemaToJsonWithResolvedTypes(await readFile(shippedSchemaFile(), "utf8"));
    assert.ok(schema.type === "success");
    const ns = schema.json["PermissionGateway"];
    assert.ok(ns !== undefined);
    type Shape = { type: string; attributes?: Record<string, { required?: boolean }> };
    const attributesOf = (shape: Shape | undefined): string[] => {
      const record =
        shape?.type === "Record"
          ? shape
          : (ns.commonTypes?.[shape?.type.replace("PermissionGateway::", "") ?? ""] as Shape | undefined);
      return Object.entries(record?.attributes ?? {})
        .map(([name, a]) => (a.required === false ? `${name}?` : name))
        .sort();
    };
    const rows = (header: string): string[][] => {
      const table = section.slice(section.indexOf(header));
      return table
        .split("\n")
        .slice(2)
        .filter((line, i, all) => line.startsWith("|") && all.slice(0, i).every((l) => l.startsWith("|")))
        .map((line) => line.split(" | ").map((cell) => cell.replace(/^\| ?| ?\|$/g, "")));
    };
    const names = (cell: string): string[] => [...cell.matchAll(/`(\w+\??)`/g)].map((m) => m[1] ?? "").sort();
    const list = (cell: string): string[] => cell.split(", ").sort();

    const groups = new Map<string, string[]>();
    for (const [action, spec] of Object.entries(ns.actions)) {
      for (const parent of spec.memberOf ?? [])
        groups.set(parent.id, [...(groups.get(parent.id) ?? []), action].sort());
    }
    assert.deepEqual(
      new Map(
        rows("| group | actions |").map(([group = "", actions = ""]) => [group.replaceAll("`", ""), list(actions)]),
      ),
      groups,
    );

    const entityRows = rows("| resource type | of |");
    for (const type of ["LambdaFunction", "RamPermission", "RamPermissionCatalog"]) {
      const row = entityRows.find(([name]) => name === `\`${type}\``);
      const entity = ns.entityTypes[type] as { shape?: Shape } | undefined;
      assert.deepEqual(names(row?.[2] ?? ""), attributesOf(entity?.shape), type);
      const users: string[] = Object.entries(ns.actions)
        .filter(([, spec]) => spec.appliesTo?.resourceTypes.includes(`PermissionGateway::${type}`))
        .map(([action]) => action);
      const described =
        row?.[1] === "the three Lambda RPCs"
          ? ["AddLambdaPermission", "GetLambdaPolicy", "RemoveLambdaPermission"]
          : list(row?.[1] ?? "");
      assert.deepEqual(described, users.sort(), type);
    }

    const contexts = new Map<string, string[]>();
    for (const [actions = "", context = ""] of rows("| action | context")) {
      for (const action of list(actions)) contexts.set(action, context === "nothing" ? [] : names(context));
    }
    for (const [action, spec] of Object.entries(ns.actions)) {
      if (spec.appliesTo === undefined || spec.appliesTo.principalTypes.length === 0) continue; // an action group
      assert.deepEqual(contexts.get(action), attributesOf(spec.appliesTo.context as Shape | undefined), action);
    }
  });

  test("read-only auditors read everything and write nothing", async () => {
    const read = ["auditors-read-everything"];
    await check(await exampleSet("read-only-auditors"), [
      {
        caller: auditor,
        rpc: "GetLambdaPolicy",
        json: { functionName: fn("orders-api", "444455556666") },
        allowed: true,
        determining: read,
      },
      {
        caller: auditor,
        rpc: "GetRamPermission",
        json: { permissionArn: "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet" },
        allowed: true,
        determining: read,
      },
      { caller: auditor, rpc: "ListRamPermissions", json: {}, defaults: NO_ACCOUNT, allowed: true, determining: read },
      { caller: auditor, rpc: "AddLambdaPermission", json: add(fn("payments-api")), allowed: false, determining: [] },
      {
        caller: auditor,
        rpc: "RemoveLambdaPermission",
        json: { functionName: fn("payments-api"), statementId: "payments-s3" },
        allowed: false,
        determining: [],
      },
      { caller: auditor, rpc: "DeleteRamPermission", json: { permissionArn: ramArn }, allowed: false, determining: [] },
      {
        caller: auditor,
        rpc: "CreateRamPermission",
        json: { name: "subnets", resourceType: "ec2:Subnet", policyTemplate: "{}" },
        allowed: false,
        determining: [],
      },
      {
        caller: stranger,
        rpc: "GetLambdaPolicy",
        json: { functionName: fn("payments-api") },
        allowed: false,
        determining: [],
      },
    ]);
  });

  test("a team is scoped to its functions, its account and its statement IDs", async () => {
    const own = ["payments-own-functions"];
    await check(await exampleSet("team-scoped"), [
      { caller: payments, rpc: "AddLambdaPermission", json: add(fn("payments-api")), allowed: true, determining: own },
      {
        caller: payments,
        rpc: "RemoveLambdaPermission",
        json: { functionName: fn("payments-api"), statementId: "payments-s3" },
        allowed: true,
        determining: own,
      },
      {
        caller: payments,
        rpc: "GetLambdaPolicy",
        json: { functionName: `${fn("payments-api")}:live` },
        allowed: true,
        determining: own,
      },
      {
        caller: payments,
        rpc: "AddLambdaPermission",
        json: add(fn("payments-api"), { statementId: "orders-s3" }),
        allowed: false,
        determining: ["payments-own-statements"],
      },
      {
        caller: payments,
        rpc: "RemoveLambdaPermission",
        json: { functionName: fn("payments-api"), statementId: "orders-s3" },
        allowed: false,
        determining: ["payments-own-statements"],
      },
      {
        caller: payments,
        rpc: "AddLambdaPermission",
        json: add(fn("payments-api", "444455556666")),
        allowed: false,
        determining: [],
      },
      { caller: payments, rpc: "AddLambdaPermission", json: add(fn("orders-api")), allowed: false, determining: [] },
      {
        caller: payments,
        rpc: "AddLambdaPermission",
        json: add("payments-api"),
        defaults: TEAM,
        allowed: true,
        determining: own,
      },
      {
        caller: payments,
        rpc: "AddLambdaPermission",
        json: add("payments-api"),
        defaults: NO_ACCOUNT,
        allowed: false,
        determining: [],
      },
      {
        caller: payments,
        rpc: "DeleteRamPermission",
        json: { permissionArn: ramArn },
        allowed: false,
        determining: [],
      },
      { caller: stranger, rpc: "AddLambdaPermission", json: add(fn("payments-api")), allowed: false, determining: [] },
    ]);
  });

  const forbidCases = (caller: Caller, permit: string): DecisionCase[] => [
    { caller, rpc: "AddLambdaPermission", json: add(fn("payments-api")), allowed: true, determining: [permit] },
    {
      caller,
      rpc: "AddLambdaPermission",
      json: add(fn("payments-api"), { principal: "*" }),
      allowed: false,
      determining: ["no-grant-to-everyone"],
    },
    {
      caller,
      rpc: "AddLambdaPermission",
      json: add(fn("payments-api"), { action: "lambda:*" }),
      allowed: false,
      determining: ["no-wildcard-actions"],
    },
    {
      caller,
      rpc: "AddLambdaPermission",
      json: add(fn("payments-api"), { action: "*" }),
      allowed: false,
      determining: ["no-wildcard-actions"],
    },
    {
      caller,
      rpc: "AddLambdaPermission",
      json: add(fn("payments-api"), {
        action: "lambda:InvokeFunctionUrl",
        functionUrlAuthType: "FUNCTION_URL_AUTH_TYPE_NONE",
      }),
      allowed: false,
      determining: ["no-unauthenticated-function-urls"],
    },
    {
      caller,
      rpc: "AddLambdaPermission",
      json: add(fn("payments-api"), {
        action: "lambda:InvokeFunctionUrl",
        functionUrlAuthType: "FUNCTION_URL_AUTH_TYPE_AWS_IAM",
      }),
      allowed: true,
      determining: [permit],
    },
  ];

  test("public grants are forbidden even to the platform team, which may do everything else", async () => {
    await check(await exampleSet("forbid-public-grants"), [
      ...forbidCases(platform, "platform-everything"),
      {
        caller: platform,
        rpc: "DeleteRamPermission",
        json: { permissionArn: ramArn },
        allowed: true,
        determining: ["platform-everything"],
      },
      {
        caller: stranger,
        rpc: "GetLambdaPolicy",
        json: { functionName: fn("payments-api") },
        allowed: false,
        determining: [],
      },
    ]);
  });

  test("the forbids copied beside a team's policies hold that team to them", async (t: TestContext) => {
    const dir = await policyDir(t, {});
    await cp(join(examples, "team-scoped"), join(dir, "team-scoped"), { recursive: true });
    await cp(join(examples, "forbid-public-grants"), join(dir, "forbid-public-grants"), { recursive: true });
    const authorizer = await createCedarAuthorizer({ policies: dir, logger: silentLogger });
    await check(authorizer, forbidCases(payments, "payments-own-functions"));
  });

  test("the example start-up error is the one a broken policy gives", async (t) => {
    const [broken] = codeBlocks(section, "cedar");
    const [message] = codeBlocks(section, "");
    assert.ok(broken !== undefined && message !== undefined);
    const dir = await policyDir(t, {});
    await mkdir(join(dir, "policies"));
    await writeFile(join(dir, "policies", "team.cedar"), broken + "\n");
    const error = await createCedarAuthorizer({ policies: join(dir, "policies"), logger: silentLogger }).then(
      () => assert.fail("accepted"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof AuthzPolicyError);
    assert.equal(error.message.replaceAll(`${dir}/`, ""), message);
  });

  test("the cost command runs as written (with few calls: what it prints is not asserted on timing)", async () => {
    assert.match(section, /`npx tsx bench\/authorize\.ts`/);
    const { stdout } = await promisify(execFile)("npx", ["tsx", "bench/authorize.ts"], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      env: { ...process.env, BENCH_CALLS: "20", BENCH_ROUNDS: "1" },
    });
    const rows = stdout.trim().split("\n").slice(2);
    assert.deepEqual(
      rows.map((row) => row.replace(/\s+[\d.]+\s+[\d.]+$/, "")),
      [
        "build the request",
        "authorize: allow, 7 policies",
        "authorize: forbid, 7 policies",
        "authorize: allow, 207 policies",
      ],
    );
  });

  test("the configuration table has a row for every authorization variable", async () => {
    const table = await readDoc(CONFIGURATION_DOC);
    for (const help of AUTHZ_ENV_HELP)
      assert.ok(table.includes(readmeRow(help)), `${CONFIGURATION_DOC} row of ${help.name}: ${readmeRow(help)}`);
  });
});

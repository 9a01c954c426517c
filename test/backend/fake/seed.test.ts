// Seed parsing, seed files, the demo seed and the seed documentation.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  createFakeBackend,
  demoSeed,
  FakeSeedError,
  loadFakeSeedFile,
  parseFakeSeed,
} from "../../../src/backend/fake/fake-backend.js";
import type { FakeSeed } from "../../../src/backend/fake/fake-backend.js";
import { parseStatement } from "../../support/policy-json.js";
import { permissionRef } from "../../support/permission-ref.js";
import { callOptions, fn, rejectsWithAws } from "./fake-test-helpers.js";

const template = { Effect: "Allow", Action: "ec2:DescribeSubnets" };

function fnSeed(extra: object): unknown {
  return { lambda: { functions: [{ name: "f", versions: ["1"], aliases: { live: "1" }, ...extra }] } };
}

function ramSeed(extra: object): unknown {
  return { ram: { permissions: [{ name: "p", resourceType: "ec2:Subnet", policyTemplate: template, ...extra }] } };
}

describe("parseFakeSeed", () => {
  it("accepts an empty object and the demo seed", () => {
    assert.deepEqual(parseFakeSeed({}), {});
    parseFakeSeed(demoSeed);
    parseFakeSeed(JSON.parse(JSON.stringify(demoSeed)));
  });

  it("places a function by its Region's partition when the seed names only the Region", () => {
    const seed = parseFakeSeed(fnSeed({ region: "eusc-de-east-1" }));
    assert.equal(seed.lambda?.functions?.[0]?.partition, "aws-eusc");
  });

  it("keeps a permission's tags", async () => {
    const seed = parseFakeSeed(ramSeed({ tags: { team: "payments" } }));
    assert.deepEqual(seed.ram?.permissions?.[0]?.tags, { team: "payments" });
    assert.throws(() => parseFakeSeed(ramSeed({ tags: { team: 7 } })), /\$\.ram\.permissions\[0\]\.tags\.team/);
  });

  it("keeps templates as the JSON text RAM stores", () => {
    const seed = parseFakeSeed(ramSeed({}));
    assert.equal(seed.ram?.permissions?.[0]?.versions?.[0]?.policyTemplate, JSON.stringify(template));
  });

  const bad: [string, unknown, string][] = [
    ["not an object", [], "$"],
    ["an unknown top-level field", { lamda: {} }, "$.lamda"],
    ["functions that are not a list", { lambda: { functions: {} } }, "$.lambda.functions"],
    ["a function without a name", { lambda: { functions: [{}] } }, "$.lambda.functions[0].name"],
    ["a function name that is too long", fnSeed({ name: "x".repeat(65) }), "$.lambda.functions[0].name"],
    ["an unknown function field", fnSeed({ runtime: "nodejs20.x" }), "$.lambda.functions[0].runtime"],
    ["a bad account", fnSeed({ account: "12345" }), "$.lambda.functions[0].account"],
    ["a bad Region", fnSeed({ region: "moon" }), "$.lambda.functions[0].region"],
    ["a Region AWS does not have", fnSeed({ region: "us-east-9" }), "$.lambda.functions[0].region"],
    [
      "a Region of another partition",
      fnSeed({ region: "cn-north-1", partition: "aws" }),
      "$.lambda.functions[0].region",
    ],
    ["a partition AWS does not have", fnSeed({ partition: "azure" }), "$.lambda.functions[0].partition"],
    ["an empty RevisionId", fnSeed({ revisionId: "" }), "$.lambda.functions[0].revisionId"],
    [
      "a statement whose InvokedViaFunctionUrl is no boolean",
      fnSeed({
        statements: [
          { statementId: "s", action: "lambda:InvokeFunction", principal: "*", invokedViaFunctionUrl: "yes" },
        ],
      }),
      "$.lambda.functions[0].statements[0].invokedViaFunctionUrl",
    ],
    ["a version that is not a number", fnSeed({ versions: ["v1"] }), "$.lambda.functions[0].versions[0]"],
    ["a duplicate version", fnSeed({ versions: ["1", "1"] }), "$.lambda.functions[0].versions[1]"],
    ["an alias to an unknown version", fnSeed({ aliases: { live: "2" } }), "$.lambda.functions[0].aliases.live"],
    ["an all-digit alias", fnSeed({ aliases: { "7": "1" } }), '$.lambda.functions[0].aliases["7"]'],
    [
      "a statement on an unknown qualifier",
      fnSeed({
        statements: [{ statementId: "s", qualifier: "prod", action: "lambda:InvokeFunction", principal: "*" }],
      }),
      "$.lambda.functions[0].statements[0].qualifier",
    ],
    [
      "a statement with a bad principal",
      fnSeed({ statements: [{ statementId: "s", action: "lambda:InvokeFunction", principal: "nobody" }] }),
      "$.lambda.functions[0].statements[0].principal",
    ],
    [
      "a statement with a bad Sid",
      fnSeed({ statements: [{ statementId: "has.dot", action: "lambda:InvokeFunction", principal: "*" }] }),
      "$.lambda.functions[0].statements[0].statementId",
    ],
    [
      "a statement with a bad action",
      fnSeed({ statements: [{ statementId: "s", action: "s3:GetObject", principal: "*" }] }),
      "$.lambda.functions[0].statements[0].action",
    ],
    [
      "a bad function URL auth type",
      fnSeed({
        statements: [
          { statementId: "s", action: "lambda:InvokeFunctionUrl", principal: "*", functionUrlAuthType: "OPEN" },
        ],
      }),
      "$.lambda.functions[0].statements[0].functionUrlAuthType",
    ],
    ["a bad RAM name", ramSeed({ name: "has space" }), "$.ram.permissions[0].name"],
    ["a bad permission type", ramSeed({ permissionType: "MINE" }), "$.ram.permissions[0].permissionType"],
    [
      "an AWS managed permission with an account",
      ramSeed({ permissionType: "AWS_MANAGED", account: "123456789012" }),
      "$.ram.permissions[0].account",
    ],
    ["a bad resource type", ramSeed({ resourceType: "Subnet" }), "$.ram.permissions[0].resourceType"],
    [
      "both policyTemplate and versions",
      ramSeed({ versions: [{ version: 1, policyTemplate: template }] }),
      "$.ram.permissions[0]",
    ],
    [
      "a template without Action",
      ramSeed({ policyTemplate: { Effect: "Allow" } }),
      "$.ram.permissions[0].policyTemplate",
    ],
    [
      "a template with a Principal",
      ramSeed({ policyTemplate: { ...template, Principal: "*" } }),
      "$.ram.permissions[0].policyTemplate",
    ],
    ["template text that is not JSON", ramSeed({ policyTemplate: "{nope" }), "$.ram.permissions[0].policyTemplate"],
    [
      "a version number of 0",
      {
        ram: {
          permissions: [
            { name: "p", resourceType: "ec2:Subnet", versions: [{ version: 0, policyTemplate: template }] },
          ],
        },
      },
      "$.ram.permissions[0].versions[0].version",
    ],
    [
      "a default version that does not exist",
      {
        ram: {
          permissions: [
            {
              name: "p",
              resourceType: "ec2:Subnet",
              versions: [{ version: 1, policyTemplate: template }],
              defaultVersion: 2,
            },
          ],
        },
      },
      "$.ram.permissions[0].defaultVersion",
    ],
    [
      "an attachment that is not a resource share ARN",
      ramSeed({ attachedTo: ["share-1"] }),
      "$.ram.permissions[0].attachedTo[0]",
    ],
    [
      "a creation time that is not ISO 8601",
      ramSeed({ creationTime: "yesterday" }),
      "$.ram.permissions[0].creationTime",
    ],
  ];
  for (const [what, json, path] of bad) {
    it(`refuses ${what}, naming ${path}`, () => {
      assert.throws(
        () => parseFakeSeed(json),
        (error: unknown) => {
          assert.ok(error instanceof FakeSeedError, String(error));
          assert.equal(error.path, path);
          assert.ok(error.message.startsWith(`invalid fake seed at ${path}: `), error.message);
          return true;
        },
      );
    });
  }
});

describe("seed rules checked when a backend loads it", () => {
  it("refuses the same function twice, also when one names the default account", () => {
    const seed: FakeSeed = { lambda: { functions: [{ name: "f" }, { name: "f", account: "123456789012" }] } };
    assert.throws(
      () => createFakeBackend({ seed }),
      (error: unknown) => error instanceof FakeSeedError && error.path === "$.lambda.functions[1]",
    );
  });

  it("allows the same name in another account", () => {
    createFakeBackend({ seed: { lambda: { functions: [{ name: "f" }, { name: "f", account: "111122223333" }] } } });
  });

  it("refuses a duplicate Sid in one policy", () => {
    const statement = { statementId: "s", action: "lambda:InvokeFunction", principal: "*" };
    const seed: FakeSeed = { lambda: { functions: [{ name: "f", statements: [statement, statement] }] } };
    assert.throws(
      () => createFakeBackend({ seed }),
      (error: unknown) =>
        error instanceof FakeSeedError &&
        error.path === "$.lambda.functions[0].statements[1]" &&
        /already exists/.test(error.message),
    );
  });

  it("refuses seeded statements past the policy size limit", () => {
    const statement = { statementId: "s", action: "lambda:InvokeFunction", principal: "*" };
    const seed: FakeSeed = { lambda: { functions: [{ name: "f", statements: [statement] }] } };
    assert.throws(() => createFakeBackend({ seed, limits: { lambdaPolicyBytes: 50 } }), FakeSeedError);
  });

  it("refuses the same permission twice", () => {
    const permission = { name: "p", resourceType: "ec2:Subnet", policyTemplate: template };
    assert.throws(
      () => createFakeBackend({ seed: { ram: { permissions: [permission, permission] } } }),
      (error: unknown) => error instanceof FakeSeedError && error.path === "$.ram.permissions[1]",
    );
  });
});

describe("loadFakeSeedFile", () => {
  it("loads a seed file", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "fake-seed-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, "seed.json");
    await writeFile(path, JSON.stringify({ lambda: { functions: [{ name: "from-file" }] } }));
    const backend = createFakeBackend({ seed: await loadFakeSeedFile(path) });
    await rejectsWithAws(backend.getLambdaPolicy({ function: fn("from-file") }, callOptions()), {
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      missing: undefined,
    });
  });

  it("names the file and the JSON path of a bad seed", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "fake-seed-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, "bad.json");
    await writeFile(path, JSON.stringify({ lambda: { functions: [{ name: "f", aliases: { live: "3" } }] } }));
    await assert.rejects(loadFakeSeedFile(path), (error: unknown) => {
      assert.ok(error instanceof FakeSeedError);
      assert.equal(error.path, "$.lambda.functions[0].aliases.live");
      assert.ok(error.message.includes(path));
      return true;
    });
  });

  it("names the file when it is not JSON or cannot be read", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "fake-seed-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, "broken.json");
    await writeFile(path, "{ not json");
    await assert.rejects(
      loadFakeSeedFile(path),
      (error: unknown) => error instanceof Error && error.message.includes(path),
    );
    const missing = join(dir, "missing.json");
    await assert.rejects(
      loadFakeSeedFile(missing),
      (error: unknown) => error instanceof Error && error.message.includes(missing),
    );
  });
});

describe("the demo seed", () => {
  it("has the function demo in 123456789012 / us-east-1 with version 1, alias live and no statements", async () => {
    const backend = createFakeBackend();
    const arn = "arn:aws:lambda:us-east-1:123456789012:function:demo";
    for (const qualifier of [undefined, "1", "live"]) {
      await rejectsWithAws(
        backend.getLambdaPolicy(
          {
            function: fn("demo", { functionName: arn, account: "123456789012", region: "us-east-1", partition: "aws" }),
            qualifier,
          },
          callOptions(),
        ),
        {
          service: "lambda",
          code: "ResourceNotFoundException",
          httpStatus: 404,
          missing: undefined,
        },
      );
    }
    await rejectsWithAws(
      backend.addLambdaPermission(
        { function: fn("demo"), statementId: "s", action: "lambda:InvokeFunction", principal: "*", qualifier: "2" },
        callOptions(),
      ),
      {
        service: "lambda",
        code: "ResourceNotFoundException",
        httpStatus: 404,
        missing: "qualifier",
        message: `Function not found: ${arn}:2`,
      },
    );
    const { statement } = await backend.addLambdaPermission(
      { function: fn("demo"), statementId: "s", action: "lambda:InvokeFunction", principal: "*", qualifier: "live" },
      callOptions(),
    );
    assert.equal(parseStatement(statement).Resource, `${arn}:live`);
  });

  it("has demo-permission (unattached), demo-attached (attached) and the AWS managed EC2 subnet permission", async () => {
    const backend = createFakeBackend();
    const get = (arn: string) => backend.getRamPermission({ permission: permissionRef(arn) }, callOptions());
    for (const name of ["demo-permission", "demo-attached"]) {
      const permission = await get(`arn:aws:ram:us-east-1:123456789012:permission/${name}`);
      assert.equal(permission.permissionType, "CUSTOMER_MANAGED");
      assert.equal(permission.resourceType, "ec2:Subnet");
    }
    const aws = await get("arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet");
    assert.equal(aws.permissionType, "AWS_MANAGED");
    assert.equal(aws.resourceType, "ec2:Subnet");
    await rejectsWithAws(
      backend.deleteRamPermission(
        { permission: permissionRef("arn:aws:ram:us-east-1:123456789012:permission/demo-attached"), clientToken: "t1" },
        callOptions(),
      ),
      { service: "ram", code: "OperationNotPermittedException", httpStatus: 400 },
    );
    const deleted = await backend.deleteRamPermission(
      { permission: permissionRef("arn:aws:ram:us-east-1:123456789012:permission/demo-permission"), clientToken: "t2" },
      callOptions(),
    );
    assert.equal(deleted.permissionStatus, "DELETED");
  });

  it("is the default seed of createFakeBackend", async () => {
    const listed = await createFakeBackend().listRamPermissions({ maxResults: 500 }, callOptions());
    const fromDemo = await createFakeBackend({ seed: demoSeed }).listRamPermissions({ maxResults: 500 }, callOptions());
    assert.deepEqual(
      listed.permissions.map((p) => p.arn),
      fromDemo.permissions.map((p) => p.arn),
    );
    assert.ok(
      listed.permissions.filter((p) => p.permissionType === "AWS_MANAGED").length >= 3,
      "a few AWS managed permissions to list",
    );
  });
});

describe("docs/fake-seed.md", () => {
  it("shows the demo seed as it is, and every JSON example there is a valid seed", async () => {
    const markdown = await readFile(new URL("../../../docs/fake-seed.md", import.meta.url), "utf8");
    const blocks = [...markdown.matchAll(/```json\n([\s\S]*?)```/g)].map(
      (match) => JSON.parse(match[1] ?? "") as unknown,
    );
    assert.ok(blocks.length >= 2);
    const seeds = blocks.map((block) => parseFakeSeed(block));
    for (const seed of seeds) createFakeBackend({ seed });
    assert.deepEqual(seeds[0], parseFakeSeed(demoSeed));
  });
});

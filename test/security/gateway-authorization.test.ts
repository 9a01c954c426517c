// Authorization and the audit trail through the whole gateway as main.ts
// composes it: API-key callers in groups, the example policy sets of docs/security.md,
// a seed with functions in two accounts and Regions. Decided by RPC,
// account, Region, function name pattern, RAM permission and the granted
// principal; default deny; a broken policy stops start-up; SIGHUP's reload
// while calls run; one audit event per mutation attempt and no secret in it.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { StartupError, type Gateway } from "../../src/gateway.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";

const examples = new URL("../../authz/examples/", import.meta.url);
const sha256 = (key: string): string => createHash("sha256").update(key).digest("hex");
const keyOf = (who: string): string => `key-of-${who}-${randomBytes(8).toString("hex")}`;

const seed = {
  lambda: {
    functions: [
      { name: "payments-api", account: "111122223333", region: "eu-west-1" },
      { name: "payments-worker", account: "111122223333", region: "us-east-1" },
      { name: "payments-api", account: "444455556666", region: "eu-west-1" },
      { name: "billing-api", account: "111122223333", region: "eu-west-1" },
    ],
  },
  ram: {
    permissions: [
      {
        name: "shared-subnets",
        account: "111122223333",
        region: "eu-west-1",
        resourceType: "ec2:Subnet",
        policyTemplate: { Effect: "Allow", Action: ["ec2:DescribeSubnets"] },
        creationTime: "2024-01-01T00:00:00Z",
      },
    ],
  },
};
const fn = (name: string, account = "111122223333", region = "eu-west-1"): string =>
  `arn:aws:lambda:${region}:${account}:function:${name}`;
const ram = "arn:aws:ram:eu-west-1:111122223333:permission/shared-subnets";

async function refusal(call: Promise<unknown>): Promise<{ code: Code; reason: string | undefined; message: string }> {
  try {
    await call;
  } catch (error) {
    const e = ConnectError.from(error);
    return { code: e.code, reason: e.findDetails(ErrorInfoSchema)[0]?.reason, message: e.rawMessage };
  }
  return { code: Code.Unknown, reason: "ALLOWED", message: "" };
}

describe("authorization and audit through the gateway", () => {
  let dir: string;
  let policies: string;
  let auditFile: string;
  let gateway: Gateway;
  const keys = {
    payments: keyOf("payments"),
    auditor: keyOf("auditor"),
    platform: keyOf("platform"),
    nobody: keyOf("nobody"),
  };
  const clients: Record<keyof typeof keys, Client<typeof PermissionService>> = {} as never;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pg-gw-authz-"));
    policies = join(dir, "policies");
    await mkdir(policies);
    for (const [set, file] of [
      ["read-only-auditors", "auditors.cedar"],
      ["team-scoped", "payments.cedar"],
      ["forbid-public-grants", "platform.cedar"],
    ] as const) {
      await copyFile(new URL(`${set}/${file}`, examples), join(policies, file));
    }
    await writeFile(
      join(dir, "keys"),
      [
        `${sha256(keys.payments)} team-payments payments`,
        `${sha256(keys.auditor)} audit-bot auditors`,
        `${sha256(keys.platform)} platform-admin platform`,
        `${sha256(keys.nobody)} stranger`,
        "",
      ].join("\n"),
    );
    await writeFile(join(dir, "seed.json"), JSON.stringify(seed));
    auditFile = join(dir, "audit.jsonl");
    gateway = await startConfiguredGateway({
      AUTH_MODE: "api-key",
      API_KEYS_FILE: join(dir, "keys"),
      AUTHZ_POLICIES: policies,
      AUTHZ_DEFAULT_ACCOUNT: "111122223333",
      AUDIT_SINK: auditFile,
      FAKE_SEED: join(dir, "seed.json"),
      AWS_REGION: "eu-west-1",
    });
    for (const who of Object.keys(keys) as (keyof typeof keys)[]) {
      clients[who] = createClient(
        PermissionService,
        createConnectTransport({
          baseUrl: gateway.url,
          httpVersion: "1.1",
          interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${keys[who]}`), next(req))],
        }),
      );
    }
  });
  after(async () => {
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  const add = (who: keyof typeof keys, functionName: string, extra: Record<string, unknown> = {}) =>
    clients[who].addLambdaPermission({
      functionName,
      statementId: "payments-s3",
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
      ...extra,
    });

  test("a team manages its own functions, in its account, in any Region", async () => {
    await add("payments", fn("payments-api"), { idempotencyKey: "secret-idempotency-key-1" });
    await add("payments", fn("payments-worker", "111122223333", "us-east-1"));
    // A bare name goes to the default Region and account (AWS_REGION, AUTHZ_DEFAULT_ACCOUNT).
    await clients.payments.getLambdaPolicy({ functionName: "payments-api" });
  });

  test("denied: another account, another name pattern, another team's statement", async () => {
    const denied = { code: Code.PermissionDenied, reason: "CALLER_NOT_ALLOWED" };
    const other = await refusal(add("payments", fn("payments-api", "444455556666")));
    assert.deepEqual({ code: other.code, reason: other.reason }, denied);
    assert.equal(
      other.message,
      `the caller is not allowed to call AddLambdaPermission on ${fn("payments-api", "444455556666")}`,
    );
    assert.doesNotMatch(other.message, /payments-own|@id|policy/i, "the message names no policy");
    assert.deepEqual(
      await refusal(add("payments", fn("billing-api"))).then(({ code, reason }) => ({ code, reason })),
      denied,
    );
    assert.deepEqual(
      await refusal(add("payments", fn("payments-api"), { statementId: "billing-s3" })).then(({ code, reason }) => ({
        code,
        reason,
      })),
      denied,
    );
  });

  test("auditors read everything and change nothing, RAM included", async () => {
    await clients.auditor.getLambdaPolicy({ functionName: fn("payments-api") });
    await clients.auditor.getRamPermission({ permissionArn: ram });
    await clients.auditor.listRamPermissions({});
    assert.equal(
      (await refusal(clients.auditor.deleteRamPermission({ permissionArn: ram }))).reason,
      "CALLER_NOT_ALLOWED",
    );
    assert.equal(
      (await refusal(add("auditor", fn("payments-api"), { statementId: "payments-x" }))).reason,
      "CALLER_NOT_ALLOWED",
    );
  });

  test("nobody grants to *, not even the platform team, which may do everything else", async () => {
    const publicGrant = await refusal(add("platform", fn("billing-api"), { statementId: "public", principal: "*" }));
    assert.equal(publicGrant.reason, "CALLER_NOT_ALLOWED");
    await add("platform", fn("billing-api"), { statementId: "platform-sns", principal: "sns.amazonaws.com" });
    await clients.platform.getRamPermission({ permissionArn: ram });
  });

  test("default deny: a caller no policy names may call nothing", async () => {
    assert.equal((await refusal(clients.nobody.listRamPermissions({}))).reason, "CALLER_NOT_ALLOWED");
    assert.equal(
      (await refusal(clients.nobody.getLambdaPolicy({ functionName: fn("payments-api") }))).reason,
      "CALLER_NOT_ALLOWED",
    );
  });

  test("a request that does not validate is INVALID_ARGUMENT before authorization", async () => {
    const invalid = await refusal(clients.nobody.getLambdaPolicy({ functionName: "not a name!" }));
    assert.equal(invalid.code, Code.InvalidArgument);
  });

  test("SIGHUP's reload swaps the policies while calls run, none dropped", async () => {
    const file = join(policies, "auditors.cedar");
    const original = await readFile(file, "utf8");
    let running = true;
    const outcomes: string[] = [];
    const load = (async () => {
      while (running) outcomes.push((await refusal(clients.auditor.listRamPermissions({}))).reason ?? "");
    })();
    // Deployed by rename, as docs/security.md says, so a reload never reads half a file.
    await writeFile(join(dir, "tmp.cedar"), "");
    await rename(join(dir, "tmp.cedar"), file);
    await gateway.reload();
    assert.equal(
      (await refusal(clients.auditor.listRamPermissions({}))).reason,
      "CALLER_NOT_ALLOWED",
      "auditors lost their permit",
    );
    await writeFile(join(dir, "tmp.cedar"), original);
    await rename(join(dir, "tmp.cedar"), file);
    await gateway.reload();
    await clients.auditor.listRamPermissions({});
    running = false;
    await load;
    assert.ok(outcomes.length > 0);
    assert.deepEqual(
      new Set(outcomes.filter((o) => o !== "ALLOWED" && o !== "CALLER_NOT_ALLOWED")),
      new Set(),
      "every call was allowed or denied, none failed",
    );
  });

  test("the audit trail: one event per mutation attempt, allowed or refused, reads not at all, no secret", async () => {
    const lines = (await readFile(auditFile, "utf8")).trim().split("\n");
    interface AuditLine {
      readonly rpc: string;
      readonly caller: { readonly id: string; readonly authMode: string };
      readonly resource: { readonly id: string };
      readonly grant: Record<string, unknown>;
      readonly authorization?: { readonly decision: string; readonly determiningPolicies: string[] };
      readonly event: "attempt" | "outcome";
      readonly outcome: string;
      readonly awsRequestId?: string;
    }
    const all = lines.map((line) => JSON.parse(line) as AuditLine);
    const events = all.filter((e) => e.event === "outcome");
    const allowedAdds = events.filter((e) => e.rpc === "AddLambdaPermission" && e.authorization?.decision === "allow");
    assert.equal(
      all.filter((e) => e.event === "attempt" && e.rpc === "AddLambdaPermission").length,
      allowedAdds.length,
      "an attempt event for each allowed AddLambdaPermission, none for refused ones",
    );
    assert.ok(
      events.every((e) =>
        ["AddLambdaPermission", "RemoveLambdaPermission", "DeleteRamPermission", "CreateRamPermission"].includes(e.rpc),
      ),
      "no reads",
    );
    const adds = events.filter((e) => e.rpc === "AddLambdaPermission");
    assert.equal(adds.length, 8, "every AddLambdaPermission attempt of the tests above (2 + 3 + 1 + 2)");
    const first = adds[0];
    assert.ok(first !== undefined);
    assert.equal(first.caller.id, "team-payments");
    assert.equal(first.caller.authMode, "api-key");
    assert.equal(first.resource.id, fn("payments-api"));
    assert.equal(first.grant["principal"], "s3.amazonaws.com");
    assert.equal(first.authorization?.decision, "allow");
    assert.deepEqual(first.authorization?.determiningPolicies, ["payments-own-functions"]);
    assert.equal(first.outcome, "OK");
    assert.ok(typeof first.awsRequestId === "string" && first.awsRequestId !== "");
    const refused = adds.find((e) => e.authorization?.decision === "deny");
    assert.equal(refused?.outcome, "PERMISSION_DENIED", "a refused attempt is recorded with its code");
    const deleted = events.find((e) => e.rpc === "DeleteRamPermission");
    assert.equal(deleted?.authorization?.decision, "deny");
    const text = lines.join("\n");
    for (const secret of [...Object.values(keys), "secret-idempotency-key-1"])
      assert.ok(!text.includes(secret), "no key or token in clear");
  });
});

describe("a policy that fails schema validation", () => {
  test("stops start-up naming the policy and the error", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pg-gw-badpolicy-"));
    try {
      await writeFile(
        join(dir, "bad.cedar"),
        '@id("typo")\npermit (principal, action, resource) when { resource.nmae == "x" };\n',
      );
      await assert.rejects(startConfiguredGateway({ AUTHZ_POLICIES: dir }), (error) => {
        assert.ok(error instanceof StartupError);
        assert.match(error.message, /typo/);
        assert.match(error.message, /bad\.cedar/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

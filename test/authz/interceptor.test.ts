// The authorization interceptor in a real Connect server on loopback, called
// by a real Connect client: allowed calls reach the handler with the
// decision in their context, refused ones get PERMISSION_DENIED
// CALLER_NOT_ALLOWED naming action and resource only, bad requests keep
// their own error, and a reload under load drops no call.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { Code, ConnectError, createClient, type UnaryRequest } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { BadRequestSchema, ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import type { Authorizer } from "../../src/authz/authorizer.js";
import { createCedarAuthorizer } from "../../src/authz/cedar/cedar-authorizer.js";
import { createAuthorizationInterceptor } from "../../src/authz/interceptor.js";
import { authorizationRequestFor, type AuthorizationRequest } from "../../src/authz/request.js";
import type { RpcName } from "../../src/rpc/rpc-table.js";
import { silentLogger } from "../../src/logger.js";
import { createRecordingLogger } from "../support/recording-logger.js";
import { DEFAULTS, parseMessage, policyDir, startTinyServer, testCallerOf, trivialService } from "./fixtures.js";

const POLICIES = `
@id("payments-manage")
permit (principal in PermissionGateway::Group::"payments", action in PermissionGateway::Action::"LambdaPolicy", resource)
when { resource.name like "payments-*" };

@id("no-public-grants")
forbid (principal, action == PermissionGateway::Action::"AddLambdaPermission", resource)
when { context.principal == "*" };
`;

const resolve = (req: UnaryRequest): AuthorizationRequest => {
  return authorizationRequestFor(parseMessage(req.method.name as RpcName, req.message), testCallerOf(req), DEFAULTS);
};

async function setUp(
  t: TestContext,
  options: { authorizer?: Pick<Authorizer, "authorize">; resolve?: typeof resolve } = {},
) {
  const dir = await policyDir(t, { "p.cedar": POLICIES });
  const authorizer = await createCedarAuthorizer({ policies: dir, logger: silentLogger });
  const logger = createRecordingLogger();
  const service = trivialService();
  const interceptor = createAuthorizationInterceptor({
    authorizer: options.authorizer ?? authorizer,
    resolve: options.resolve ?? resolve,
    logger,
  });
  const server = await startTinyServer(t, service.impl, [interceptor]);
  const client = createClient(PermissionService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
  return { client, service, logger, dir, authorizer };
}

const team = { headers: { "x-test-caller": "pat", "x-test-groups": "payments" } };
const add = (functionName: string, principal = "s3.amazonaws.com") => ({
  functionName,
  statementId: "s3-invoke",
  action: "lambda:InvokeFunction",
  principal,
});

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  return call.then(
    () => assert.fail("the call succeeded"),
    (error: unknown) => ConnectError.from(error),
  );
}

describe("authorization interceptor", () => {
  test("an allowed call reaches its handler with the decision in its context", async (t) => {
    const { client, service } = await setUp(t);
    const response = await client.addLambdaPermission(add("payments-api"), team);
    assert.deepEqual(JSON.parse(response.statement), { decision: "allow", determiningPolicies: ["payments-manage"] });
    assert.deepEqual(service.reached, ["AddLambdaPermission"]);
  });

  test("a refusal is PERMISSION_DENIED CALLER_NOT_ALLOWED naming action and resource, and nothing of the policies", async (t) => {
    const { client, service, logger } = await setUp(t);
    const cases = [
      {
        call: client.addLambdaPermission(add("payments-api", "*"), team),
        action: "AddLambdaPermission",
        policies: ["no-public-grants"],
      },
      {
        call: client.removeLambdaPermission({ functionName: "orders-api", statementId: "s" }, team),
        action: "RemoveLambdaPermission",
        policies: [],
      },
      { call: client.getLambdaPolicy({ functionName: "payments-api" }), action: "GetLambdaPolicy", policies: [] },
    ];
    for (const c of cases) {
      const error = await failure(c.call);
      assert.equal(error.code, Code.PermissionDenied, error.message);
      const [info, ...more] = error.findDetails(ErrorInfoSchema);
      assert.equal(more.length, 0);
      assert.equal(info?.reason, "CALLER_NOT_ALLOWED");
      assert.equal(info?.domain, "permission-gateway");
      assert.equal(info?.metadata["action"], c.action);
      const resource = info?.metadata["resource"] ?? "";
      assert.match(resource, /^arn:aws:lambda:us-east-1:123456789012:function:(payments|orders)-api$/);
      assert.equal(error.rawMessage, `the caller is not allowed to call ${c.action} on ${resource}`);
      for (const id of ["payments-manage", "no-public-grants"]) assert.ok(!JSON.stringify(error).includes(id));
      const logged = logger.lines.find(
        (entry) => entry.message === "call not allowed" && entry.fields?.["action"] === c.action,
      );
      assert.deepEqual(logged?.fields?.["determiningPolicies"], c.policies, "the operator's log names the policies");
    }
    assert.deepEqual(service.reached, [], "no refused call reached its handler");
  });

  test("a request that fails validation keeps its INVALID_ARGUMENT and reaches nothing", async (t) => {
    const { client, service } = await setUp(t);
    const error = await failure(
      client.removeLambdaPermission({ functionName: "payments-api", statementId: "bad id!" }, team),
    );
    assert.equal(error.code, Code.InvalidArgument);
    assert.deepEqual(
      error.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field)),
      ["statementId"],
    );
    assert.deepEqual(service.reached, []);
  });

  test("a resolve or an authorizer that breaks is INTERNAL with a generic message, logged, and fails closed", async (t) => {
    const brokenResolve = await setUp(t, {
      resolve: () => {
        throw new Error("resolve bug");
      },
    });
    const unevaluable = await setUp(t, {
      authorizer: {
        authorize: () => {
          throw new Error("cedar bug");
        },
      },
    });
    for (const { client, service, logger } of [brokenResolve, unevaluable]) {
      const error = await failure(client.addLambdaPermission(add("payments-api"), team));
      assert.equal(error.code, Code.Internal);
      assert.equal(error.rawMessage, "internal error");
      assert.ok(logger.lines.some((entry) => entry.level === "error" && entry.message === "unexpected failure"));
      assert.deepEqual(service.reached, []);
    }
  });

  test("policies reloaded while calls run: no call is dropped or decided by a mixture", async (t) => {
    const set = (name: string): string =>
      [1, 2]
        .map((n) => `@id("${name}${n}") permit (principal in PermissionGateway::Group::"payments", action, resource);`)
        .join("\n");
    const { client, dir, authorizer } = await setUp(t);
    await writeFile(join(dir, "p.cedar"), set("a"));
    assert.deepEqual(await authorizer.reload(), { ok: true });

    const seen = new Set<string>();
    let reloading = true;
    const callers = Array.from({ length: 8 }, async () => {
      let calls = 0;
      while (reloading || calls < 25) {
        const response = await client.addLambdaPermission(add("any-function"), team);
        const decision = JSON.parse(response.statement) as { decision: string; determiningPolicies: string[] };
        const ids = [...decision.determiningPolicies].sort().join(",");
        assert.ok(decision.decision === "allow" && (ids === "a1,a2" || ids === "b1,b2"), `decided by ${ids}`);
        seen.add(ids);
        calls++;
      }
    });
    for (let round = 0; round < 10; round++) {
      await writeFile(join(dir, "p.cedar"), set(round % 2 === 0 ? "b" : "a"));
      assert.deepEqual(await authorizer.reload(), { ok: true });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    reloading = false;
    await Promise.all(callers);
    assert.deepEqual([...seen].sort(), ["a1,a2", "b1,b2"]);
  });
});

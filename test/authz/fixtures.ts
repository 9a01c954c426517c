// Shared by the authorization and audit tests: parsed inputs made the way
// the gateway makes them (a request message through src/validation.ts),
// policy directories in a temp folder, and a tiny Connect server.
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { fromJson, type JsonObject, type Message } from "@bufbuild/protobuf";
import type { ConnectRouter, ContextValues, Interceptor, ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import type { Authorizer } from "../../src/authz/authorizer.js";
import { authorizationDecisionKey } from "../../src/authz/interceptor.js";
import { authorizationRequestFor, type AuthorizationRequest, type Caller } from "../../src/authz/request.js";
import type { ResourceDefaults } from "../../src/authz/resource.js";
import { buildCallContext, callContextOf, type CallProgress, type ParsedCall } from "../../src/rpc/call-context.js";
import { rowOf, type RpcName } from "../../src/rpc/rpc-table.js";

export const DEFAULTS: ResourceDefaults = { region: "us-east-1", partition: "aws", account: "123456789012" };
export const NO_ACCOUNT: ResourceDefaults = { region: "us-east-1", partition: "aws" };

const localNameOf = <R extends RpcName>(rpc: R): Uncapitalize<R> =>
  (rpc.charAt(0).toLowerCase() + rpc.slice(1)) as Uncapitalize<R>;

/** Client tokens the tests' calls generate. */
export const TEST_CLIENT_TOKEN = "test-generated-client-token";

/**
 * The validated call of an RPC from its request message, through the RPC
 * table as the gateway's call context makes it (throws
 * RequestValidationError).
 */
export function parseMessage(rpc: RpcName, message: Message): ParsedCall {
  const row = rowOf(localNameOf(rpc));
  if (row === undefined) throw new Error(`no RPC row for ${rpc}`);
  const context = buildCallContext(row, message, { newClientToken: () => TEST_CLIENT_TOKEN });
  if (context.call === undefined) throw context.invalid;
  return context.call;
}

/** The validated call of an RPC, from its request in protobuf JSON form. */
export function parsedCall(rpc: RpcName, json: JsonObject): ParsedCall {
  return parseMessage(rpc, fromJson(PermissionService.method[localNameOf(rpc)].input, json));
}

export function requestFor(
  rpc: RpcName,
  json: JsonObject,
  caller: Caller,
  defaults: ResourceDefaults = DEFAULTS,
): AuthorizationRequest {
  return authorizationRequestFor(parsedCall(rpc, json), caller, defaults);
}

/** For a test's handler standing in for the service: what the service would have learned, for the audit trail. */
export function handlerProgress(values: ContextValues): CallProgress {
  const context = callContextOf(values);
  if (context === undefined) throw new Error("the call has no call context: createCallContextInterceptor is missing");
  return context.progress;
}

/** A temp directory holding `files` (relative path -> text), removed after the test. */
export async function policyDir(t: TestContext, files: Readonly<Record<string, string>>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pg-authz-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

export interface TinyServer {
  readonly url: string;
  close(): Promise<void>;
}

/** PermissionService with `impl` behind `interceptors`, on 127.0.0.1:0, closed after the test. */
export async function startTinyServer(
  t: TestContext,
  impl: Partial<ServiceImpl<typeof PermissionService>>,
  interceptors: Interceptor[],
): Promise<TinyServer> {
  const handler = connectNodeAdapter({
    routes: (router: ConnectRouter) => router.service(PermissionService, impl),
    interceptors,
    jsonOptions: { ignoreUnknownFields: false },
  });
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.after(close);
  return { url: `http://127.0.0.1:${port}`, close };
}

/** Stands in for authentication: the caller named by x-test-caller, in the groups of x-test-groups. */
export function testCallerOf(req: { readonly header: Headers }): Caller {
  const groups = req.header.get("x-test-groups");
  return { id: req.header.get("x-test-caller") ?? "anonymous", groups: groups === null ? [] : groups.split(",") };
}

export interface TrivialService {
  readonly impl: ServiceImpl<typeof PermissionService>;
  /** RPC names in the order their handler ran. */
  readonly reached: string[];
}

/**
 * A PermissionService that does nothing but count, and answer
 * AddLambdaPermission with the authorization decision it was handed (as its
 * `statement`), so a client can see which policy set decided its call.
 */
export function trivialService(): TrivialService {
  const reached: string[] = [];
  const answer = <T>(rpc: string, response: T): T => {
    reached.push(rpc);
    return response;
  };
  const impl: ServiceImpl<typeof PermissionService> = {
    removeLambdaPermission: () => answer("RemoveLambdaPermission", {}),
    addLambdaPermission: (_request, context) =>
      answer("AddLambdaPermission", {
        statement: JSON.stringify(context.values.get(authorizationDecisionKey) ?? null),
      }),
    getLambdaPolicy: () => answer("GetLambdaPolicy", { policy: "{}", revisionId: "r-1" }),
    deleteRamPermission: (request) =>
      answer("DeleteRamPermission", { returnValue: true, clientToken: request.clientToken ?? "" }),
    createRamPermission: (request) => answer("CreateRamPermission", { clientToken: request.clientToken ?? "" }),
    getRamPermission: () => answer("GetRamPermission", {}),
    listRamPermissions: () => answer("ListRamPermissions", {}),
  };
  return { impl, reached };
}

/** A Lambda statement as AddPermission writes it for an Alexa skill: its condition holds the event source token. */
export function alexaStatement(
  eventSourceToken: string,
  functionArn = "arn:aws:lambda:us-east-1:123456789012:function:payments-api",
) {
  return {
    Sid: "alexa",
    Effect: "Allow",
    Principal: { Service: "alexa-appkit.amazon.com" },
    Action: "lambda:InvokeFunction",
    Resource: functionArn,
    Condition: { StringEquals: { "lambda:EventSourceToken": eventSourceToken } },
  };
}

/** One expected decision: the determining policies, where [] with allowed false is the default deny. */
export interface DecisionCase {
  readonly name?: string;
  readonly caller: Caller;
  readonly rpc: RpcName;
  readonly json: JsonObject;
  readonly defaults?: ResourceDefaults;
  readonly allowed: boolean;
  readonly determining: readonly string[];
}

export function assertDecisions(
  authorizer: Pick<Authorizer, "authorize">,
  cases: readonly DecisionCase[],
  defaults: ResourceDefaults = DEFAULTS,
): void {
  for (const c of cases) {
    const decision = authorizer.authorize(requestFor(c.rpc, c.json, c.caller, c.defaults ?? defaults));
    assert.deepEqual(
      { allowed: decision.allowed, determining: decision.determiningPolicies, errors: decision.errors },
      { allowed: c.allowed, determining: c.determining, errors: [] },
      c.name ?? `${c.caller.id} ${c.rpc} ${JSON.stringify(c.json)}`,
    );
  }
}

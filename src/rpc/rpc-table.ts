// The RPCs of PermissionService, one row each: how a request is parsed, what
// the call acts on, what authorization and the audit trail see of it,
// whether it mutates, which token makes it idempotent, which backend call it
// makes and how the answer is built. Everyone else reads the row: the
// generic path in src/service.ts runs every row the same way, authorization
// (src/authz/request.ts) and the audit trail (src/audit/event.ts) take the
// row's resource and views, observability reads its name. RpcTable is keyed
// by the generated service's methods, so a missing or extra row fails the
// typecheck (test/rpc/rpc-table.type-test.ts).
import { create, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  PermissionService,
  PermissionStatus,
  PermissionType,
  RamPermissionSchema,
  type RamPermission as RamPermissionMessage,
} from "../../gen/permission/v1/permission_pb.js";
import type { RpcResource } from "../authz/resource.js";
import { definedOnly } from "../util/defined-only.js";
import type {
  AddLambdaPermissionInput,
  CallOptions,
  GetRamPermissionInput,
  ListRamPermissionsInput,
  OutputMetadata,
  PermissionBackend,
  RamPermission,
  RamPermissionStatus,
  RemoveLambdaPermissionInput,
  RemoveLambdaPermissionOutput,
} from "../backend/backend.js";
import { isAwsApiError } from "../backend/errors.js";
import type { ErrorSubject } from "../errors.js";
import { CLIENT_TOKEN_HEADER } from "../idempotency/guard-port.js";
import {
  parseAddLambdaPermissionRequest,
  parseCreateRamPermissionRequest,
  parseDeleteRamPermissionRequest,
  parseGetLambdaPolicyRequest,
  parseGetRamPermissionRequest,
  parseListRamPermissionsRequest,
  parseRemoveLambdaPermissionRequest,
} from "../validation.js";

type Methods = typeof PermissionService.method;
/** The service's methods by local name: "removeLambdaPermission", ... */
export type RpcMethodName = keyof Methods;
/** The RPC names of permission.v1.PermissionService ("RemoveLambdaPermission", ...), which are also the Cedar action IDs. */
export type RpcName = Capitalize<RpcMethodName>;

/** The idempotency token of one call and the request field it came from. */
export interface CallToken {
  readonly value: string;
  /** Local (camelCase) name of the request field, left out of the fingerprint. */
  readonly field: "idempotencyKey" | "clientToken";
  /** Set when the token goes back to the caller in this response header (a RAM client token). */
  readonly echoHeader?: string | undefined;
  /** The gateway made the token up: the caller knows it only once the header was sent. */
  readonly generated: boolean;
}

export type AuthorizationContextValue = string | boolean | number | readonly string[];
/** The request fields a policy may look at: exactly the attributes of the action's context in the Cedar schema. */
export type AuthorizationContext = Readonly<Record<string, AuthorizationContextValue>>;

/** What a row needs besides its request. */
export interface RowTools {
  readonly newClientToken: () => string;
}

/** One RPC: everything the gateway says about it, in one place. */
export interface RpcRow<D extends DescMethodUnary, P, R extends OutputMetadata> {
  readonly method: D;
  /** Mutations are audited and may carry a token; reads never touch the store. From the proto's idempotency_level. */
  readonly mutation: boolean;
  /** Named in NOT_FOUND, FAILED_PRECONDITION and quota details; from the raw request, so it exists before validation. */
  subject(request: MessageShape<D["input"]>): ErrorSubject;
  /** Validation: the backend's input, or a RequestValidationError naming every broken field. */
  parse(request: MessageShape<D["input"]>): P;
  /** What the call acts on, for authorization and the audit trail. */
  resource(parsed: P): RpcResource;
  /** What authorization policies see of the request (the action's context); never a token. */
  authorization(parsed: P): AuthorizationContext;
  /** What the audit trail records of the request: its grant fields; secrets only as digests (`digest`). */
  audit(parsed: P, digest: (secret: string) => string): Readonly<Record<string, unknown>>;
  /** The token that makes the call idempotent, when it has one. */
  token(parsed: P, tools: RowTools): CallToken | undefined;
  /** The backend call; `token` is `token()`'s value, so a generated token reaches AWS. */
  execute(backend: PermissionBackend, parsed: P, options: CallOptions, token: string | undefined): Promise<R>;
  respond(result: R): MessageInitShape<D["output"]>;
}

/** A row, with `mutation` read from the method's idempotency_level (NO_SIDE_EFFECTS is a read). */
function row<D extends DescMethodUnary, P, R extends OutputMetadata>(
  definition: Omit<RpcRow<D, P, R>, "mutation">,
): RpcRow<D, P, R> {
  return {
    ...definition,
    mutation: definition.method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS,
  };
}

/** The table's type: exactly one row per method of the generated service. */
export type RpcTable = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each row has its own parsed type
  readonly [K in RpcMethodName]: RpcRow<Methods[K], any, OutputMetadata>;
};

const lambdaSubject = (functionName: string): ErrorSubject => ({
  resourceType: "lambda:function",
  resourceName: functionName,
});
const ramSubject = (name: string): ErrorSubject => ({ resourceType: "ram:permission", resourceName: name });

const idempotencyKeyOf = (key: string | undefined): CallToken | undefined =>
  key === undefined ? undefined : { value: key, field: "idempotencyKey", generated: false };

/** RAM mutations always carry a clientToken: the caller's, or one made up and told in a header. */
const clientTokenOf = (given: string | undefined, tools: RowTools): CallToken =>
  given === undefined
    ? { value: tools.newClientToken(), field: "clientToken", echoHeader: CLIENT_TOKEN_HEADER, generated: true }
    : { value: given, field: "clientToken", echoHeader: CLIENT_TOKEN_HEADER, generated: false };

function requireToken(token: string | undefined): string {
  if (token === undefined) throw new Error("a RAM mutation reached its backend call without a client token");
  return token;
}

const nothing = (): AuthorizationContext => ({});

const addLambdaPermissionContext = (input: AddLambdaPermissionInput): AuthorizationContext =>
  definedOnly({
    statementId: input.statementId,
    action: input.action,
    principal: input.principal,
    sourceArn: input.sourceArn,
    sourceAccount: input.sourceAccount,
    principalOrgId: input.principalOrgId,
    functionUrlAuthType: input.functionUrlAuthType,
    // Whether there is one, never its value: the token is a secret of the event source.
    hasEventSourceToken: input.eventSourceToken !== undefined,
    invokedViaFunctionUrl: input.invokedViaFunctionUrl,
    revisionId: input.revisionId,
  });

const removeLambdaPermissionContext = (input: RemoveLambdaPermissionInput): AuthorizationContext =>
  definedOnly({ statementId: input.statementId, revisionId: input.revisionId });
const getRamPermissionContext = (input: GetRamPermissionInput): AuthorizationContext =>
  definedOnly({ permissionVersion: input.permissionVersion });
const listRamPermissionsContext = (input: ListRamPermissionsInput): AuthorizationContext =>
  definedOnly({ resourceType: input.resourceType, permissionType: input.permissionType });

export const rpcTable = {
  removeLambdaPermission: row({
    method: PermissionService.method.removeLambdaPermission,
    subject: (request) => lambdaSubject(request.functionName),
    parse: parseRemoveLambdaPermissionRequest,
    resource: (parsed) => ({
      kind: "lambda-function",
      function: parsed.input.function,
      qualifier: parsed.input.qualifier,
    }),
    authorization: (parsed) => removeLambdaPermissionContext(parsed.input),
    audit: (parsed) => removeLambdaPermissionContext(parsed.input),
    token: (parsed) => idempotencyKeyOf(parsed.idempotencyKey),
    async execute(backend, parsed, options): Promise<RemoveLambdaPermissionOutput> {
      try {
        return await backend.removeLambdaPermission(parsed.input, options);
      } catch (error) {
        // AIP-135 allow_missing: a statement (or the whole policy) already
        // gone is success; a missing function or qualifier, or an answer that
        // does not say which, is still an error.
        const alreadyGone = isAwsApiError(error) && (error.missing === "statement" || error.missing === "policy");
        if (parsed.allowMissing && alreadyGone) return {};
        throw error;
      }
    },
    respond: () => ({}),
  }),

  addLambdaPermission: row({
    method: PermissionService.method.addLambdaPermission,
    subject: (request) => lambdaSubject(request.functionName),
    parse: parseAddLambdaPermissionRequest,
    resource: (parsed) => ({
      kind: "lambda-function",
      function: parsed.input.function,
      qualifier: parsed.input.qualifier,
    }),
    authorization: (parsed) => addLambdaPermissionContext(parsed.input),
    audit(parsed, digest) {
      // The digest of the event source token instead of whether there is one.
      const grant: Record<string, unknown> = { ...addLambdaPermissionContext(parsed.input) };
      delete grant["hasEventSourceToken"];
      const token = parsed.input.eventSourceToken;
      if (token !== undefined) grant["eventSourceToken"] = digest(token);
      return grant;
    },
    token: (parsed) => idempotencyKeyOf(parsed.idempotencyKey),
    execute: (backend, parsed, options) => backend.addLambdaPermission(parsed.input, options),
    respond: (output) => ({ statement: output.statement }),
  }),

  getLambdaPolicy: row({
    method: PermissionService.method.getLambdaPolicy,
    subject: (request) => lambdaSubject(request.functionName),
    parse: parseGetLambdaPolicyRequest,
    resource: (input) => ({ kind: "lambda-function", function: input.function, qualifier: input.qualifier }),
    authorization: nothing,
    audit: nothing,
    token: () => undefined,
    execute: (backend, input, options) => backend.getLambdaPolicy(input, options),
    respond: (output) => ({ policy: output.policy, revisionId: output.revisionId }),
  }),

  deleteRamPermission: row({
    method: PermissionService.method.deleteRamPermission,
    subject: (request) => ramSubject(request.permissionArn),
    parse: parseDeleteRamPermissionRequest,
    resource: (parsed) => ({ kind: "ram-permission", permission: parsed.permission }),
    authorization: nothing,
    audit: nothing,
    token: (parsed, tools) => clientTokenOf(parsed.clientToken, tools),
    execute: (backend, parsed, options, token) =>
      backend.deleteRamPermission({ permission: parsed.permission, clientToken: requireToken(token) }, options),
    respond: (output) => ({
      returnValue: output.returnValue,
      clientToken: output.clientToken,
      permissionStatus: toPermissionStatus(output.permissionStatus),
    }),
  }),

  createRamPermission: row({
    method: PermissionService.method.createRamPermission,
    subject: (request) => ramSubject(request.name),
    parse: parseCreateRamPermissionRequest,
    // The permission that will exist, in the account and Region the call goes to.
    resource: (parsed) => ({ kind: "new-ram-permission", name: parsed.name }),
    authorization: (parsed) => ({ resourceType: parsed.resourceType, tagKeys: Object.keys(parsed.tags) }),
    audit: (parsed) => ({
      resourceType: parsed.resourceType,
      policyTemplate: parsed.policyTemplate,
      tags: parsed.tags,
    }),
    token: (parsed, tools) => clientTokenOf(parsed.clientToken, tools),
    execute: (backend, parsed, options, token) =>
      backend.createRamPermission(
        {
          name: parsed.name,
          resourceType: parsed.resourceType,
          policyTemplate: parsed.policyTemplate,
          tags: parsed.tags,
          clientToken: requireToken(token),
        },
        options,
      ),
    respond: (output) => ({ permission: toRamPermissionMessage(output.permission), clientToken: output.clientToken }),
  }),

  getRamPermission: row({
    method: PermissionService.method.getRamPermission,
    subject: (request) => ramSubject(request.permissionArn),
    parse: parseGetRamPermissionRequest,
    resource: (input) => ({ kind: "ram-permission", permission: input.permission }),
    authorization: getRamPermissionContext,
    audit: getRamPermissionContext,
    token: () => undefined,
    execute: (backend, input, options) => backend.getRamPermission(input, options),
    respond: (permission) => ({ permission: toRamPermissionMessage(permission) }),
  }),

  listRamPermissions: row({
    method: PermissionService.method.listRamPermissions,
    subject: (request) => ramSubject(request.resourceType),
    parse: parseListRamPermissionsRequest,
    // No single permission: what one account sees in one Region.
    resource: () => ({ kind: "ram-permission-catalog" }),
    authorization: listRamPermissionsContext,
    audit: listRamPermissionsContext,
    token: () => undefined,
    execute: (backend, input, options) => backend.listRamPermissions(input, options),
    respond: (output) => ({
      permissions: output.permissions.map(toRamPermissionMessage),
      nextPageToken: output.nextToken ?? "",
    }),
  }),
} as const satisfies RpcTable;

/** Any row of the table, for code that runs them all the same way. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each row has its own parsed type
export type AnyRpcRow = RpcRow<DescMethodUnary, any, OutputMetadata>;

/** The row of a method, by the method's local name ("removeLambdaPermission"). */
export function rowOf(localName: string): AnyRpcRow | undefined {
  return Object.hasOwn(rpcTable, localName) ? (rpcTable[localName as RpcMethodName] as AnyRpcRow) : undefined;
}

const permissionStatusByName: Record<RamPermissionStatus, PermissionStatus> = {
  ATTACHABLE: PermissionStatus.ATTACHABLE,
  UNATTACHABLE: PermissionStatus.UNATTACHABLE,
  DELETING: PermissionStatus.DELETING,
  DELETED: PermissionStatus.DELETED,
};

function toPermissionStatus(status: RamPermissionStatus): PermissionStatus {
  return permissionStatusByName[status];
}

function toRamPermissionMessage(permission: RamPermission): RamPermissionMessage {
  return create(RamPermissionSchema, {
    arn: permission.arn,
    name: permission.name,
    version: permission.version,
    defaultVersion: permission.defaultVersion,
    resourceType: permission.resourceType,
    status: toPermissionStatus(permission.status),
    permissionType:
      permission.permissionType === "AWS_MANAGED" ? PermissionType.AWS_MANAGED : PermissionType.CUSTOMER_MANAGED,
    policyTemplate: permission.policyTemplate,
    creationTime: timestampFromDate(permission.creationTime),
    lastUpdatedTime: timestampFromDate(permission.lastUpdatedTime),
    tags: { ...permission.tags },
  });
}

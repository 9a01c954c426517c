// The seven RPCs of PermissionService, one row each: how a request is
// parsed, what it is about (for errors, authorization and audit), which token
// makes it idempotent, which backend call it makes and how the answer is
// built. The generic path in src/service.ts runs every row the same way, so
// adding an RPC is adding a row.
import { create, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  PermissionService,
  PermissionStatus,
  PermissionType,
  RamPermissionSchema,
  type RamPermission as RamPermissionMessage,
} from "../../gen/permission/v1/permission_pb.js";
import type {
  CallOptions,
  LambdaFunctionRef,
  PermissionBackend,
  RamPermission,
  RamPermissionRef,
  RamPermissionStatus,
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

/** The idempotency token of one call and the request field it came from. */
export interface CallToken {
  readonly value: string;
  /** Local (camelCase) name of the request field, left out of the fingerprint. */
  readonly field: "idempotencyKey" | "clientToken";
  /** Set when the gateway made the token up; it is echoed in the `client-token` header. */
  readonly echoHeader?: string | undefined;
}

/** What a call is about, for error details, authorization and the audit trail. */
export type RpcResource =
  | { readonly kind: "lambda-function"; readonly function: LambdaFunctionRef; readonly qualifier?: string | undefined }
  | { readonly kind: "ram-permission"; readonly permission: RamPermissionRef }
  | { readonly kind: "ram-account"; readonly name?: string | undefined };

/** What a row needs besides its request. */
export interface RowTools {
  readonly newClientToken: () => string;
}

export interface RpcRow<D extends DescMethodUnary, P, R> {
  readonly method: D;
  /** Mutations are audited and may carry a token; reads never touch the store. */
  readonly mutation: boolean;
  /** Named in NOT_FOUND, FAILED_PRECONDITION and quota details; from the raw request, so it exists before validation. */
  subject(request: MessageShape<D["input"]>): ErrorSubject;
  /** Validation: the backend's input, or a RequestValidationError naming every broken field. */
  parse(request: MessageShape<D["input"]>): P;
  resource(parsed: P): RpcResource;
  /** What authorization and the audit trail see of the request: the backend's input, without tokens and flags. */
  authorizationInput(parsed: P): unknown;
  /** The token that makes the call idempotent, when it has one. */
  token(parsed: P, tools: RowTools): CallToken | undefined;
  /** The backend call; `token` is `token()`'s value, so a generated token reaches AWS. */
  execute(backend: PermissionBackend, parsed: P, options: CallOptions, token: string | undefined): Promise<R>;
  respond(result: R): MessageInitShape<D["output"]>;
}

function row<D extends DescMethodUnary, P, R>(definition: RpcRow<D, P, R>): RpcRow<D, P, R> {
  return definition;
}

const lambdaSubject = (functionName: string): ErrorSubject => ({
  resourceType: "lambda:function",
  resourceName: functionName,
});
const ramSubject = (name: string): ErrorSubject => ({ resourceType: "ram:permission", resourceName: name });

const idempotencyKeyOf = (key: string | undefined): CallToken | undefined =>
  key === undefined ? undefined : { value: key, field: "idempotencyKey" };

/** RAM mutations always carry a clientToken: the caller's, or one made up and told in a header. */
const clientTokenOf = (given: string | undefined, tools: RowTools): CallToken =>
  given === undefined
    ? { value: tools.newClientToken(), field: "clientToken", echoHeader: CLIENT_TOKEN_HEADER }
    : { value: given, field: "clientToken", echoHeader: CLIENT_TOKEN_HEADER };

function requireToken(token: string | undefined): string {
  if (token === undefined) throw new Error("a RAM mutation reached its backend call without a client token");
  return token;
}

export const rpcTable = {
  removeLambdaPermission: row({
    method: PermissionService.method.removeLambdaPermission,
    mutation: true,
    subject: (request) => lambdaSubject(request.functionName),
    parse: parseRemoveLambdaPermissionRequest,
    resource: (parsed) => ({
      kind: "lambda-function",
      function: parsed.input.function,
      qualifier: parsed.input.qualifier,
    }),
    authorizationInput: (parsed) => parsed.input,
    token: (parsed) => idempotencyKeyOf(parsed.idempotencyKey),
    async execute(backend, parsed, options) {
      try {
        return await backend.removeLambdaPermission(parsed.input, options);
      } catch (error) {
        // AIP-135 allow_missing: a statement (or the whole policy) already
        // gone is success; a missing function or qualifier, or an answer that
        // does not say which, is still an error.
        const alreadyGone = isAwsApiError(error) && (error.missing === "statement" || error.missing === "policy");
        if (parsed.allowMissing && alreadyGone) return undefined;
        throw error;
      }
    },
    respond: () => ({}),
  }),

  addLambdaPermission: row({
    method: PermissionService.method.addLambdaPermission,
    mutation: true,
    subject: (request) => lambdaSubject(request.functionName),
    parse: parseAddLambdaPermissionRequest,
    resource: (parsed) => ({
      kind: "lambda-function",
      function: parsed.input.function,
      qualifier: parsed.input.qualifier,
    }),
    authorizationInput: (parsed) => parsed.input,
    token: (parsed) => idempotencyKeyOf(parsed.idempotencyKey),
    execute: (backend, parsed, options) => backend.addLambdaPermission(parsed.input, options),
    respond: (output) => ({ statement: output.statement }),
  }),

  getLambdaPolicy: row({
    method: PermissionService.method.getLambdaPolicy,
    mutation: false,
    subject: (request) => lambdaSubject(request.functionName),
    parse: parseGetLambdaPolicyRequest,
    resource: (input) => ({ kind: "lambda-function", function: input.function, qualifier: input.qualifier }),
    authorizationInput: (input) => input,
    token: () => undefined,
    execute: (backend, input, options) => backend.getLambdaPolicy(input, options),
    respond: (output) => ({ policy: output.policy, revisionId: output.revisionId }),
  }),

  deleteRamPermission: row({
    method: PermissionService.method.deleteRamPermission,
    mutation: true,
    subject: (request) => ramSubject(request.permissionArn),
    parse: parseDeleteRamPermissionRequest,
    resource: (parsed) => ({ kind: "ram-permission", permission: parsed.permission }),
    authorizationInput: (parsed) => parsed,
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
    mutation: true,
    subject: (request) => ramSubject(request.name),
    parse: parseCreateRamPermissionRequest,
    resource: (parsed) => ({ kind: "ram-account", name: parsed.name }),
    authorizationInput: (parsed) => parsed,
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
    mutation: false,
    subject: (request) => ramSubject(request.permissionArn),
    parse: parseGetRamPermissionRequest,
    resource: (input) => ({ kind: "ram-permission", permission: input.permission }),
    authorizationInput: (input) => input,
    token: () => undefined,
    execute: (backend, input, options) => backend.getRamPermission(input, options),
    respond: (permission) => ({ permission: toRamPermissionMessage(permission) }),
  }),

  listRamPermissions: row({
    method: PermissionService.method.listRamPermissions,
    mutation: false,
    subject: (request) => ramSubject(request.resourceType),
    parse: parseListRamPermissionsRequest,
    resource: () => ({ kind: "ram-account" }),
    authorizationInput: (input) => input,
    token: () => undefined,
    execute: (backend, input, options) => backend.listRamPermissions(input, options),
    respond: (output) => ({
      permissions: output.permissions.map(toRamPermissionMessage),
      nextPageToken: output.nextToken ?? "",
    }),
  }),
} as const;

/** Any row of the table, for code that runs them all the same way. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each row has its own parsed and result types
export type AnyRpcRow = RpcRow<DescMethodUnary, any, any>;

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

// PermissionService handlers: validate -> idempotency -> backend -> response.
// Validation failures are thrown before the idempotency store or the backend
// is touched; backend failures are mapped to ConnectErrors inside the guarded
// call so that definitive ones can be stored and replayed.
import { randomUUID } from "node:crypto";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  AddLambdaPermissionRequestSchema,
  AddLambdaPermissionResponseSchema,
  CreateRamPermissionRequestSchema,
  CreateRamPermissionResponseSchema,
  DeleteRamPermissionRequestSchema,
  DeleteRamPermissionResponseSchema,
  GetLambdaPolicyResponseSchema,
  GetRamPermissionResponseSchema,
  ListRamPermissionsResponseSchema,
  PermissionService,
  PermissionStatus,
  PermissionType,
  RamPermissionSchema,
  RemoveLambdaPermissionRequestSchema,
  RemoveLambdaPermissionResponseSchema,
  type RamPermission as RamPermissionMessage,
} from "../gen/permission/v1/permission_pb.js";
import type {
  CallOptions,
  PermissionBackend,
  RamPermission,
  RamPermissionStatus,
} from "./backend/backend.js";
import { isAwsApiError } from "./backend/errors.js";
import type { Clock } from "./clock.js";
import { toConnectError, type ErrorSubject } from "./errors.js";
import { CLIENT_TOKEN_HEADER, type IdempotencyGuard } from "./idempotency/guard.js";
import type { Logger } from "./logger.js";
import {
  parseAddLambdaPermissionRequest,
  parseCreateRamPermissionRequest,
  parseDeleteRamPermissionRequest,
  parseGetLambdaPolicyRequest,
  parseGetRamPermissionRequest,
  parseListRamPermissionsRequest,
  parseRemoveLambdaPermissionRequest,
} from "./validation.js";

export interface ServiceDeps {
  readonly backend: PermissionBackend;
  readonly idempotency: IdempotencyGuard;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Generates client tokens; injectable for tests. Default: UUID v4. */
  readonly newClientToken?: (() => string) | undefined;
}

const rpcPrefix = PermissionService.typeName + "/";

export function createPermissionService(deps: ServiceDeps): ServiceImpl<typeof PermissionService> {
  const { backend, idempotency, clock, logger } = deps;
  const newClientToken = deps.newClientToken ?? randomUUID;

  /**
   * Runs `call` with every failure mapped for the wire. Handlers run in it
   * (validation errors), and so do guarded backend calls, because the guard
   * stores and replays errors in their wire form.
   */
  async function mapped<T>(subject: ErrorSubject, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toConnectError(error, subject, logger);
    }
  }

  /**
   * Guards `execute` with the caller's token, or just runs it when there is
   * none. `execute` must hand its `options` to the backend: under the guard
   * they also end the call when the idempotency lease runs out.
   */
  function guarded<I extends DescMessage, O extends DescMessage>(
    context: HandlerContext,
    method: string,
    token: string | undefined,
    schemas: { request: I; response: O; tokenField: string },
    request: MessageShape<I>,
    execute: (options: CallOptions) => Promise<MessageShape<O>>,
  ): Promise<MessageShape<O>> {
    if (token === undefined) return execute(callOptions(context));
    return idempotency.run(
      {
        rpc: rpcPrefix + method,
        token,
        requestSchema: schemas.request,
        request,
        tokenField: schemas.tokenField,
        responseSchema: schemas.response,
        context,
      },
      execute,
    );
  }

  function callOptions(context: HandlerContext): CallOptions {
    const timeoutMs = context.timeoutMs();
    return { signal: context.signal, deadline: timeoutMs === undefined ? undefined : clock.now() + timeoutMs };
  }

  return {
    removeLambdaPermission(request, context) {
      const subject = lambdaSubject(request.functionName);
      return mapped(subject, () => {
          const { input, idempotencyKey, allowMissing } = parseRemoveLambdaPermissionRequest(request);
          return guarded(
            context,
            "RemoveLambdaPermission",
            idempotencyKey,
            {
              request: RemoveLambdaPermissionRequestSchema,
              response: RemoveLambdaPermissionResponseSchema,
              tokenField: "idempotencyKey",
            },
            request,
            (options) =>
              mapped(subject, async () => {
                try {
                  await backend.removeLambdaPermission(input, options);
                } catch (error) {
                  // AIP-135 allow_missing: a statement (or the whole policy) already
                  // gone is success; a missing function or qualifier is still an error.
                  const alreadyGone = isAwsApiError(error) && (error.missing === "statement" || error.missing === "policy");
                  if (!(allowMissing && alreadyGone)) throw error;
                }
                return create(RemoveLambdaPermissionResponseSchema);
              }),
          );
        },
      );
    },

    addLambdaPermission(request, context) {
      const subject = lambdaSubject(request.functionName);
      return mapped(subject, () => {
          const { input, idempotencyKey } = parseAddLambdaPermissionRequest(request);
          return guarded(
            context,
            "AddLambdaPermission",
            idempotencyKey,
            {
              request: AddLambdaPermissionRequestSchema,
              response: AddLambdaPermissionResponseSchema,
              tokenField: "idempotencyKey",
            },
            request,
            (options) =>
              mapped(subject, async () => {
                const output = await backend.addLambdaPermission(input, options);
                return create(AddLambdaPermissionResponseSchema, { statement: output.statement });
              }),
          );
        },
      );
    },

    getLambdaPolicy(request, context) {
      const subject = lambdaSubject(request.functionName);
      return mapped(subject, () => {
          const input = parseGetLambdaPolicyRequest(request);
          return mapped(subject, async () => {
            const output = await backend.getLambdaPolicy(input, callOptions(context));
            return create(GetLambdaPolicyResponseSchema, { policy: output.policy, revisionId: output.revisionId });
          });
        },
      );
    },

    deleteRamPermission(request, context) {
      const subject = ramSubject(request.permissionArn);
      return mapped(subject, () => {
          const parsed = parseDeleteRamPermissionRequest(request);
          const clientToken = parsed.clientToken ?? newClientToken();
          // In a header, so a caller whose call fails still learns the token
          // its retry must resend (an error has no response body).
          context.responseHeader.set(CLIENT_TOKEN_HEADER, clientToken);
          return guarded(
            context,
            "DeleteRamPermission",
            clientToken,
            {
              request: DeleteRamPermissionRequestSchema,
              response: DeleteRamPermissionResponseSchema,
              tokenField: "clientToken",
            },
            request,
            (options) =>
              mapped(subject, async () => {
                const output = await backend.deleteRamPermission({ permission: parsed.permission, clientToken }, options);
                return create(DeleteRamPermissionResponseSchema, {
                  returnValue: output.returnValue,
                  clientToken: output.clientToken,
                  permissionStatus: toPermissionStatus(output.permissionStatus),
                });
              }),
          );
        },
      );
    },

    createRamPermission(request, context) {
      const subject = ramSubject(request.name);
      return mapped(subject, () => {
          const parsed = parseCreateRamPermissionRequest(request);
          const clientToken = parsed.clientToken ?? newClientToken();
          context.responseHeader.set(CLIENT_TOKEN_HEADER, clientToken);
          return guarded(
            context,
            "CreateRamPermission",
            clientToken,
            {
              request: CreateRamPermissionRequestSchema,
              response: CreateRamPermissionResponseSchema,
              tokenField: "clientToken",
            },
            request,
            (options) =>
              mapped(subject, async () => {
                const output = await backend.createRamPermission(
                  {
                    name: parsed.name,
                    resourceType: parsed.resourceType,
                    policyTemplate: parsed.policyTemplate,
                    tags: parsed.tags,
                    clientToken,
                  },
                  options,
                );
                return create(CreateRamPermissionResponseSchema, {
                  permission: toRamPermissionMessage(output.permission),
                  clientToken: output.clientToken,
                });
              }),
          );
        },
      );
    },

    getRamPermission(request, context) {
      const subject = ramSubject(request.permissionArn);
      return mapped(subject, () => {
          const input = parseGetRamPermissionRequest(request);
          return mapped(subject, async () => {
            const permission = await backend.getRamPermission(input, callOptions(context));
            return create(GetRamPermissionResponseSchema, { permission: toRamPermissionMessage(permission) });
          });
        },
      );
    },

    listRamPermissions(request, context) {
      const subject = ramSubject(request.resourceType);
      return mapped(subject, () => {
          const input = parseListRamPermissionsRequest(request);
          return mapped(subject, async () => {
            const output = await backend.listRamPermissions(input, callOptions(context));
            return create(ListRamPermissionsResponseSchema, {
              permissions: output.permissions.map(toRamPermissionMessage),
              nextPageToken: output.nextToken ?? "",
            });
          });
        },
      );
    },
  };
}

function lambdaSubject(functionName: string): ErrorSubject {
  return { resourceType: "lambda:function", resourceName: functionName };
}

function ramSubject(name: string): ErrorSubject {
  return { resourceType: "ram:permission", resourceName: name };
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
  });
}

// PermissionService as one generic path run for every row of the RPC table
// (src/rpc/rpc-table.ts): parse -> token -> idempotency -> backend -> response.
// Validation failures are thrown before the idempotency store or the backend
// is touched; backend failures are mapped to ConnectErrors inside the guarded
// call, so that definitive ones can be stored and replayed in their wire form.
import { create, type Message } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { PermissionService } from "../gen/permission/v1/permission_pb.js";
import { callTargetFrom } from "./accounts/interceptor.js";
import type { CallOptions, PermissionBackend } from "./backend/backend.js";
import { isAwsApiError } from "./backend/errors.js";
import type { Clock } from "./clock.js";
import { toConnectError } from "./errors.js";
import type { IdempotencyGuard } from "./idempotency/guard-port.js";
import { REPLAYED_HEADER } from "./idempotency/guard-port.js";
import type { Logger } from "./logger.js";
import { callContextOf } from "./rpc/call-context.js";
import { rpcTable, type AnyRpcRow } from "./rpc/rpc-table.js";

/** The response header that marks an answer the backend confirmed by reading the actual state. */
export const RECONCILED_HEADER = "reconciled";

export interface ServiceDeps {
  readonly backend: PermissionBackend;
  readonly idempotency: IdempotencyGuard;
  readonly clock: Clock;
  readonly logger: Logger;
}

const rpcPrefix = PermissionService.typeName + "/";

export function createPermissionService(deps: ServiceDeps): ServiceImpl<typeof PermissionService> {
  const { backend, idempotency, clock, logger } = deps;

  const callOptions = (context: HandlerContext): CallOptions => {
    const timeoutMs = context.timeoutMs();
    return { signal: context.signal, deadline: timeoutMs === undefined ? undefined : clock.now() + timeoutMs };
  };

  async function run(row: AnyRpcRow, request: Message, context: HandlerContext): Promise<Message> {
    const subject = row.subject(request);
    // Built once, before the interceptors (src/rpc/call-context.ts).
    const callContext = callContextOf(context.values);
    if (callContext === undefined) throw new Error(`${row.method.name} reached the service without a call context`);
    const { progress } = callContext;
    try {
      const { call } = callContext;
      if (call === undefined) throw callContext.invalid;
      const { parsed, token } = call;
      // In a header, so a caller whose call fails still learns the token its
      // retry must resend (an error has no response body).
      if (token?.echoHeader !== undefined) {
        context.responseHeader.set(token.echoHeader, token.value);
        progress.tokenSent = true;
      }

      const execute = async (options: CallOptions): Promise<Message> => {
        try {
          const role = callTargetFrom(context.values)?.role;
          const result = await row.execute(
            backend,
            parsed,
            role === undefined ? options : { ...options, role },
            token?.value,
          );
          progress.output = result;
          if (result.reconciled === true) context.responseHeader.set(RECONCILED_HEADER, "true");
          return create(row.method.output, row.respond(result));
        } catch (error) {
          if (isAwsApiError(error) && error.requestId !== undefined) progress.failedAwsRequestId = error.requestId;
          throw toConnectError(error, subject, logger);
        }
      };
      if (token === undefined) return await execute(callOptions(context));
      return await idempotency.run(
        {
          rpc: rpcPrefix + row.method.name,
          token: token.value,
          requestSchema: row.method.input,
          request,
          tokenField: token.field,
          responseSchema: row.method.output,
          context,
          onOutcome: (kind) => (progress.idempotencyOutcome = kind),
        },
        execute,
      );
    } catch (error) {
      throw toConnectError(error, subject, logger);
    } finally {
      if (context.responseHeader.get(REPLAYED_HEADER) === "true") progress.replayed = true;
    }
  }

  const service: Record<string, (request: Message, context: HandlerContext) => Promise<Message>> = {};
  for (const [name, row] of Object.entries(rpcTable)) {
    service[name] = (request, context) => run(row as AnyRpcRow, request, context);
  }
  return service as unknown as ServiceImpl<typeof PermissionService>;
}

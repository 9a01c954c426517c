// One call as the gateway understands it, built once, when the call enters
// the gateway's own steps: its RPC row, the validated request, what it acts
// on and its token. Authorization, the audit trail, the access log and the
// service all read this one value, so none of them parses the request again
// or works out what the call is about on its own. What only the service
// learns while the call runs (the backend output's metadata, what the
// idempotency guard decided) is written to `progress` by the service alone.
import type { Message } from "@bufbuild/protobuf";
import { createContextKey, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import type { RpcResource } from "../authz/resource.js";
import type { OutputMetadata } from "../backend/backend.js";
import type { IdempotencyOutcomeKind } from "../idempotency/guard.js";
import { rowOf, type AnyRpcRow, type CallToken, type RowTools, type RpcName } from "./rpc-table.js";

/** A call whose request validated. */
export interface ParsedCall {
  readonly rpc: RpcName;
  readonly row: AnyRpcRow;
  /** The row's parse result: the backend's input and the call's flags. */
  readonly parsed: unknown;
  readonly resource: RpcResource;
  readonly token: CallToken | undefined;
}

/** What the service learned while it ran the call. */
export interface CallProgress {
  /** The caller was sent the call's token (the client-token header), so a generated one is known to it. */
  tokenSent?: boolean;
  /** How the idempotency guard decided the call, for calls with a token that reached the store. */
  idempotencyOutcome?: IdempotencyOutcomeKind;
  /** The backend output's metadata, on success. */
  output?: OutputMetadata;
  /** AWS's request ID of a backend call that failed. */
  failedAwsRequestId?: string;
  /** The idempotency guard answered from a stored outcome. */
  replayed?: boolean;
}

export interface CallContext {
  readonly row: AnyRpcRow;
  /** The validated call; undefined when the request does not validate (`invalid` holds why). */
  readonly call: ParsedCall | undefined;
  /** The RequestValidationError (or any failure) of parsing; the service answers the call with it. */
  readonly invalid?: unknown;
  /** Written by the service only. */
  readonly progress: CallProgress;
}

/** The call of `row` with `message`: validated once; a validation failure is kept, not thrown. */
export function buildCallContext(row: AnyRpcRow, message: Message, tools: RowTools): CallContext {
  try {
    const parsed: unknown = row.parse(message);
    const call: ParsedCall = {
      rpc: row.method.name as RpcName,
      row,
      parsed,
      resource: row.resource(parsed),
      token: row.token(parsed, tools),
    };
    return { row, call, progress: {} };
  } catch (error) {
    return { row, call: undefined, invalid: error, progress: {} };
  }
}

const callContextKey = createContextKey<CallContext | undefined>(undefined, { description: "call context" });

/** The call's context; undefined for calls that are not PermissionService RPCs. */
export function callContextOf(values: ContextValues): CallContext | undefined {
  return values.get(callContextKey);
}

/** AWS's request ID of the call's backend call, from its output or its error. */
export function awsRequestIdOf(context: CallContext | undefined): string | undefined {
  return context?.progress.output?.awsRequestId ?? context?.progress.failedAwsRequestId;
}

/**
 * Builds every PermissionService call's context, before the steps that read
 * it (audit, authorization, the service). Placed after authentication, so an
 * unauthenticated call is never parsed.
 */
export function createCallContextInterceptor(tools: RowTools): Interceptor {
  return (next) => (req) => {
    if (req.service.typeName === PermissionService.typeName && !req.stream) {
      const row = rowOf(req.method.localName);
      if (row !== undefined) req.contextValues.set(callContextKey, buildCallContext(row, req.message, tools));
    }
    return next(req);
  };
}

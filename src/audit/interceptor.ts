// The audit trail as a Connect interceptor: one event per mutation attempt
// of PermissionService (allowed, refused or failed), and per read only when
// configured. It sits outside the authorization interceptor, so it sees the
// decision that interceptor left in the context values, and it answers the
// caller only once the event is written.
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import {
  ConnectError,
  createContextKey,
  type ContextValues,
  type Interceptor,
  type UnaryRequest,
} from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { authorizationDecisionKey } from "../authz/interceptor.js";
import { AUDIT_SETTINGS } from "./config.js";
import { definedOnly } from "../authz/resource.js";
import type { Clock } from "../clock.js";
import { CLIENT_TOKEN_HEADER } from "../idempotency/guard.js";
import { REPLAYED_HEADER } from "../idempotency/idempotency-guard.js";
import type { Logger } from "../logger.js";
import { buildAuditEvent, type AuditCaller, type AuditEventParts, type AuditSubject } from "./event.js";
import type { AuditSink } from "./sink.js";

/** What only the handler learns: recorded with recordAuditDetails. */
export interface AuditDetails {
  /** From the backend's output (a success). */
  readonly awsRequestId?: string | undefined;
  /** RemoveLambdaPermission: the removed statement's JSON, when the backend knows it. */
  readonly removedStatement?: string | undefined;
  /** The idempotency guard answered from a stored outcome. */
  readonly replayed?: boolean | undefined;
}

const auditDetailsKey = createContextKey<AuditDetails | undefined>(undefined, {
  description: "permission-gateway audit details",
});

/** For the handler (HandlerContext.values): adds to the call's audit event; a no-op when the call is not audited. */
export function recordAuditDetails(values: ContextValues, details: AuditDetails): void {
  const recorded = values.get(auditDetailsKey);
  if (recorded !== undefined) values.set(auditDetailsKey, { ...recorded, ...definedOnly({ ...details }) });
}

export interface AuditDescription {
  readonly caller?: AuditCaller | undefined;
  /** auditSubjectFor(...) of the validated message; undefined when the message does not validate. */
  readonly subject?: AuditSubject | undefined;
}

export interface AuditInterceptorOptions {
  readonly sink: Pick<AuditSink, "write">;
  /** Caller and subject of a PermissionService call. Should not throw; when it does, the event still goes out without them. */
  readonly describe: (req: UnaryRequest) => AuditDescription;
  /**
   * What only the handler learned, read once the call has ended; default:
   * what it recorded with recordAuditDetails.
   */
  readonly details?: ((req: UnaryRequest) => AuditDetails) | undefined;
  /** Also record reads (AUDIT_READS). Default: AUDIT_READS's (mutations only). */
  readonly reads?: boolean | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
}

export function createAuditInterceptor(options: AuditInterceptorOptions): Interceptor {
  const { sink, describe, clock, logger } = options;
  const reads = options.reads ?? AUDIT_SETTINGS.reads.default;

  const describeSafely = (req: UnaryRequest): AuditDescription => {
    try {
      return describe(req);
    } catch (error) {
      logger.error("audit: the call could not be described", { rpc: req.method.name, error });
      return {};
    }
  };

  const write = async (parts: AuditEventParts): Promise<void> => {
    try {
      await sink.write(buildAuditEvent(parts));
    } catch (error) {
      // The call's effect has happened (or not) either way; the operator must hear of the gap.
      logger.error("audit event not written", { rpc: parts.rpc, error });
    }
  };

  return (next) => async (req) => {
    if (req.service.typeName !== PermissionService.typeName || req.stream) return next(req);
    if (!reads && req.method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) return next(req);
    const started = clock.now();
    req.contextValues.set(auditDetailsKey, {});
    const description = describeSafely(req);
    const record = (ending: CallEnding): Promise<void> =>
      write(
        eventParts(
          req,
          description,
          options.details?.(req) ?? req.contextValues.get(auditDetailsKey) ?? {},
          started,
          clock.now(),
          ending,
        ),
      );
    try {
      const res = await next(req);
      await record({ header: res.header });
      return res;
    } catch (error) {
      await record({ error: ConnectError.from(error) });
      throw error;
    }
  };
}

type CallEnding = { readonly header: Headers } | { readonly error: ConnectError };

function eventParts(
  req: UnaryRequest,
  description: AuditDescription,
  details: AuditDetails,
  started: number,
  ended: number,
  ending: CallEnding,
): AuditEventParts {
  const failure = "error" in ending ? ending.error : undefined;
  const info = failure?.findDetails(ErrorInfoSchema)[0];
  const replayedMark =
    "error" in ending ? ending.error.metadata.get(REPLAYED_HEADER) : ending.header.get(REPLAYED_HEADER);
  return {
    time: started,
    rpc: req.method.name,
    caller: description.caller,
    subject: description.subject,
    tokens: tokensOf(req, "header" in ending ? ending.header : undefined),
    decision: req.contextValues.get(authorizationDecisionKey),
    code: failure?.code,
    reason: info?.reason,
    awsRequestId: details.awsRequestId ?? info?.metadata["awsRequestId"],
    replayed: details.replayed === true || replayedMark === "true",
    removedStatement: details.removedStatement,
    durationMs: ended - started,
  };
}

/** The request's idempotency tokens (and a client token the gateway generated, from the response header). */
function tokensOf(req: UnaryRequest, responseHeader: Headers | undefined): Record<string, string> {
  const message = req.message as Record<string, unknown>;
  const tokens: Record<string, string> = {};
  for (const field of ["idempotencyKey", "clientToken"]) {
    const value = message[field];
    if (typeof value === "string" && value !== "") tokens[field] = value;
  }
  const generated = responseHeader?.get(CLIENT_TOKEN_HEADER);
  if (tokens["clientToken"] === undefined && generated !== null && generated !== undefined)
    tokens["clientToken"] = generated;
  return tokens;
}

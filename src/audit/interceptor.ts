// The audit trail as a Connect interceptor: one event per mutation attempt
// of PermissionService (allowed, refused or failed), and per read only when
// configured. It sits outside the authorization interceptor, so it sees the
// decision that interceptor left in the context values, and it answers the
// caller only once the event is written.
import { ConnectError, type Interceptor, type UnaryRequest } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { authorizationDecisionKey } from "../authz/interceptor.js";
import { AUDIT_SETTINGS } from "./config.js";
import type { Clock } from "../clock.js";
import { REPLAYED_HEADER } from "../idempotency/guard-port.js";
import type { Logger } from "../logger.js";
import { rowOf } from "../rpc/rpc-table.js";
import { buildAuditEvent, type AuditCaller, type AuditEventParts, type AuditSubject } from "./event.js";
import type { AuditSink } from "./sink.js";

/** What only the handler learns, read once the call has ended. */
export interface AuditDetails {
  /** The call's idempotency tokens by request field (raw: only their digests are written). */
  readonly tokens?: Readonly<Record<string, string>> | undefined;
  /** AWS's request ID of the backend call, from its output or its error. */
  readonly awsRequestId?: string | undefined;
  /** RemoveLambdaPermission: the removed statement's JSON, when the backend knows it. */
  readonly removedStatement?: string | undefined;
  /** The idempotency guard answered from a stored outcome. */
  readonly replayed?: boolean | undefined;
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
  /** What only the handler learned, read once the call has ended. Should not throw. */
  readonly details: (req: UnaryRequest) => AuditDetails;
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

  const detailsSafely = (req: UnaryRequest): AuditDetails => {
    try {
      return options.details(req);
    } catch (error) {
      logger.error("audit: the call's details could not be read", { rpc: req.method.name, error });
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
    if (!reads && rowOf(req.method.localName)?.mutation !== true) return next(req);
    const started = clock.now();
    const description = describeSafely(req);
    const record = (ending: CallEnding): Promise<void> =>
      write(eventParts(req, description, detailsSafely(req), started, clock.now(), ending));
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
    tokens: details.tokens ?? {},
    decision: req.contextValues.get(authorizationDecisionKey),
    code: failure?.code,
    reason: info?.reason,
    awsRequestId: details.awsRequestId ?? info?.metadata["awsRequestId"],
    replayed: details.replayed === true || replayedMark === "true",
    removedStatement: details.removedStatement,
    durationMs: ended - started,
  };
}

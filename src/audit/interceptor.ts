// The audit trail as two Connect interceptors. The outcome step sits outside
// authorization and writes how every mutation attempt of PermissionService
// ended (allowed, refused or failed; reads too when configured). The attempt
// step sits after authorization, right before the service: a mutation that
// is about to reach AWS first waits for its attempt event to be written, and
// is refused (AUDIT_FAILURE_MODE=closed) when it cannot be. So no change is
// made at AWS without an attempt event, and a crash leaves an attempt event
// without its outcome. A failed outcome is counted, logged and retried from
// a bounded buffer; a read is never refused for its event.
import { randomUUID } from "node:crypto";
import { ConnectError, createContextKey, type Interceptor, type UnaryRequest } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { authorizationDecisionKey } from "../authz/interceptor.js";
import type { Clock } from "../clock.js";
import { REPLAYED_HEADER } from "../idempotency/guard-port.js";
import { auditUnavailable } from "../errors.js";
import type { Logger } from "../logger.js";
import { callContextOf } from "../rpc/call-context.js";
import { rowOf } from "../rpc/rpc-table.js";
import { AUDIT_SETTINGS, type AuditFailureMode } from "./config.js";
import {
  buildAttemptEvent,
  buildAuditEvent,
  type AuditCaller,
  type AuditEvent,
  type AuditEventParts,
  type AuditSubject,
  type AuditTarget,
} from "./event.js";
import { createAuditRetryBuffer, type AuditObserver } from "./retry-buffer.js";
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
  /** The account, role and session the call acts as (AWS_ACCOUNTS_FILE); undefined without a registry. */
  readonly target?: AuditTarget | undefined;
}

export interface AuditDescription {
  readonly caller?: AuditCaller | undefined;
  /** auditSubjectFor(...) of the validated message; undefined when the message does not validate. */
  readonly subject?: AuditSubject | undefined;
}

export interface AuditTrailOptions {
  readonly sink: Pick<AuditSink, "write">;
  /** Caller and subject of a PermissionService call. Should not throw; when it does, the event still goes out without them. */
  readonly describe: (req: UnaryRequest) => AuditDescription;
  /** What only the handler learned, read once the call has ended (and, for the attempt, before it runs). Should not throw. */
  readonly details: (req: UnaryRequest) => AuditDetails;
  /** Also record reads (AUDIT_READS). Default: AUDIT_READS's (mutations only). */
  readonly reads?: boolean | undefined;
  /** AUDIT_FAILURE_MODE. Default: its line's ("closed"). */
  readonly failureMode?: AuditFailureMode | undefined;
  /** Events kept for a retry when the sink fails (AUDIT_RETRY_BUFFER_EVENTS). Default: its line's. */
  readonly retryBufferEvents?: number | undefined;
  /** First wait before retrying kept events. Default 1 s. */
  readonly retryDelayMs?: number | undefined;
  readonly observer?: AuditObserver | undefined;
  /** The id an attempt and its outcome share. Default: UUID v4. */
  readonly newEventId?: (() => string) | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface AuditTrail {
  /**
   * Outside authorization: the outcome event of every audited call, refused
   * ones included, written before the caller is answered (or kept for a
   * retry when the sink fails).
   */
  readonly outcomes: Interceptor;
  /**
   * The last step before the service, after authorization: a mutation that
   * validated and was allowed waits here until its attempt event is written,
   * and with AUDIT_FAILURE_MODE=closed is refused if it cannot be. Placed
   * before the service, so before the idempotency guard claims its token:
   * a refused call leaves nothing stored, and its retry runs afresh.
   */
  readonly attempts: Interceptor;
  /** Events waiting for a retry. */
  pending(): number;
  /** Retries the waiting events now; resolves when that round is done. */
  retryNow(): Promise<void>;
  /** A last retry; what is still waiting is logged as lost. Close before the sink. */
  close(): Promise<void>;
}

/** What the outcome step hands the attempt step of the same call. */
interface AuditedCall {
  readonly id: string;
  readonly started: number;
  readonly description: AuditDescription;
}

const auditedCallKey = createContextKey<AuditedCall | undefined>(undefined, { description: "audited call" });

export function createAuditTrail(options: AuditTrailOptions): AuditTrail {
  const { sink, describe, clock, logger, observer } = options;
  const reads = options.reads ?? AUDIT_SETTINGS.reads.default;
  const failureMode = options.failureMode ?? AUDIT_SETTINGS.failureMode.default;
  const newEventId = options.newEventId ?? randomUUID;
  const retryBuffer = createAuditRetryBuffer({
    sink,
    capacity: options.retryBufferEvents ?? AUDIT_SETTINGS.retryBufferEvents.default,
    retryDelayMs: options.retryDelayMs,
    logger,
    observer,
  });

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

  /**
   * Whether the event is written. A failure is counted and logged; the event
   * is kept for a retry if `keep`, else its call is refused.
   */
  const write = async (event: AuditEvent, keep: boolean): Promise<boolean> => {
    // While older events wait, a new one queues behind them: the order holds,
    // and a call does not wait on a sink known to be failing.
    if (keep && retryBuffer.size() > 0) {
      observer?.onWriteFailure(event.event);
      retryBuffer.add(event);
      return false;
    }
    try {
      await sink.write(event);
      if (retryBuffer.size() > 0) void retryBuffer.retryNow();
      return true;
    } catch (error) {
      observer?.onWriteFailure(event.event);
      const { id, rpc } = event;
      const then = keep ? "kept for a retry" : "call refused (AUDIT_UNAVAILABLE)";
      logger.error("audit event not written", { id, event: event.event, rpc, then, error });
      if (keep) retryBuffer.add(event);
      return false;
    }
  };

  const audited = (req: UnaryRequest, mutationsOnly: boolean): boolean => {
    if (req.service.typeName !== PermissionService.typeName) return false;
    const mutation = rowOf(req.method.localName)?.mutation === true;
    return mutation || (!mutationsOnly && reads);
  };

  const outcomes: Interceptor = (next) => async (req) => {
    if (req.stream || !audited(req, false)) return next(req);
    const call: AuditedCall = { id: newEventId(), started: clock.now(), description: describeSafely(req) };
    req.contextValues.set(auditedCallKey, call);
    const record = async (ending: CallEnding): Promise<void> => {
      await write(buildAuditEvent(eventParts(req, call, detailsSafely(req), clock.now(), ending)), true);
    };
    try {
      const res = await next(req);
      await record({ header: res.header });
      return res;
    } catch (error) {
      await record({ error: ConnectError.from(error) });
      throw error;
    }
  };

  const attempts: Interceptor = (next) => async (req) => {
    if (req.stream || !audited(req, true)) return next(req);
    // A request that does not validate is answered INVALID_ARGUMENT by the service: nothing reaches AWS.
    // (No call context at all is not that: the attempt is written, or the call refused.)
    const context = callContextOf(req.contextValues);
    if (context !== undefined && context.call === undefined) return next(req);
    const call = req.contextValues.get(auditedCallKey);
    if (call === undefined) throw new Error(`${req.method.name}: the audit attempt step runs without its outcome step`);
    const details = detailsSafely(req);
    const event = buildAttemptEvent({
      time: call.started,
      id: call.id,
      rpc: req.method.name,
      caller: call.description.caller,
      subject: call.description.subject,
      target: details.target,
      tokens: details.tokens ?? {},
      decision: req.contextValues.get(authorizationDecisionKey),
    });
    if (!(await write(event, failureMode === "open")) && failureMode === "closed") throw auditUnavailable();
    return next(req);
  };

  return {
    outcomes,
    attempts,
    pending: () => retryBuffer.size(),
    retryNow: () => retryBuffer.retryNow(),
    close: () => retryBuffer.close(),
  };
}

type CallEnding = { readonly header: Headers } | { readonly error: ConnectError };

function eventParts(
  req: UnaryRequest,
  call: AuditedCall,
  details: AuditDetails,
  ended: number,
  ending: CallEnding,
): AuditEventParts {
  const { description, started } = call;
  const failure = "error" in ending ? ending.error : undefined;
  const info = failure?.findDetails(ErrorInfoSchema)[0];
  const replayedMark =
    "error" in ending ? ending.error.metadata.get(REPLAYED_HEADER) : ending.header.get(REPLAYED_HEADER);
  return {
    time: started,
    id: call.id,
    rpc: req.method.name,
    caller: description.caller,
    subject: description.subject,
    target: details.target,
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

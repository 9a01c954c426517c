// One audit event: who asked for what, on which resource, with which grant,
// what authorization decided and how the call ended. Tokens are recorded
// only as digests and secrets never: the event is built from the request's
// validated fields, never from its headers.
import { createHash } from "node:crypto";
import { Code } from "@connectrpc/connect";
import type { RecordedDecision } from "../authz/interceptor.js";
import { authorizationResourceOf, type ResourceDefaults, type ResourceKind } from "../authz/resource.js";
import type { ParsedCall } from "../rpc/call-context.js";

export interface AuditCaller {
  readonly id: string;
  /** How the caller was authenticated, e.g. "mtls", "jwt", "api-key", "none". */
  readonly authMode?: string | undefined;
  readonly groups?: readonly string[] | undefined;
}

/** What the call acts on and asks for, from its validated input. */
export interface AuditSubject {
  readonly resource: { readonly type: ResourceKind; readonly id: string } & Readonly<Record<string, string | boolean>>;
  readonly grant: Readonly<Record<string, unknown>>;
}

/** Where the call acted, from AWS_ACCOUNTS_FILE's decision; absent without a registry. */
export interface AuditTarget {
  readonly account: string;
  readonly accountAlias?: string | undefined;
  /** The role the call assumed; absent with the base credentials (the own account when it is not listed). */
  readonly roleArn?: string | undefined;
  /** The role session's name; absent with the base credentials. */
  readonly sessionName?: string | undefined;
}

/**
 * "attempt": written before an allowed mutation reaches AWS (the call waits
 * for it). "outcome": how a call ended, written after it; the only event of a
 * call refused before that point and of a read.
 */
export type AuditEventKind = "attempt" | "outcome";

export interface AuditEvent {
  readonly time: string;
  /** One call's attempt and outcome events share it. */
  readonly id: string;
  readonly event: AuditEventKind;
  readonly rpc: string;
  readonly caller?: AuditCaller | undefined;
  /** Absent when the request did not validate (its outcome says so). */
  readonly resource?: AuditSubject["resource"] | undefined;
  readonly grant?: AuditSubject["grant"] | undefined;
  /** The account, role and session the call acted as; absent without a registry or before the decision. */
  readonly target?: AuditTarget | undefined;
  /** idempotencyKey / clientToken as "sha256:<first 32 hex digits>". */
  readonly tokens?: Readonly<Record<string, string>> | undefined;
  readonly authorization: {
    readonly decision: RecordedDecision["decision"] | "not-evaluated";
    readonly determiningPolicies: readonly string[];
  };
  /** The gRPC status code name: "OK", "PERMISSION_DENIED", ...; absent from an attempt. */
  readonly outcome?: string | undefined;
  /** The ErrorInfo reason of a failure, e.g. "CALLER_NOT_ALLOWED". */
  readonly reason?: string | undefined;
  readonly awsRequestId?: string | undefined;
  /** Absent from an attempt. */
  readonly replayed?: boolean | undefined;
  /** RemoveLambdaPermission: the statement that was removed, when the backend reported it. */
  readonly removedStatement?: unknown;
  /** Absent from an attempt. */
  readonly durationMs?: number | undefined;
}

/** The call's resource, and its grant as its RPC row records it. */
export function auditSubjectFor(call: ParsedCall, defaults: ResourceDefaults): AuditSubject {
  const resource = authorizationResourceOf(call.resource, defaults);
  return {
    resource: { type: resource.kind, id: resource.id, ...resource.attributes },
    grant: call.row.audit(call.parsed, tokenDigest),
  };
}

/** A token's digest: enough to match events of one token, never the token. */
export function tokenDigest(token: string): string {
  return `sha256:${createHash("sha256").update(token, "utf8").digest("hex").slice(0, 32)}`;
}

/** What an attempt event says: who asks for what, and what authorization decided. */
export interface AuditAttemptParts {
  readonly time: number;
  readonly id: string;
  readonly rpc: string;
  readonly caller?: AuditCaller | undefined;
  readonly subject?: AuditSubject | undefined;
  readonly target?: AuditTarget | undefined;
  /** Raw tokens by field name; only their digests are written. */
  readonly tokens: Readonly<Record<string, string>>;
  readonly decision?: RecordedDecision | undefined;
}

/** What an outcome event says besides: how the call ended. */
export interface AuditEventParts extends AuditAttemptParts {
  readonly code: Code | undefined;
  readonly reason?: string | undefined;
  readonly awsRequestId?: string | undefined;
  readonly replayed: boolean;
  /** The removed statement as JSON text. */
  readonly removedStatement?: string | undefined;
  readonly durationMs: number;
}

/** The event written before the call reaches AWS. */
export function buildAttemptEvent(parts: AuditAttemptParts): AuditEvent {
  return eventHead("attempt", parts);
}

/** The event written once the call has ended. */
export function buildAuditEvent(parts: AuditEventParts): AuditEvent {
  return {
    ...eventHead("outcome", parts),
    outcome: parts.code === undefined ? "OK" : codeNames[parts.code],
    reason: parts.reason,
    awsRequestId: parts.awsRequestId,
    replayed: parts.replayed,
    removedStatement: parts.removedStatement === undefined ? undefined : statementForAudit(parts.removedStatement),
    durationMs: parts.durationMs,
  };
}

function eventHead(event: AuditEventKind, parts: AuditAttemptParts): AuditEvent {
  const tokens = Object.entries(parts.tokens).map(([field, token]) => [field, tokenDigest(token)] as const);
  return {
    time: new Date(parts.time).toISOString(),
    id: parts.id,
    event,
    rpc: parts.rpc,
    caller: parts.caller,
    resource: parts.subject?.resource,
    grant: parts.subject?.grant,
    target: parts.target,
    tokens: tokens.length === 0 ? undefined : Object.fromEntries(tokens),
    authorization: parts.decision ?? { decision: "not-evaluated", determiningPolicies: [] },
  };
}

/**
 * The statement as an object, so the trail can be queried, with the value
 * of a lambda:EventSourceToken condition (the event source's secret, which
 * AddPermission writes into the statement) replaced by its digest.
 */
function statementForAudit(statementJson: string): unknown {
  try {
    return JSON.parse(statementJson, (key, value: unknown) =>
      key.toLowerCase() === "lambda:eventsourcetoken" && typeof value === "string" ? tokenDigest(value) : value,
    );
  } catch {
    // Not JSON: the backend's text may hold anything, a token included; keep only its digest.
    return tokenDigest(statementJson);
  }
}

/** gRPC's own names (CANCELLED, not connect's "Canceled"), as operators grep for them. */
const codeNames: Readonly<Record<Code, string>> = {
  [Code.Canceled]: "CANCELLED",
  [Code.Unknown]: "UNKNOWN",
  [Code.InvalidArgument]: "INVALID_ARGUMENT",
  [Code.DeadlineExceeded]: "DEADLINE_EXCEEDED",
  [Code.NotFound]: "NOT_FOUND",
  [Code.AlreadyExists]: "ALREADY_EXISTS",
  [Code.PermissionDenied]: "PERMISSION_DENIED",
  [Code.ResourceExhausted]: "RESOURCE_EXHAUSTED",
  [Code.FailedPrecondition]: "FAILED_PRECONDITION",
  [Code.Aborted]: "ABORTED",
  [Code.OutOfRange]: "OUT_OF_RANGE",
  [Code.Unimplemented]: "UNIMPLEMENTED",
  [Code.Internal]: "INTERNAL",
  [Code.Unavailable]: "UNAVAILABLE",
  [Code.DataLoss]: "DATA_LOSS",
  [Code.Unauthenticated]: "UNAUTHENTICATED",
};

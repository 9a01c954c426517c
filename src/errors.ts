// The one place that turns failures into ConnectErrors for the wire
// (docs/errors.md has the table). Every error leaves with exactly one
// google.rpc.ErrorInfo; AWS errors are mapped on their name, never on their
// HTTP status (RAM's UnknownResourceException is a 400). Causes of
// unexpected failures are logged and never sent.
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  PreconditionFailureSchema,
  QuotaFailureSchema,
  ResourceInfoSchema,
  RetryInfoSchema,
} from "../gen/google/rpc/error_details_pb.js";
import { RoleSessionError } from "./accounts/errors.js";
import { AccountNotManagedError, RegionNotManagedError } from "./accounts/target.js";
import { kindOfAwsError, type AwsErrorKind } from "./aws/error-catalogue.js";
import { isDuplicateStatementConflict } from "./aws/lambda-answers.js";
import {
  AwsApiError,
  UpstreamCredentialsError,
  UpstreamNetworkError,
  UpstreamOutcomeUnknownError,
  UpstreamTimeoutError,
  type AwsService,
} from "./backend/errors.js";
import type { Logger } from "./logger.js";
import { RequestValidationError } from "./validation.js";

/** The ErrorInfo domain of errors that are the gateway's own. */
export const GATEWAY_DOMAIN = "permission-gateway";

/**
 * ErrorInfo reason of a mutation whose attempt may have reached AWS and whose
 * effect could not be confirmed either way. The idempotency guard keeps such
 * a token's record for a takeover (instead of releasing it), so the retry
 * reconciles with the actual state before it answers.
 */
export const OUTCOME_UNKNOWN_REASON = "UPSTREAM_OUTCOME_UNKNOWN";

/** Whether a wire error says the call's effect at AWS is unknown (see OUTCOME_UNKNOWN_REASON). */
export function isOutcomeUnknownError(error: ConnectError): boolean {
  return error
    .findDetails(ErrorInfoSchema)
    .some((info) => info.reason === OUTCOME_UNKNOWN_REASON && info.domain === GATEWAY_DOMAIN);
}

const awsDomain: Record<AwsService, string> = { lambda: "lambda.amazonaws.com", ram: "ram.amazonaws.com" };

/** What a call was about: named in ResourceInfo, PreconditionFailure and QuotaFailure. */
export interface ErrorSubject {
  /** e.g. "lambda:function" or "ram:permission". */
  readonly resourceType: string;
  /** The function name / ARN or permission ARN the caller gave. */
  readonly resourceName: string;
}

type Detail = { desc: DescMessage; value: MessageInitShape<DescMessage> };

type AwsRule =
  | { code: Code; detail: "bad-request" | "resource-info" | "retry" | "none" | "quota" | "precondition" }
  | { code: Code; detail: "none"; reason: string; gatewayOwned: true; message: string };

const credentialsMessage = "the gateway's AWS credentials are missing, invalid or expired";

/** The error table (docs/errors.md), by kind of AWS error (src/aws/error-catalogue.ts knows each name's kind). */
const rulesByKind: Readonly<Record<AwsErrorKind, AwsRule>> = {
  "invalid-argument": { code: Code.InvalidArgument, detail: "bad-request" },
  "not-found": { code: Code.NotFound, detail: "resource-info" },
  "revision-mismatch": { code: Code.FailedPrecondition, detail: "precondition" },
  "not-permitted": { code: Code.FailedPrecondition, detail: "precondition" },
  "idempotency-mismatch": { code: Code.FailedPrecondition, detail: "none" },
  // Only a duplicate; any other conflict is transient (ruleFor).
  conflict: { code: Code.AlreadyExists, detail: "resource-info" },
  "already-exists": { code: Code.AlreadyExists, detail: "resource-info" },
  quota: { code: Code.ResourceExhausted, detail: "quota" },
  throttling: { code: Code.ResourceExhausted, detail: "retry" },
  unavailable: { code: Code.Unavailable, detail: "retry" },
  "access-denied": {
    code: Code.PermissionDenied,
    detail: "none",
    reason: "UPSTREAM_ACCESS_DENIED",
    gatewayOwned: true,
    message: "the gateway's AWS identity is not allowed to perform this action",
  },
  credentials: {
    code: Code.Internal,
    detail: "none",
    reason: "UPSTREAM_CREDENTIALS",
    gatewayOwned: true,
    message: credentialsMessage,
  },
  // The gateway asked for an operation AWS does not have: its own bug.
  "unknown-operation": {
    code: Code.Internal,
    detail: "none",
    reason: "INTERNAL",
    gatewayOwned: true,
    message: "internal error",
  },
};

/**
 * Lambda answers ResourceConflictException both for a duplicate statement ID
 * and for "An update is in progress for resource: ...". Only the first is a
 * definitive ALREADY_EXISTS, which the idempotency guard stores for a day;
 * the second must stay retryable, so anything not recorded as a duplicate
 * (AWS's own summary "already exists, or another operation is in progress"
 * included) is ABORTED with RetryInfo, which the guard releases.
 */
const conflictInProgress: AwsRule = { code: Code.Aborted, detail: "retry" };

function ruleFor(error: AwsApiError): AwsRule | undefined {
  const kind = kindOfAwsError(error.service, error.code);
  if (kind === "conflict" && !isDuplicateStatementConflict(error.message)) return conflictInProgress;
  return kind === undefined ? undefined : rulesByKind[kind];
}

/** The PreconditionFailure type: the RevisionId, or the rule of the resource that refused. */
function violationTypeOf(error: AwsApiError): string {
  return kindOfAwsError(error.service, error.code) === "revision-mismatch" ? "REVISION_ID" : reasonOf(error.code);
}

/** Seconds suggested to a caller retrying after a transient failure with no Retry-After. */
const defaultRetryDelayMs = 1000;

/**
 * Maps any failure of a call to a ConnectError. ConnectErrors pass through
 * unchanged (they were built for the wire already).
 */
export function toConnectError(error: unknown, subject: ErrorSubject, logger: Logger): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof RequestValidationError) return invalidArgument(error);
  if (error instanceof AwsApiError) return fromAwsApiError(error, subject, logger);
  if (error instanceof UpstreamOutcomeUnknownError) return outcomeUnknown(error, logger);
  const accountError = fromAccountError(error, logger);
  if (accountError !== undefined) return accountError;
  if (error instanceof UpstreamTimeoutError) {
    if (error.cancelled) return gatewayError(Code.Canceled, "the call was cancelled", "CANCELLED", []);
    if (error.callerDeadlineExceeded) {
      return gatewayError(
        Code.DeadlineExceeded,
        `${error.service} did not answer before the deadline`,
        "UPSTREAM_TIMEOUT",
        [],
      );
    }
    return gatewayError(Code.Unavailable, `${error.service} timed out; retry later`, "UPSTREAM_TIMEOUT", [
      retryInfo(defaultRetryDelayMs),
    ]);
  }
  if (error instanceof UpstreamNetworkError) {
    logger.warn("upstream unreachable", { service: error.service, error });
    return gatewayError(
      Code.Unavailable,
      `${error.service} could not be reached; retry later`,
      "UPSTREAM_UNAVAILABLE",
      [retryInfo(defaultRetryDelayMs)],
    );
  }
  if (error instanceof UpstreamCredentialsError) {
    logger.error("upstream credentials failed", { service: error.service, error });
    const metadata: Record<string, string> = error.code === undefined ? {} : { awsErrorCode: error.code };
    return gatewayError(Code.Internal, credentialsMessage, "UPSTREAM_CREDENTIALS", [], metadata);
  }
  logger.error("unexpected failure", { error });
  return gatewayError(Code.Internal, "internal error", "INTERNAL", []);
}

/**
 * A mutation that may have taken effect: never a plain failure, which the
 * caller would read as "nothing happened". The code says what ended the wait
 * (the caller's deadline, its cancellation, or an upstream that stopped
 * answering); the reason says the effect is unknown, so the idempotency
 * guard keeps the token and the retry reconciles with the actual state.
 */
function outcomeUnknown(error: UpstreamOutcomeUnknownError, logger: Logger): ConnectError {
  logger.warn("upstream outcome unknown", { service: error.service, error });
  if (error.abort === "deadline") {
    return gatewayError(
      Code.DeadlineExceeded,
      `the deadline passed before ${error.service} answered; the change may have been made`,
      OUTCOME_UNKNOWN_REASON,
      [],
    );
  }
  if (error.abort === "cancelled") {
    return gatewayError(
      Code.Canceled,
      `the call was cancelled while ${error.service} had it; the change may have been made`,
      OUTCOME_UNKNOWN_REASON,
      [],
    );
  }
  return gatewayError(
    Code.Unavailable,
    `${error.service} did not confirm the change, which may have been made; retry with the same idempotency key`,
    OUTCOME_UNKNOWN_REASON,
    [retryInfo(defaultRetryDelayMs)],
  );
}

/** ErrorInfo reason of a mutation refused because its audit attempt event could not be written. */
export const AUDIT_UNAVAILABLE_REASON = "AUDIT_UNAVAILABLE";

/**
 * A mutation refused before AWS was called, because the audit trail could
 * not record the attempt (AUDIT_FAILURE_MODE=closed). Nothing was changed
 * and nothing stored, so a retry with the same token runs afresh.
 */
export function auditUnavailable(): ConnectError {
  return gatewayError(
    Code.Unavailable,
    "the audit trail cannot record this change, so it was not made; retry later",
    AUDIT_UNAVAILABLE_REASON,
    [retryInfo(defaultRetryDelayMs)],
  );
}

/** INVALID_ARGUMENT with one FieldViolation per broken field. */
function invalidArgument(error: RequestValidationError): ConnectError {
  const fieldViolations = error.violations.map((v) => ({ field: v.field, description: v.description }));
  return gatewayError(Code.InvalidArgument, error.message, "INVALID_REQUEST", [
    { desc: BadRequestSchema, value: { fieldViolations } },
  ]);
}

/** The registry's refusals and failures of assuming a target account's role; undefined for other errors. */
function fromAccountError(error: unknown, logger: Logger): ConnectError | undefined {
  if (error instanceof AccountNotManagedError)
    return gatewayError(Code.FailedPrecondition, error.message, "ACCOUNT_NOT_MANAGED", [], { account: error.account });
  if (error instanceof RegionNotManagedError)
    return gatewayError(Code.FailedPrecondition, error.message, "REGION_NOT_MANAGED", [], {
      account: error.account,
      region: error.region,
    });
  if (!(error instanceof RoleSessionError)) return undefined;
  const metadata = { account: error.account, roleArn: error.roleArn };
  switch (error.failure) {
    case "denied":
      return gatewayError(
        Code.PermissionDenied,
        `STS refused to let the gateway assume ${error.roleArn}: check the role's trust policy`,
        "UPSTREAM_ACCESS_DENIED",
        [],
        metadata,
      );
    case "throttled":
      return gatewayError(
        Code.Unavailable,
        "STS throttled the gateway; retry later",
        "UPSTREAM_THROTTLED",
        [retryInfo(defaultRetryDelayMs)],
        metadata,
      );
    case "unavailable":
      logger.warn("STS unavailable", { roleArn: error.roleArn, error });
      return gatewayError(
        Code.Unavailable,
        "STS could not be reached; retry later",
        "UPSTREAM_UNAVAILABLE",
        [retryInfo(defaultRetryDelayMs)],
        metadata,
      );
  }
}

/** An error of the gateway's own (domain permission-gateway). */
export function gatewayError(
  code: Code,
  message: string,
  reason: string,
  details: Detail[],
  metadata: Record<string, string> = {},
): ConnectError {
  return new ConnectError(message, code, undefined, [errorInfo(reason, GATEWAY_DOMAIN, metadata), ...details]);
}

export function retryInfo(delayMs: number): Detail {
  return { desc: RetryInfoSchema, value: { retryDelay: durationFromMs(Math.max(0, Math.round(delayMs))) } };
}

function fromAwsApiError(error: AwsApiError, subject: ErrorSubject, logger: Logger): ConnectError {
  const rule = ruleFor(error);
  const metadata: Record<string, string> = { awsErrorCode: error.code };
  if (error.requestId !== undefined) metadata["awsRequestId"] = error.requestId;
  if (error.httpStatus !== undefined) metadata["httpStatus"] = String(error.httpStatus);
  if (rule === undefined) {
    logger.error("unmapped AWS error", { service: error.service, awsErrorCode: error.code, error });
    return gatewayError(Code.Internal, "internal error", "INTERNAL", [], metadata);
  }
  if ("gatewayOwned" in rule) {
    logger.error("upstream refused the gateway's request", { service: error.service, awsErrorCode: error.code, error });
    return gatewayError(rule.code, rule.message, rule.reason, [], metadata);
  }
  const details: Detail[] = [errorInfo(reasonOf(error.code), awsDomain[error.service], metadata)];
  switch (rule.detail) {
    case "bad-request":
      details.push({
        desc: BadRequestSchema,
        value: { fieldViolations: [{ field: fieldOfAwsError(error.code, error.message), description: error.message }] },
      });
      break;
    case "resource-info":
      details.push({
        desc: ResourceInfoSchema,
        value: { resourceType: subject.resourceType, resourceName: subject.resourceName, description: error.message },
      });
      break;
    case "precondition":
      details.push({
        desc: PreconditionFailureSchema,
        value: {
          violations: [{ type: violationTypeOf(error), subject: subject.resourceName, description: error.message }],
        },
      });
      break;
    case "quota":
      details.push({
        desc: QuotaFailureSchema,
        value: { violations: [{ subject: subject.resourceName, description: error.message }] },
      });
      break;
    case "retry":
      details.push(
        retryInfo(error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : defaultRetryDelayMs),
      );
      break;
    case "none":
      break;
  }
  return new ConnectError(error.message, rule.code, undefined, details);
}

function errorInfo(reason: string, domain: string, metadata: Record<string, string>): Detail {
  return { desc: ErrorInfoSchema, value: { reason, domain, metadata } };
}

/** "ResourceNotFoundException" -> "RESOURCE_NOT_FOUND". */
export function reasonOf(awsErrorCode: string): string {
  return awsErrorCode
    .replace(/Exception$/, "")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase();
}

/** AWS errors whose name alone says which request field was wrong. */
const fieldOfCode: Readonly<Record<string, string>> = {
  InvalidNextTokenException: "pageToken",
  MalformedArnException: "permissionArn",
  InvalidClientTokenException: "clientToken",
  MalformedPolicyTemplateException: "policyTemplate",
  InvalidPolicyException: "policyTemplate",
  InvalidMaxResultsException: "pageSize",
};

/** AWS member names whose gateway field is not just their lower camel case. */
const renamedMembers: Readonly<Record<string, string>> = { maxResults: "pageSize", nextToken: "pageToken" };

/**
 * Members recognised anywhere in free text. Single lower-case words that
 * ordinary English also uses ("name", "action", "tags") are left out: they
 * are only trusted in AWS's "at '<member>'" form.
 */
const memberInText =
  /\b(FunctionName|functionName|StatementId|statementId|Qualifier|qualifier|RevisionId|revisionId|Principal|principal|SourceArn|sourceArn|SourceAccount|sourceAccount|EventSourceToken|eventSourceToken|PrincipalOrgID|principalOrgID|principalOrgId|FunctionUrlAuthType|functionUrlAuthType|permissionArn|permissionVersion|permissionType|resourceType|policyTemplate|clientToken|maxResults|nextToken)\b/;

/**
 * The request's JSON field path an AWS error blames: from the error's name
 * where that implies the field, else from the member AWS names in its message
 * ("Value 'x' at 'statementId' failed ...", "... PrincipalOrgID ..."), in the
 * gateway's JSON names. "" when nothing says which field it was.
 */
export function fieldOfAwsError(code: string, message: string): string {
  if (Object.hasOwn(fieldOfCode, code)) return fieldOfCode[code] ?? "";
  const member = /\bat '([A-Za-z][\w.]*)'/.exec(message)?.[1] ?? memberInText.exec(message)?.[1];
  return member === undefined ? "" : gatewayFieldOf(member);
}

/** "PrincipalOrgID" -> "principalOrgId", "maxResults" -> "pageSize", "tags.1.member.key" -> "tags". */
function gatewayFieldOf(member: string): string {
  const head = member.split(".")[0] ?? member;
  const camel = (head.charAt(0).toLowerCase() + head.slice(1)).replace(/ID$/, "Id");
  return Object.hasOwn(renamedMembers, camel) ? (renamedMembers[camel] ?? camel) : camel;
}

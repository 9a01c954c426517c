// The error table of DESIGN.md section 5, row by row: AWS error name -> gRPC
// code, ErrorInfo reason/domain/metadata and the detail that goes with it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  PreconditionFailureSchema,
  QuotaFailureSchema,
  ResourceInfoSchema,
  RetryInfoSchema,
} from "../gen/google/rpc/error_details_pb.js";
import {
  AwsApiError,
  UpstreamCredentialsError,
  UpstreamNetworkError,
  UpstreamTimeoutError,
  type AwsService,
} from "../src/backend/errors.js";
import { reasonOf, toConnectError } from "../src/errors.js";
import type { Logger } from "../src/logger.js";
import { RequestValidationError } from "../src/validation.js";

const subject = { resourceType: "lambda:function", resourceName: "demo" };

function recordingLogger(): Logger & { lines: { level: string; message: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(fields === undefined ? { level, message } : { level, message, fields });
  };
  return { lines, debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

function aws(service: AwsService, code: string, extra: Partial<{ retryAfterSeconds: number; httpStatus: number }> = {}): AwsApiError {
  return new AwsApiError({ service, code, message: `${code} happened`, requestId: "req-1", httpStatus: 400, ...extra });
}

type DetailName = "bad-request" | "resource-info" | "precondition" | "quota" | "retry" | "none";
const rows: [AwsService, string, Code, DetailName][] = [
  ["lambda", "InvalidParameterValueException", Code.InvalidArgument, "bad-request"],
  ["lambda", "ValidationException", Code.InvalidArgument, "bad-request"],
  ["ram", "InvalidClientTokenException", Code.InvalidArgument, "bad-request"],
  ["ram", "MalformedArnException", Code.InvalidArgument, "bad-request"],
  ["ram", "InvalidParameterException", Code.InvalidArgument, "bad-request"],
  ["ram", "InvalidPolicyException", Code.InvalidArgument, "bad-request"],
  ["ram", "MalformedPolicyTemplateException", Code.InvalidArgument, "bad-request"],
  ["ram", "InvalidNextTokenException", Code.InvalidArgument, "bad-request"],
  ["lambda", "ResourceNotFoundException", Code.NotFound, "resource-info"],
  ["ram", "UnknownResourceException", Code.NotFound, "resource-info"],
  ["lambda", "PreconditionFailedException", Code.FailedPrecondition, "precondition"],
  ["lambda", "PublicPolicyException", Code.FailedPrecondition, "precondition"],
  ["ram", "OperationNotPermittedException", Code.FailedPrecondition, "precondition"],
  ["ram", "IdempotentParameterMismatchException", Code.FailedPrecondition, "none"],
  ["lambda", "ResourceConflictException", Code.AlreadyExists, "resource-info"],
  ["ram", "PermissionAlreadyExistsException", Code.AlreadyExists, "resource-info"],
  ["lambda", "PolicyLengthExceededException", Code.ResourceExhausted, "quota"],
  ["ram", "PermissionLimitExceededException", Code.ResourceExhausted, "quota"],
  ["ram", "PermissionVersionsLimitExceededException", Code.ResourceExhausted, "quota"],
  ["lambda", "TooManyRequestsException", Code.ResourceExhausted, "retry"],
  ["ram", "ThrottlingException", Code.ResourceExhausted, "retry"],
  ["lambda", "ServiceException", Code.Unavailable, "retry"],
  ["ram", "ServerInternalException", Code.Unavailable, "retry"],
  ["ram", "ServiceUnavailableException", Code.Unavailable, "retry"],
];

const detailSchema = {
  "bad-request": BadRequestSchema,
  "resource-info": ResourceInfoSchema,
  precondition: PreconditionFailureSchema,
  quota: QuotaFailureSchema,
  retry: RetryInfoSchema,
} as const;

for (const [service, awsCode, code, detail] of rows) {
  test(`${service} ${awsCode} -> ${Code[code]} with ${detail}`, () => {
    const error = toConnectError(aws(service, awsCode), subject, recordingLogger());
    assert.equal(error.code, code);
    assert.equal(error.rawMessage, `${awsCode} happened`);
    const infos = error.findDetails(ErrorInfoSchema);
    assert.equal(infos.length, 1);
    assert.equal(infos[0]?.reason, reasonOf(awsCode));
    assert.equal(infos[0]?.domain, `${service}.amazonaws.com`);
    assert.deepEqual(infos[0]?.metadata, { awsErrorCode: awsCode, awsRequestId: "req-1", httpStatus: "400" });
    if (detail !== "none") assert.equal(error.findDetails(detailSchema[detail]).length, 1);
    assert.equal(error.details.length, detail === "none" ? 1 : 2);
  });
}

test("the reason is the AWS name in UPPER_SNAKE_CASE without Exception", () => {
  assert.equal(reasonOf("ResourceNotFoundException"), "RESOURCE_NOT_FOUND");
  assert.equal(reasonOf("IdempotentParameterMismatchException"), "IDEMPOTENT_PARAMETER_MISMATCH");
});

test("NOT_FOUND names the resource the caller asked for", () => {
  const error = toConnectError(aws("lambda", "ResourceNotFoundException"), subject, recordingLogger());
  const [info] = error.findDetails(ResourceInfoSchema);
  assert.equal(info?.resourceType, "lambda:function");
  assert.equal(info?.resourceName, "demo");
});

test("Retry-After becomes RetryInfo; without it a one-second hint", () => {
  const throttled = toConnectError(aws("ram", "ThrottlingException", { retryAfterSeconds: 7 }), subject, recordingLogger());
  assert.equal(throttled.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds, 7n);
  const unavailable = toConnectError(aws("lambda", "ServiceException"), subject, recordingLogger());
  assert.equal(unavailable.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds, 1n);
});

test("AWS validation messages name the field in BadRequest", () => {
  const error = toConnectError(
    new AwsApiError({ service: "lambda", code: "ValidationException", message: "1 validation error detected: Value 'a b' at 'statementId' failed to satisfy constraint" }),
    subject,
    recordingLogger(),
  );
  assert.equal(error.findDetails(BadRequestSchema)[0]?.fieldViolations[0]?.field, "statementId");
});

test("AccessDenied is the gateway's identity: PERMISSION_DENIED UPSTREAM_ACCESS_DENIED", () => {
  const logger = recordingLogger();
  const error = toConnectError(aws("lambda", "AccessDeniedException"), subject, logger);
  assert.equal(error.code, Code.PermissionDenied);
  const [info] = error.findDetails(ErrorInfoSchema);
  assert.equal(info?.reason, "UPSTREAM_ACCESS_DENIED");
  assert.equal(info?.domain, "permission-gateway");
  assert.equal(info?.metadata["awsErrorCode"], "AccessDeniedException");
  assert.doesNotMatch(error.rawMessage, /AccessDeniedException happened/);
  assert.equal(logger.lines.filter((l) => l.level === "error").length, 1);
});

for (const awsCode of ["ExpiredTokenException", "UnrecognizedClientException", "InvalidSignatureException"]) {
  test(`${awsCode} -> INTERNAL UPSTREAM_CREDENTIALS`, () => {
    const error = toConnectError(aws("ram", awsCode), subject, recordingLogger());
    assert.equal(error.code, Code.Internal);
    assert.equal(error.findDetails(ErrorInfoSchema)[0]?.reason, "UPSTREAM_CREDENTIALS");
  });
}

test("missing credentials -> INTERNAL UPSTREAM_CREDENTIALS, cause logged not sent", () => {
  const logger = recordingLogger();
  const error = toConnectError(new UpstreamCredentialsError("lambda", "Could not load credentials from any providers"), subject, logger);
  assert.equal(error.code, Code.Internal);
  assert.equal(error.findDetails(ErrorInfoSchema)[0]?.reason, "UPSTREAM_CREDENTIALS");
  assert.doesNotMatch(error.rawMessage, /providers/);
  assert.equal(logger.lines.length, 1);
});

test("network failure -> UNAVAILABLE with RetryInfo", () => {
  const error = toConnectError(new UpstreamNetworkError("ram", "connect ECONNREFUSED 127.0.0.1:1"), subject, recordingLogger());
  assert.equal(error.code, Code.Unavailable);
  assert.equal(error.findDetails(ErrorInfoSchema)[0]?.reason, "UPSTREAM_UNAVAILABLE");
  assert.equal(error.findDetails(RetryInfoSchema).length, 1);
  assert.doesNotMatch(error.rawMessage, /127\.0\.0\.1/);
});

test("timeout: DEADLINE_EXCEEDED when the caller's deadline is spent, else UNAVAILABLE; CANCELLED when the caller left", () => {
  const spent = toConnectError(new UpstreamTimeoutError("lambda", "aborted", true), subject, recordingLogger());
  assert.equal(spent.code, Code.DeadlineExceeded);
  const upstream = toConnectError(new UpstreamTimeoutError("lambda", "socket timeout", false), subject, recordingLogger());
  assert.equal(upstream.code, Code.Unavailable);
  const cancelled = toConnectError(new UpstreamTimeoutError("lambda", "aborted", false, { cancelled: true }), subject, recordingLogger());
  assert.equal(cancelled.code, Code.Canceled);
  for (const error of [spent, upstream, cancelled]) assert.equal(error.findDetails(ErrorInfoSchema).length, 1);
});

test("an unknown failure -> INTERNAL with a generic message; the cause is logged, never sent", () => {
  const logger = recordingLogger();
  const error = toConnectError(new TypeError("secret detail: cannot read x of undefined"), subject, logger);
  assert.equal(error.code, Code.Internal);
  assert.equal(error.rawMessage, "internal error");
  assert.equal(error.findDetails(ErrorInfoSchema)[0]?.reason, "INTERNAL");
  assert.equal(error.cause, undefined);
  assert.equal(logger.lines[0]?.level, "error");
  assert.ok(logger.lines[0]?.fields?.["error"] instanceof TypeError);
});

test("an AWS error the table does not know -> INTERNAL, logged", () => {
  const logger = recordingLogger();
  const error = toConnectError(aws("lambda", "EC2ThrottledException"), subject, logger);
  assert.equal(error.code, Code.Internal);
  assert.equal(error.rawMessage, "internal error");
  assert.equal(logger.lines.length, 1);
});

test("validation errors -> INVALID_ARGUMENT with one FieldViolation each", () => {
  const error = toConnectError(
    new RequestValidationError([
      { field: "functionName", description: "Member must not be null" },
      { field: "statementId", description: "Member must have length less than or equal to 100" },
    ]),
    subject,
    recordingLogger(),
  );
  assert.equal(error.code, Code.InvalidArgument);
  assert.deepEqual(error.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field), ["functionName", "statementId"]);
  assert.equal(error.findDetails(ErrorInfoSchema)[0]?.reason, "INVALID_REQUEST");
});

test("a ConnectError passes through unchanged", () => {
  const original = new ConnectError("already mapped", Code.Aborted);
  assert.equal(toConnectError(original, subject, recordingLogger()), original);
});

// The error table of docs/errors.md, row by row: AWS error name -> gRPC
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
  UpstreamOutcomeUnknownError,
  UpstreamTimeoutError,
  type AwsService,
} from "../src/backend/errors.js";
import { isOutcomeUnknownError, OUTCOME_UNKNOWN_REASON, reasonOf, toConnectError } from "../src/errors.js";
import { RequestValidationError } from "../src/validation.js";
import { createRecordingLogger } from "./support/recording-logger.js";

const subject = { resourceType: "lambda:function", resourceName: "demo" };

function aws(
  service: AwsService,
  code: string,
  extra: Partial<{ retryAfterSeconds: number; httpStatus: number }> = {},
): AwsApiError {
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
  // "ResourceConflictException happened" does not say it is a duplicate: transient.
  ["lambda", "ResourceConflictException", Code.Aborted, "retry"],
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
    const error = toConnectError(aws(service, awsCode), subject, createRecordingLogger());
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

const conflictRows: [string, Code, DetailName][] = [
  [
    "The statement id (allow-s3) provided already exists. Please provide a new statement id, or remove the existing statement.",
    Code.AlreadyExists,
    "resource-info",
  ],
  // Not the recorded duplicate wording: not certainly a duplicate, so retryable.
  ["The resource already exists.", Code.Aborted, "retry"],
  [
    "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:123456789012:function:demo",
    Code.Aborted,
    "retry",
  ],
  [
    "The operation cannot be performed at this time. The function is currently in the following state: Pending",
    Code.Aborted,
    "retry",
  ],
  // AWS's summary of the error names both cases: not plainly a duplicate.
  ["The resource already exists, or another operation is in progress.", Code.Aborted, "retry"],
  ["", Code.Aborted, "retry"],
];

for (const [message, code, detail] of conflictRows) {
  test(`ResourceConflictException "${message.slice(0, 50)}" -> ${Code[code]} with ${detail}`, () => {
    const error = toConnectError(
      new AwsApiError({
        service: "lambda",
        code: "ResourceConflictException",
        message,
        requestId: "req-1",
        httpStatus: 409,
      }),
      subject,
      createRecordingLogger(),
    );
    assert.equal(error.code, code);
    assert.equal(error.rawMessage, message);
    const infos = error.findDetails(ErrorInfoSchema);
    assert.equal(infos.length, 1);
    assert.equal(infos[0]?.reason, "RESOURCE_CONFLICT");
    assert.equal(infos[0]?.domain, "lambda.amazonaws.com");
    assert.deepEqual(infos[0]?.metadata, {
      awsErrorCode: "ResourceConflictException",
      awsRequestId: "req-1",
      httpStatus: "409",
    });
    assert.equal(error.findDetails(detailSchema[detail === "none" ? "retry" : detail]).length, 1);
    assert.equal(error.details.length, 2);
    if (detail === "retry") assert.equal(error.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds, 1n);
    if (detail === "resource-info") assert.equal(error.findDetails(ResourceInfoSchema)[0]?.resourceName, "demo");
  });
}

test("the reason is the AWS name in UPPER_SNAKE_CASE without Exception", () => {
  assert.equal(reasonOf("ResourceNotFoundException"), "RESOURCE_NOT_FOUND");
  assert.equal(reasonOf("IdempotentParameterMismatchException"), "IDEMPOTENT_PARAMETER_MISMATCH");
});

test("NOT_FOUND names the resource the caller asked for", () => {
  const error = toConnectError(aws("lambda", "ResourceNotFoundException"), subject, createRecordingLogger());
  const [info] = error.findDetails(ResourceInfoSchema);
  assert.equal(info?.resourceType, "lambda:function");
  assert.equal(info?.resourceName, "demo");
});

test("Retry-After becomes RetryInfo; without it a one-second hint", () => {
  const throttled = toConnectError(
    aws("ram", "ThrottlingException", { retryAfterSeconds: 7 }),
    subject,
    createRecordingLogger(),
  );
  assert.equal(throttled.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds, 7n);
  const unavailable = toConnectError(aws("lambda", "ServiceException"), subject, createRecordingLogger());
  assert.equal(unavailable.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds, 1n);
});

const fieldRows: [AwsService, string, string, string][] = [
  // The error's name says which field.
  ["ram", "InvalidNextTokenException", "The specified value for NextToken is not valid.", "pageToken"],
  ["ram", "MalformedArnException", "The format of an Amazon Resource Name (ARN) is not valid.", "permissionArn"],
  ["ram", "InvalidClientTokenException", "The client token is not valid.", "clientToken"],
  ["ram", "MalformedPolicyTemplateException", "The policy template is not valid.", "policyTemplate"],
  ["ram", "InvalidPolicyException", "The policy contains a syntax error.", "policyTemplate"],
  ["ram", "InvalidMaxResultsException", "The specified value for MaxResults is not valid.", "pageSize"],
  // AWS's "Value ... at '<member>'" form, in the gateway's JSON names.
  [
    "lambda",
    "ValidationException",
    "1 validation error detected: Value 'a b' at 'statementId' failed to satisfy constraint",
    "statementId",
  ],
  [
    "lambda",
    "ValidationException",
    "1 validation error detected: Value 'x' at 'principalOrgID' failed to satisfy constraint",
    "principalOrgId",
  ],
  [
    "lambda",
    "ValidationException",
    "1 validation error detected: Value 'f n' at 'FunctionName' failed to satisfy constraint",
    "functionName",
  ],
  [
    "lambda",
    "ValidationException",
    "1 validation error detected: Value 'q.1' at 'Qualifier' failed to satisfy constraint",
    "qualifier",
  ],
  [
    "ram",
    "InvalidParameterException",
    "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint",
    "pageSize",
  ],
  [
    "ram",
    "InvalidParameterException",
    "1 validation error detected: Value 'x' at 'nextToken' failed to satisfy constraint",
    "pageToken",
  ],
  [
    "ram",
    "InvalidParameterException",
    "1 validation error detected: Value 'x' at 'tags.1.member.key' failed to satisfy constraint",
    "tags",
  ],
  // A member named in free text.
  [
    "lambda",
    "InvalidParameterValueException",
    "The RevisionId provided does not match the expected format.",
    "revisionId",
  ],
  ["lambda", "InvalidParameterValueException", "Invalid PrincipalOrgID: o-x", "principalOrgId"],
  [
    "lambda",
    "InvalidParameterValueException",
    "The derived qualifier from the function name does not match the specified qualifier.",
    "qualifier",
  ],
  ["ram", "InvalidParameterException", "The maxResults value must be between 1 and 500.", "pageSize"],
  // Nothing says which field.
  ["lambda", "InvalidParameterValueException", "One of the parameters in the request is not valid.", ""],
  ["ram", "InvalidParameterException", "The action name is not valid.", ""],
];

for (const [service, awsCode, message, field] of fieldRows) {
  test(`${awsCode} "${message.slice(0, 60)}" blames field ${JSON.stringify(field)}`, () => {
    const error = toConnectError(
      new AwsApiError({ service, code: awsCode, message }),
      subject,
      createRecordingLogger(),
    );
    assert.equal(error.code, Code.InvalidArgument);
    assert.deepEqual(
      error
        .findDetails(BadRequestSchema)[0]
        ?.fieldViolations.map((v) => ({ field: v.field, description: v.description })),
      [{ field, description: message }],
    );
  });
}

test("AccessDenied is the gateway's identity: PERMISSION_DENIED UPSTREAM_ACCESS_DENIED", () => {
  const logger = createRecordingLogger();
  const error = toConnectError(aws("lambda", "AccessDeniedException"), subject, logger);
  assert.equal(error.code, Code.PermissionDenied);
  const [info] = error.findDetails(ErrorInfoSchema);
  assert.equal(info?.reason, "UPSTREAM_ACCESS_DENIED");
  assert.equal(info?.domain, "permission-gateway");
  assert.equal(info?.metadata["awsErrorCode"], "AccessDeniedException");
  assert.doesNotMatch(error.rawMessage, /AccessDeniedException happened/);
  assert.equal(logger.lines.filter((l) => l.level === "error").length, 1);
});

for (const awsCode of [
  "ExpiredTokenException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "IncompleteSignatureException",
  "IncompleteSignature",
  "MissingAuthenticationTokenException",
  "MissingAuthenticationToken",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
]) {
  test(`${awsCode} -> INTERNAL UPSTREAM_CREDENTIALS`, () => {
    const error = toConnectError(aws("ram", awsCode), subject, createRecordingLogger());
    assert.equal(error.code, Code.Internal);
    const infos = error.findDetails(ErrorInfoSchema);
    assert.equal(infos.length, 1);
    assert.equal(infos[0]?.reason, "UPSTREAM_CREDENTIALS");
    assert.equal(infos[0]?.domain, "permission-gateway");
    assert.equal(infos[0]?.metadata["awsErrorCode"], awsCode);
    assert.doesNotMatch(error.rawMessage, /happened/);
  });
}

test("RAM's InvalidClientTokenException is about the request's token, not credentials", () => {
  const error = toConnectError(aws("ram", "InvalidClientTokenException"), subject, createRecordingLogger());
  assert.equal(error.code, Code.InvalidArgument);
});

for (const awsCode of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
  test(`an AWS error named ${awsCode} is unknown, not a property of Object.prototype`, () => {
    const logger = createRecordingLogger();
    const error = toConnectError(aws("lambda", awsCode), subject, logger);
    assert.equal(error.code, Code.Internal);
    assert.equal(error.rawMessage, "internal error");
    assert.equal(error.findDetails(ErrorInfoSchema).length, 1);
  });
}

test("missing credentials -> INTERNAL UPSTREAM_CREDENTIALS, cause logged not sent", () => {
  const logger = createRecordingLogger();
  const error = toConnectError(
    new UpstreamCredentialsError("lambda", "Could not load credentials from any providers"),
    subject,
    logger,
  );
  assert.equal(error.code, Code.Internal);
  assert.equal(error.findDetails(ErrorInfoSchema)[0]?.reason, "UPSTREAM_CREDENTIALS");
  assert.doesNotMatch(error.rawMessage, /providers/);
  assert.equal(logger.lines.length, 1);
});

test("a credentials error answered by AWS carries the same metadata whichever backend read it", () => {
  // The fake answers AwsApiErrors with its own request ID; the AWS adapter now does the same.
  const error = toConnectError(
    aws("lambda", "ExpiredTokenException", { httpStatus: 403 }),
    subject,
    createRecordingLogger(),
  );
  assert.deepEqual(error.findDetails(ErrorInfoSchema)[0]?.metadata, {
    awsErrorCode: "ExpiredTokenException",
    awsRequestId: "req-1",
    httpStatus: "403",
  });
});

const outcomeUnknownRows: [string, UpstreamOutcomeUnknownError, Code, boolean][] = [
  ["no answer came", new UpstreamOutcomeUnknownError("lambda", "socket hang up after sending"), Code.Unavailable, true],
  [
    "the caller's deadline passed",
    new UpstreamOutcomeUnknownError("lambda", "deadline", { abort: "deadline" }),
    Code.DeadlineExceeded,
    false,
  ],
  [
    "the caller cancelled",
    new UpstreamOutcomeUnknownError("lambda", "cancelled", { abort: "cancelled" }),
    Code.Canceled,
    false,
  ],
];
for (const [why, failure, code, retry] of outcomeUnknownRows) {
  test(`an unknown outcome (${why}) -> ${Code[code]}, reason ${OUTCOME_UNKNOWN_REASON}, never a plain failure`, () => {
    const logger = createRecordingLogger();
    const error = toConnectError(failure, subject, logger);
    assert.equal(error.code, code);
    const infos = error.findDetails(ErrorInfoSchema);
    assert.equal(infos.length, 1);
    assert.equal(infos[0]?.reason, OUTCOME_UNKNOWN_REASON);
    assert.equal(infos[0]?.domain, "permission-gateway");
    assert.ok(isOutcomeUnknownError(error), "the idempotency guard recognises it");
    assert.equal(error.findDetails(RetryInfoSchema).length, retry ? 1 : 0);
    assert.match(error.rawMessage, /may have been made/);
    assert.doesNotMatch(error.rawMessage, /hang up/, "the cause is logged, never sent");
    assert.equal(logger.lines.filter((line) => line.level === "warn").length, 1);
  });
}

test("network failure -> UNAVAILABLE with RetryInfo", () => {
  const error = toConnectError(
    new UpstreamNetworkError("ram", "connect ECONNREFUSED 127.0.0.1:1"),
    subject,
    createRecordingLogger(),
  );
  assert.equal(error.code, Code.Unavailable);
  assert.equal(error.findDetails(ErrorInfoSchema)[0]?.reason, "UPSTREAM_UNAVAILABLE");
  assert.equal(error.findDetails(RetryInfoSchema).length, 1);
  assert.doesNotMatch(error.rawMessage, /127\.0\.0\.1/);
});

test("timeout: DEADLINE_EXCEEDED when the caller's deadline is spent, else UNAVAILABLE; CANCELLED when the caller left", () => {
  const spent = toConnectError(new UpstreamTimeoutError("lambda", "aborted", true), subject, createRecordingLogger());
  assert.equal(spent.code, Code.DeadlineExceeded);
  const upstream = toConnectError(
    new UpstreamTimeoutError("lambda", "socket timeout", false),
    subject,
    createRecordingLogger(),
  );
  assert.equal(upstream.code, Code.Unavailable);
  const cancelled = toConnectError(
    new UpstreamTimeoutError("lambda", "aborted", false, { cancelled: true }),
    subject,
    createRecordingLogger(),
  );
  assert.equal(cancelled.code, Code.Canceled);
  for (const error of [spent, upstream, cancelled]) assert.equal(error.findDetails(ErrorInfoSchema).length, 1);
});

test("an unknown failure -> INTERNAL with a generic message; the cause is logged, never sent", () => {
  const logger = createRecordingLogger();
  const error = toConnectError(new TypeError("secret detail: cannot read x of undefined"), subject, logger);
  assert.equal(error.code, Code.Internal);
  assert.equal(error.rawMessage, "internal error");
  assert.equal(error.findDetails(ErrorInfoSchema)[0]?.reason, "INTERNAL");
  assert.equal(error.cause, undefined);
  assert.equal(logger.lines[0]?.level, "error");
  assert.ok(logger.lines[0]?.fields?.["error"] instanceof TypeError);
});

test("an AWS error the table does not know -> INTERNAL, logged", () => {
  const logger = createRecordingLogger();
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
    createRecordingLogger(),
  );
  assert.equal(error.code, Code.InvalidArgument);
  assert.deepEqual(
    error.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field),
    ["functionName", "statementId"],
  );
  assert.equal(error.findDetails(ErrorInfoSchema)[0]?.reason, "INVALID_REQUEST");
});

test("a ConnectError passes through unchanged", () => {
  const original = new ConnectError("already mapped", Code.Aborted);
  assert.equal(toConnectError(original, subject, createRecordingLogger()), original);
});

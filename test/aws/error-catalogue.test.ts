// The one error catalogue: every name it knows reaches the caller with the
// gRPC code of its kind (none falls through to "unmapped"), the statuses and
// body members are the service models', and each service's own sorts of
// failure name an error it has.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  awsErrorCodes,
  awsErrorSpec,
  kindOfAwsError,
  LAMBDA_ERRORS,
  RAM_ERRORS,
  SERVICE_ERROR_CODES,
  servicesOfAwsError,
  type AwsErrorKind,
} from "../../src/aws/error-catalogue.js";
import { AwsApiError, type AwsService } from "../../src/backend/errors.js";
import { toConnectError } from "../../src/errors.js";
import { createRecordingLogger } from "../support/recording-logger.js";

const codeOfKind: Record<AwsErrorKind, Code> = {
  "invalid-argument": Code.InvalidArgument,
  "not-found": Code.NotFound,
  "revision-mismatch": Code.FailedPrecondition,
  "not-permitted": Code.FailedPrecondition,
  "idempotency-mismatch": Code.FailedPrecondition,
  // With the recorded duplicate wording (below); any other wording is retryable.
  conflict: Code.AlreadyExists,
  "already-exists": Code.AlreadyExists,
  quota: Code.ResourceExhausted,
  throttling: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  "access-denied": Code.PermissionDenied,
  credentials: Code.Internal,
  "unknown-operation": Code.Internal,
};

const logger = createRecordingLogger();
const unmapped = (): string[] =>
  logger.lines
    .filter((line) => line.level === "error" && line.message === "unmapped AWS error")
    .map((line) => line.message);

for (const service of ["lambda", "ram"] as const satisfies readonly AwsService[]) {
  for (const code of awsErrorCodes(service)) {
    test(`${service} ${code} reaches the caller as its kind says`, () => {
      const spec = awsErrorSpec(service, code);
      assert.ok(spec !== undefined);
      const message =
        code === "ResourceConflictException"
          ? "The statement id (s) provided already exists. Please provide a new statement id, or remove the existing statement."
          : spec.message;
      const error = toConnectError(
        new AwsApiError({ service, code, message, httpStatus: spec.httpStatus, requestId: "r" }),
        { resourceType: "t", resourceName: "n" },
        logger,
      );
      assert.equal(error.code, codeOfKind[spec.kind], Code[error.code]);
      assert.equal(error.findDetails(ErrorInfoSchema).length, 1);
      assert.deepEqual(unmapped(), []);
      assert.ok(spec.httpStatus >= 400 && spec.httpStatus <= 599);
      assert.ok(spec.message.length > 0);
      assert.ok(servicesOfAwsError(code).includes(service));
    });
  }
}

test("the statuses and message members of the models (botocore httpStatusCode and member names)", () => {
  const modelled: [AwsService, string, number, "message" | "Message"][] = [
    ["lambda", "ResourceNotFoundException", 404, "Message"],
    ["lambda", "ServiceException", 500, "Message"],
    ["lambda", "PublicPolicyException", 400, "Message"],
    ["lambda", "InvalidParameterValueException", 400, "message"],
    ["lambda", "PreconditionFailedException", 412, "message"],
    ["lambda", "ResourceConflictException", 409, "message"],
    ["lambda", "TooManyRequestsException", 429, "message"],
    ["lambda", "RequestTooLargeException", 413, "message"],
    ["ram", "UnknownResourceException", 400, "message"],
    ["ram", "PermissionAlreadyExistsException", 409, "message"],
    ["ram", "ThrottlingException", 429, "message"],
    ["ram", "ServiceUnavailableException", 503, "message"],
  ];
  for (const [service, code, status, member] of modelled) {
    assert.equal(awsErrorSpec(service, code)?.httpStatus, status, code);
    assert.equal(awsErrorSpec(service, code)?.messageMember, member, code);
  }
});

test("each service's throttling, internal and unreadable-request errors are its own", () => {
  for (const service of ["lambda", "ram"] as const) {
    const { throttling, internal, unreadableRequest } = SERVICE_ERROR_CODES[service];
    assert.equal(kindOfAwsError(service, throttling), "throttling");
    assert.equal(kindOfAwsError(service, internal), "unavailable");
    assert.equal(kindOfAwsError(service, unreadableRequest), "invalid-argument");
  }
});

test("a name neither service has is unknown; a common one belongs to both", () => {
  assert.equal(kindOfAwsError("lambda", "NoSuchException"), undefined);
  assert.deepEqual(servicesOfAwsError("AccessDeniedException"), ["lambda", "ram"]);
  assert.deepEqual(servicesOfAwsError("UnknownResourceException"), ["ram"]);
});

test("LAMBDA_ERRORS and RAM_ERRORS name exactly the catalogue's errors of each service", () => {
  assert.deepEqual(Object.keys(LAMBDA_ERRORS).sort(), [...awsErrorCodes("lambda")].sort());
  assert.deepEqual(Object.keys(RAM_ERRORS).sort(), [...awsErrorCodes("ram")].sort());
  for (const [key, name] of Object.entries({ ...LAMBDA_ERRORS, ...RAM_ERRORS })) assert.equal(name, key);
  // @ts-expect-error A name the catalogue does not have fails the typecheck.
  assert.equal(LAMBDA_ERRORS.ResourceNotFound, undefined);
  // @ts-expect-error RAM's names are not Lambda's.
  assert.equal(LAMBDA_ERRORS.UnknownResourceException, undefined);
});

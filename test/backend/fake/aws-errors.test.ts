// The fake's AWS errors, built from the shared catalogue: names, statuses,
// request IDs and what is missing, as AWS sends them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  awsErrorCodes as knownErrorCodes,
  servicesOfAwsError as servicesOfErrorCode,
} from "../../../src/aws/error-catalogue.js";
import { createAwsError } from "../../../src/backend/fake/aws-errors.js";
import { isAwsApiError } from "../../../src/backend/errors.js";
import { uuidPattern } from "./fake-test-helpers.js";

describe("fake AWS errors", () => {
  const statuses: ["lambda" | "ram", string, number][] = [
    ["lambda", "InvalidParameterValueException", 400],
    ["lambda", "ResourceNotFoundException", 404],
    ["lambda", "ResourceConflictException", 409],
    ["lambda", "PreconditionFailedException", 412],
    ["lambda", "PolicyLengthExceededException", 400],
    ["lambda", "TooManyRequestsException", 429],
    ["lambda", "ServiceException", 500],
    ["ram", "UnknownResourceException", 400],
    ["ram", "OperationNotPermittedException", 400],
    ["ram", "MalformedArnException", 400],
    ["ram", "InvalidParameterException", 400],
    ["ram", "MalformedPolicyTemplateException", 400],
    ["ram", "PermissionAlreadyExistsException", 409],
    ["ram", "PermissionLimitExceededException", 400],
    ["ram", "IdempotentParameterMismatchException", 400],
    ["ram", "InvalidClientTokenException", 400],
    ["ram", "InvalidNextTokenException", 400],
    ["ram", "ServerInternalException", 500],
    ["ram", "ServiceUnavailableException", 503],
    ["ram", "ThrottlingException", 429],
  ];
  for (const [service, code, httpStatus] of statuses) {
    it(`${service} ${code} has status ${httpStatus}`, () => {
      const error = createAwsError(service, code);
      assert.ok(isAwsApiError(error));
      assert.equal(error.service, service);
      assert.equal(error.code, code);
      assert.equal(error.httpStatus, httpStatus);
      assert.ok(error.message.length > 0);
      assert.deepEqual(servicesOfErrorCode(code), [service]);
      assert.ok(knownErrorCodes(service).includes(code));
    });
  }

  for (const code of ["AccessDeniedException", "ExpiredTokenException", "UnrecognizedClientException"]) {
    it(`knows the common error ${code} (403) for both services`, () => {
      assert.deepEqual(servicesOfErrorCode(code), ["lambda", "ram"]);
      for (const service of ["lambda", "ram"] as const) assert.equal(createAwsError(service, code).httpStatus, 403);
    });
  }

  it("gives every error its own request ID", () => {
    const ids = new Set(Array.from({ length: 20 }, () => createAwsError("ram", "ThrottlingException").requestId));
    assert.equal(ids.size, 20);
    for (const id of ids) assert.match(id ?? "", uuidPattern);
  });

  it("puts Retry-After on throttling errors only", () => {
    assert.equal(createAwsError("lambda", "TooManyRequestsException", { retryAfterSeconds: 3 }).retryAfterSeconds, 3);
    assert.equal(createAwsError("ram", "ThrottlingException").retryAfterSeconds, 1);
    assert.equal(createAwsError("lambda", "ServiceException", { retryAfterSeconds: 3 }).retryAfterSeconds, undefined);
  });

  const missing: ["lambda" | "ram", string, string, string | undefined][] = [
    ["lambda", "ResourceNotFoundException", "Statement s3 is not found in resource policy.", "statement"],
    ["lambda", "ResourceNotFoundException", "No policy is associated with the given resource.", "policy"],
    [
      "lambda",
      "ResourceNotFoundException",
      "Function not found: arn:aws:lambda:us-east-1:123456789012:function:gone",
      "function",
    ],
    [
      "lambda",
      "ResourceNotFoundException",
      "No policy found for: arn:aws:lambda:us-east-1:123456789012:function:gone",
      undefined,
    ],
    // The default message is GetPolicy's, which says nothing certain.
    ["lambda", "ResourceNotFoundException", "The resource you requested does not exist.", undefined],
    [
      "ram",
      "UnknownResourceException",
      "The operation failed because a specified resource couldn't be found.",
      "permission",
    ],
  ];
  for (const [service, code, message, expected] of missing) {
    it(`${code} "${message}" is missing ${String(expected)}, read as the AWS adapter reads it`, () => {
      assert.equal(createAwsError(service, code, { message }).missing, expected);
    });
  }

  it("refuses a code the service does not have", () => {
    assert.throws(() => createAwsError("lambda", "UnknownResourceException"));
    assert.throws(() => createAwsError("ram", "NoSuchException"));
    assert.deepEqual(servicesOfErrorCode("NoSuchException"), []);
  });
});

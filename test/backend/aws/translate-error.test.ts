// The pure parts of the error translation, table-driven: the messages AWS
// uses to say what is missing, Retry-After's two forms, and the Node and
// abort failures that HTTP tests cannot provoke on demand (DNS, EPIPE).
import assert from "node:assert/strict";
import { test } from "node:test";
import { abortedInFlightError, translateSdkError } from "../../../src/backend/aws/translate-error.js";
import { missingResourceOf } from "../../../src/aws/missing-resource.js";
import { UncertainAttemptError } from "../../../src/backend/aws/uncertain-attempts.js";
import { kindOfAwsError } from "../../../src/aws/error-catalogue.js";
import { callerAbortError } from "../../../src/backend/abort.js";
import { parseRetryAfter } from "../../../src/backend/aws/retry-after.js";
import {
  AwsApiError,
  UpstreamCredentialsError,
  UpstreamNetworkError,
  UpstreamOutcomeUnknownError,
  UpstreamTimeoutError,
  type AwsService,
  type MissingResource,
} from "../../../src/backend/errors.js";
import type { CallOptions } from "../../../src/backend/backend.js";

const missingCases: [AwsService, string, string, number | undefined, MissingResource | undefined][] = [
  [
    "lambda",
    "ResourceNotFoundException",
    "Function not found: arn:aws:lambda:us-east-1:123456789012:function:demo",
    undefined,
    "function",
  ],
  [
    "lambda",
    "ResourceNotFoundException",
    "Function not found: arn:aws:lambda:us-east-1:123456789012:function:demo:7",
    undefined,
    "qualifier",
  ],
  [
    "lambda",
    "ResourceNotFoundException",
    "Function not found: arn:aws:lambda:us-east-1:123456789012:function:demo:live",
    undefined,
    "qualifier",
  ],
  [
    "lambda",
    "ResourceNotFoundException",
    "Cannot find alias arn: arn:aws:lambda:us-east-1:123456789012:function:demo:live",
    undefined,
    "qualifier",
  ],
  // GetPolicy's words for a missing function and an empty policy alike: never a gone policy.
  ["lambda", "ResourceNotFoundException", "The resource you requested does not exist.", undefined, undefined],
  // RemovePermission on an unknown function: never a gone policy either.
  [
    "lambda",
    "ResourceNotFoundException",
    "No policy found for: arn:aws:lambda:us-east-1:123456789012:function:gone",
    undefined,
    undefined,
  ],
  [
    "lambda",
    "ResourceNotFoundException",
    "Alias not found: arn:aws:lambda:us-east-1:123456789012:function:demo:live",
    undefined,
    undefined,
  ],
  ["lambda", "ResourceNotFoundException", "No policy is associated with the given resource.", undefined, "policy"],
  [
    "lambda",
    "ResourceNotFoundException",
    "Statement allow-s3 is not found in resource policy.",
    undefined,
    "statement",
  ],
  [
    "lambda",
    "ResourceNotFoundException",
    "ResourceNotFoundException: injected by the fake AWS endpoint",
    undefined,
    undefined,
  ],
  ["lambda", "ResourceConflictException", "The statement id (x) provided already exists.", undefined, undefined],
  [
    "ram",
    "UnknownResourceException",
    "The permission arn:aws:ram:us-east-1:123456789012:permission/x does not exist.",
    undefined,
    "permission",
  ],
  [
    "ram",
    "UnknownResourceException",
    "Version 4 of the permission arn:aws:ram:us-east-1:123456789012:permission/x does not exist.",
    4,
    "permission-version",
  ],
  [
    "ram",
    "UnknownResourceException",
    "The permission arn:aws:ram:us-east-1:123456789012:permission/x does not exist.",
    4,
    "permission",
  ],
  ["ram", "MalformedArnException", "The ARN is not valid.", undefined, undefined],
];
for (const [service, code, message, version, expected] of missingCases) {
  test(`missing: ${service} ${code} "${message}" -> ${String(expected)}`, () => {
    assert.equal(missingResourceOf(service, code, message, version), expected);
  });
}

const now = Date.parse("2025-03-01T12:00:00Z");
const retryAfterCases: [string, number | undefined][] = [
  ["7", 7],
  [" 30 ", 30],
  ["1.5", 2],
  ["0", 0],
  ["Sat, 01 Mar 2025 12:00:10 GMT", 10],
  ["Sat, 01 Mar 2025 11:59:00 GMT", 0],
  ["soon", undefined],
  ["", undefined],
];
for (const [value, expected] of retryAfterCases) {
  test(`Retry-After ${JSON.stringify(value)} -> ${String(expected)} s`, () => {
    assert.equal(parseRetryAfter(value, now), expected);
  });
}

const live = (): CallOptions => ({ signal: new AbortController().signal });
const failed = (call: CallOptions = live()) => ({ service: "lambda" as const, call, now: () => now });

const nodeFailures: [string, object, string][] = [
  [
    "DNS failure",
    Object.assign(new Error("getaddrinfo ENOTFOUND lambda.example"), { code: "ENOTFOUND" }),
    "UpstreamNetworkError",
  ],
  [
    "reset, renamed by the SDK's handler",
    Object.assign(new Error("read ECONNRESET"), { name: "TimeoutError", code: "ECONNRESET" }),
    "UpstreamNetworkError",
  ],
  [
    "broken pipe",
    Object.assign(new Error("write EPIPE"), { name: "TimeoutError", code: "EPIPE" }),
    "UpstreamNetworkError",
  ],
  ["socket hang up", new Error("socket hang up"), "UpstreamNetworkError"],
  [
    "refused",
    Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
    "UpstreamNetworkError",
  ],
  [
    "the handler's request timeout",
    Object.assign(new Error("request timeout"), { name: "TimeoutError", code: "ETIMEDOUT" }),
    "UpstreamTimeoutError",
  ],
  [
    "the handler's connect timeout",
    Object.assign(new Error("connect timeout"), { name: "TimeoutError" }),
    "UpstreamTimeoutError",
  ],
  [
    "missing credentials",
    Object.assign(new Error("Could not load credentials"), { name: "CredentialsProviderError" }),
    "UpstreamCredentialsError",
  ],
];
for (const [name, error, expected] of nodeFailures) {
  test(`translates ${name} into ${expected}`, () => {
    const translated = translateSdkError(error, failed());
    assert.equal(translated.name, expected);
    assert.equal(translated.cause, error);
    if (translated instanceof UpstreamTimeoutError) {
      assert.equal(translated.callerDeadlineExceeded, false);
      assert.equal(translated.cancelled, false);
    }
  });
}

test("missing credentials, before anything is sent, are UpstreamCredentialsError", () => {
  const translated = translateSdkError(
    Object.assign(new Error("Could not load credentials"), { name: "TokenProviderError" }),
    failed(),
  );
  assert.ok(translated instanceof UpstreamCredentialsError);
  assert.equal(translated.code, "TokenProviderError");
});

const credentialAnswers: [string, number, string][] = [
  ["ExpiredTokenException", 403, "The security token included in the request is expired"],
  ["UnrecognizedClientException", 403, "The security token included in the request is invalid."],
  ["InvalidSignatureException", 403, "The request signature we calculated does not match the signature you provided."],
  ["IncompleteSignatureException", 400, "Authorization header requires 'Signature' parameter."],
  ["IncompleteSignature", 400, "Authorization header requires 'Credential' parameter."],
  ["MissingAuthenticationTokenException", 403, "Missing Authentication Token"],
  ["MissingAuthenticationToken", 403, "Request is missing Authentication Token"],
  ["InvalidClientTokenId", 403, "The security token included in the request is invalid."],
  ["SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided."],
];
// AWS answered: an AwsApiError like any other answer, request ID and status
// kept, exactly as the fake answers them; the wire mapping (src/errors.ts)
// turns every one into INTERNAL UPSTREAM_CREDENTIALS.
for (const [name, status, message] of credentialAnswers) {
  test(`an AWS ${name} answer is an AwsApiError of the credentials kind, as the fake's`, () => {
    const sdk = Object.assign(new Error(message), {
      name,
      $fault: "client",
      $metadata: { httpStatusCode: status, requestId: "r-1" },
    });
    const translated = translateSdkError(sdk, failed());
    assert.ok(translated instanceof AwsApiError, translated.name);
    assert.equal(translated.code, name);
    assert.equal(translated.requestId, "r-1");
    assert.equal(translated.httpStatus, status);
    assert.equal(kindOfAwsError("lambda", name), "credentials");
    assert.equal(translated.cause, sdk);
  });
}

test("an attempt that may have taken effect ends as UpstreamOutcomeUnknownError, its cause kept", () => {
  const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
  const translated = translateSdkError(new UncertainAttemptError(reset), failed());
  assert.ok(translated instanceof UpstreamOutcomeUnknownError);
  assert.equal(translated.service, "lambda");
  assert.equal(translated.abort, undefined);
  assert.equal(translated.cause, reset);
});

test("a caller's abort while a mutation is in flight is an unknown outcome that names the abort", () => {
  const deadline = abortedInFlightError(
    "lambda",
    { signal: abortedWith(new Error("gone")), deadline: now - 1 },
    now,
    new Error("aborted"),
  );
  assert.equal(deadline.abort, "deadline");
  const cancelled = abortedInFlightError(
    "lambda",
    { signal: abortedWith(new Error("gone")), deadline: now + 5000 },
    now,
    new Error("aborted"),
  );
  assert.equal(cancelled.abort, "cancelled");
});

test("RAM's InvalidClientTokenException (the request's clientToken) stays an AWS error", () => {
  const sdk = Object.assign(new Error("The client token is not valid."), {
    name: "InvalidClientTokenException",
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
  });
  const translated = translateSdkError(sdk, { ...failed(), service: "ram" as const });
  assert.ok(translated instanceof AwsApiError);
  assert.equal(translated.code, "InvalidClientTokenException");
});

test("an AWS answer that raced the caller's abort is still AWS's answer", () => {
  const controller = new AbortController();
  controller.abort();
  const sdk = Object.assign(new Error("Rate exceeded"), {
    name: "ThrottlingException",
    $fault: "client",
    $metadata: { httpStatusCode: 429, requestId: "r-2" },
    $response: { statusCode: 429, headers: { "retry-after": "3" } },
  });
  const translated = translateSdkError(sdk, failed({ signal: controller.signal }));
  assert.ok(translated instanceof AwsApiError);
  assert.equal(translated.retryAfterSeconds, 3);
  assert.equal(translated.requestId, "r-2");
});

test("Lambda's modelled retryAfterSeconds member stands in for a missing header", () => {
  const sdk = Object.assign(new Error("Rate exceeded"), {
    name: "TooManyRequestsException",
    $fault: "client",
    $metadata: { httpStatusCode: 429 },
    retryAfterSeconds: "4",
  });
  const translated = translateSdkError(sdk, failed());
  assert.ok(translated instanceof AwsApiError);
  assert.equal(translated.retryAfterSeconds, 4);
});

test("a 4xx the SDK could not read as an AWS error is not passed off as one", () => {
  const unreadable = Object.assign(new SyntaxError("Unexpected token '<'"), { $metadata: { httpStatusCode: 403 } });
  const translated = translateSdkError(unreadable, failed());
  assert.equal(translated.constructor, Error);
  assert.equal(translated.cause, unreadable);
});

test("something that is neither AWS nor the network stays a plain Error, cause kept", () => {
  const odd = new TypeError("x is not a function");
  const translated = translateSdkError(odd, failed());
  assert.equal(translated.constructor, Error);
  assert.equal(translated.cause, odd);
});

const abortCases: [string, () => CallOptions, boolean, boolean][] = [
  [
    "AbortSignal.timeout",
    () => ({ signal: abortedWith(new DOMException("The operation timed out.", "TimeoutError")) }),
    true,
    false,
  ],
  [
    "a Connect deadline (ConnectError, DEADLINE_EXCEEDED)",
    () => ({
      signal: abortedWith(Object.assign(new Error("the operation timed out"), { name: "ConnectError", code: 4 })),
    }),
    true,
    false,
  ],
  [
    "a passed deadline, whatever the reason",
    () => ({ signal: abortedWith(new Error("gone")), deadline: now - 1 }),
    true,
    false,
  ],
  [
    "the caller going away before its deadline",
    () => ({ signal: abortedWith(new Error("gone")), deadline: now + 5000 }),
    false,
    true,
  ],
  ["the caller going away with no deadline", () => ({ signal: abortedWith(undefined) }), false, true],
];
for (const [name, call, deadlineExceeded, cancelled] of abortCases) {
  test(`abort by ${name}`, () => {
    const error = callerAbortError("ram", call(), now);
    assert.equal(error.callerDeadlineExceeded, deadlineExceeded);
    assert.equal(error.cancelled, cancelled);
    const viaSdk = translateSdkError(Object.assign(new Error("Request aborted"), { name: "AbortError" }), {
      service: "ram",
      call: call(),
      now: () => now,
    });
    assert.ok(viaSdk instanceof UpstreamTimeoutError);
    assert.equal(viaSdk.callerDeadlineExceeded, deadlineExceeded);
  });
}

function abortedWith(reason: unknown): AbortSignal {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
}

test("a reset connection is a network error, not a timeout, even though the SDK names it TimeoutError", () => {
  const translated = translateSdkError(
    Object.assign(new Error("socket hang up"), { name: "TimeoutError", code: "ECONNRESET" }),
    failed(),
  );
  assert.ok(translated instanceof UpstreamNetworkError);
});

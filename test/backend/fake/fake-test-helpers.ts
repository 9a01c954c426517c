// Small helpers shared by the fake backend's tests.
import assert from "node:assert/strict";
import type { CallOptions, LambdaFunctionRef } from "../../../src/backend/backend.js";
import { isAwsApiError } from "../../../src/backend/errors.js";
import type { AwsApiError, AwsService, MissingResource } from "../../../src/backend/errors.js";

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The output without the request ID the fake gives every output, after checking it has one. */
export function withoutRequestId<T extends { readonly awsRequestId?: string | undefined }>(
  output: T,
): Omit<T, "awsRequestId"> {
  assert.match(output.awsRequestId ?? "", uuidPattern);
  const data: { -readonly [K in keyof T]: T[K] } = { ...output };
  delete data.awsRequestId;
  return data;
}

export function callOptions(): CallOptions {
  return { signal: new AbortController().signal };
}

export function fn(name: string, extra: Partial<LambdaFunctionRef> = {}): LambdaFunctionRef {
  return { functionName: extra.functionName ?? name, name, ...extra };
}

export interface ExpectedAwsError {
  readonly service: AwsService;
  readonly code: string;
  readonly httpStatus: number;
  readonly missing?: MissingResource | undefined;
  readonly message?: string | RegExp | undefined;
}

/** Asserts the promise rejects with exactly this AWS error, as AWS would send it. */
export async function rejectsWithAws(promise: Promise<unknown>, expected: ExpectedAwsError): Promise<AwsApiError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(isAwsApiError(caught), `expected an AwsApiError, got ${String(caught)}`);
  assert.equal(caught.service, expected.service);
  assert.equal(caught.code, expected.code);
  assert.equal(caught.httpStatus, expected.httpStatus);
  assert.match(caught.requestId ?? "", uuidPattern);
  // Given as undefined, it asserts that nothing is classified as missing.
  if ("missing" in expected) assert.equal(caught.missing, expected.missing);
  if (typeof expected.message === "string") assert.equal(caught.message, expected.message);
  if (expected.message instanceof RegExp) assert.match(caught.message, expected.message);
  return caught;
}

// AWS's REST-JSON error format, as the AWS SDKs parse it: the code in the
// `x-amzn-ErrorType` header, the status code, a JSON body whose members are
// the error shape's own (Lambda: `Type` plus `message` or `Message`,
// depending on the shape; RAM: `message`), `x-amzn-RequestId`, and
// `Retry-After` on throttling. Statuses, members and messages come from the
// shared catalogue (src/aws/error-catalogue.ts).
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { awsErrorCodes, awsErrorSpec, SERVICE_ERROR_CODES } from "../aws/error-catalogue.js";
import { AwsApiError } from "../backend/errors.js";
import type { AwsService } from "../backend/errors.js";

/** Retry-After sent with a throttling error that names none. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

export function isThrottlingCode(service: AwsService, code: string): boolean {
  return awsErrorSpec(service, code)?.kind === "throttling";
}

/** AWS's status for `code`, 400 for a code the catalogue does not have. */
export function defaultStatusOf(service: AwsService, code: string): number {
  return awsErrorSpec(service, code)?.httpStatus ?? 400;
}

/**
 * The code a service answers with for a bare status (a fault that names only
 * a status): its own error of that status, else its internal error for any
 * 5xx, else a common error of that status, else its first client error.
 */
export function codeForStatus(service: AwsService, status: number): string {
  if (status === 429) return SERVICE_ERROR_CODES[service].throttling;
  const specs = awsErrorCodes(service).flatMap((code) => awsErrorSpec(service, code) ?? []);
  const own = specs.find((spec) => spec.httpStatus === status && !isCommon(spec.code));
  if (own !== undefined) return own.code;
  if (status >= 500) return SERVICE_ERROR_CODES[service].internal;
  return (
    specs.find((spec) => spec.httpStatus === status)?.code ??
    specs.find((spec) => spec.httpStatus === 400)?.code ??
    "ValidationException"
  );
}

function isCommon(code: string): boolean {
  return awsErrorSpec("lambda", code) !== undefined && awsErrorSpec("ram", code) !== undefined;
}

/** An error the endpoint itself answers (validation, routing), in AWS's words. */
export function wireError(service: AwsService, code: string, message: string): AwsApiError {
  return new AwsApiError({ service, code, message, httpStatus: defaultStatusOf(service, code) });
}

export interface WireErrorResponse {
  readonly service: AwsService;
  readonly code: string;
  readonly message: string;
  readonly httpStatus: number;
  readonly requestId: string;
  readonly retryAfterSeconds?: number | undefined;
}

/** The response AWS would send for an AwsApiError (the backend's request ID kept). */
export function toWireErrorResponse(error: AwsApiError): WireErrorResponse {
  const retryAfterSeconds =
    error.retryAfterSeconds ?? (isThrottlingCode(error.service, error.code) ? DEFAULT_RETRY_AFTER_SECONDS : undefined);
  return {
    service: error.service,
    code: error.code,
    message: error.message,
    httpStatus: error.httpStatus ?? defaultStatusOf(error.service, error.code),
    requestId: error.requestId ?? randomUUID(),
    retryAfterSeconds,
  };
}

export function errorBody(error: WireErrorResponse): Record<string, unknown> {
  const spec = awsErrorSpec(error.service, error.code);
  const messageMember = spec?.messageMember ?? "message";
  if (error.service === "ram") return { [messageMember]: error.message };
  return {
    ...(spec?.bodyType === undefined ? {} : { Type: spec.bodyType }),
    [messageMember]: error.message,
    ...(error.code === "TooManyRequestsException" ? { Reason: "CallerRateLimitExceeded" } : {}),
  };
}

export function writeErrorResponse(res: ServerResponse, error: WireErrorResponse): void {
  const body = JSON.stringify(errorBody(error));
  res.writeHead(error.httpStatus, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    "x-amzn-RequestId": error.requestId,
    "x-amzn-ErrorType": error.code,
    ...(error.retryAfterSeconds === undefined ? {} : { "Retry-After": String(error.retryAfterSeconds) }),
  });
  res.end(body);
}

export function writeJsonResponse(res: ServerResponse, status: number, requestId: string, body: unknown): void {
  if (body === undefined) {
    res.writeHead(status, { "x-amzn-RequestId": requestId, "Content-Length": 0 });
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "x-amzn-RequestId": requestId,
  });
  res.end(text);
}

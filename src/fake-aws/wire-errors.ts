// AWS's REST-JSON error format, as the AWS SDKs parse it: the code in the
// `x-amzn-ErrorType` header, the status code, a JSON body whose members are
// the error shape's own (Lambda: `Type` plus `message` or `Message`,
// depending on the shape; RAM: `message`), `x-amzn-RequestId`, and
// `Retry-After` on throttling.
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { AwsApiError } from "../backend/errors.js";
import type { AwsService } from "../backend/errors.js";

/**
 * Statuses from the service models (`httpError` traits of
 * @aws-sdk/client-lambda and @aws-sdk/client-ram), plus the frontend errors
 * both services answer before their own code runs.
 */
const statusByCode: Readonly<Record<AwsService, Readonly<Record<string, number>>>> = {
  lambda: {
    InvalidParameterValueException: 400,
    InvalidRequestContentException: 400,
    PolicyLengthExceededException: 400,
    PublicPolicyException: 400,
    PreconditionFailedException: 412,
    ResourceConflictException: 409,
    ResourceNotFoundException: 404,
    RequestTooLargeException: 413,
    ServiceException: 500,
    TooManyRequestsException: 429,
  },
  ram: {
    IdempotentParameterMismatchException: 400,
    InvalidClientTokenException: 400,
    InvalidMaxResultsException: 400,
    InvalidNextTokenException: 400,
    InvalidParameterException: 400,
    InvalidPolicyException: 400,
    InvalidResourceTypeException: 400,
    MalformedArnException: 400,
    MalformedPolicyTemplateException: 400,
    MissingRequiredParameterException: 400,
    OperationNotPermittedException: 400,
    PermissionAlreadyExistsException: 409,
    PermissionLimitExceededException: 400,
    PermissionVersionsLimitExceededException: 400,
    ServerInternalException: 500,
    ServiceUnavailableException: 503,
    ThrottlingException: 429,
    UnknownResourceException: 400,
  },
};

const commonStatusByCode: Readonly<Record<string, number>> = {
  AccessDeniedException: 403,
  ExpiredTokenException: 403,
  IncompleteSignatureException: 403,
  InvalidSignatureException: 403,
  UnrecognizedClientException: 403,
  UnknownOperationException: 404,
  ValidationException: 400,
  ThrottlingException: 429,
  ServiceUnavailableException: 503,
  InternalFailure: 500,
};

/** Lambda shapes whose message member is capitalised; the rest use `message`. */
const lambdaCapitalisedMessage = new Set(["ResourceNotFoundException", "ServiceException", "PublicPolicyException"]);

export const throttlingCode: Readonly<Record<AwsService, string>> = {
  lambda: "TooManyRequestsException",
  ram: "ThrottlingException",
};

/** The error each service answers for a failure of its own. */
export const internalErrorCode: Readonly<Record<AwsService, string>> = {
  lambda: "ServiceException",
  ram: "ServerInternalException",
};

/** Retry-After sent with a throttling error that names none. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

export function isThrottlingCode(code: string): boolean {
  return code === "TooManyRequestsException" || code === "ThrottlingException";
}

/** AWS's status for `code`, 400 for a code neither model nor frontend defines. */
export function defaultStatusOf(service: AwsService, code: string): number {
  return statusByCode[service][code] ?? commonStatusByCode[code] ?? 400;
}

/** The code a service answers with for a bare status (a fault that names only a status). */
export function codeForStatus(service: AwsService, status: number): string {
  if (status === 429) return throttlingCode[service];
  if (service === "lambda") {
    if (status === 404) return "ResourceNotFoundException";
    if (status === 409) return "ResourceConflictException";
    if (status === 412) return "PreconditionFailedException";
    if (status === 413) return "RequestTooLargeException";
    if (status === 403) return "AccessDeniedException";
    return status >= 500 ? "ServiceException" : "InvalidParameterValueException";
  }
  if (status === 409) return "PermissionAlreadyExistsException";
  if (status === 403) return "AccessDeniedException";
  if (status === 503) return "ServiceUnavailableException";
  return status >= 500 ? "ServerInternalException" : "InvalidParameterException";
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
    error.retryAfterSeconds ?? (isThrottlingCode(error.code) ? DEFAULT_RETRY_AFTER_SECONDS : undefined);
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
  if (error.service === "ram") return { message: error.message };
  const messageMember = lambdaCapitalisedMessage.has(error.code) ? "Message" : "message";
  return {
    Type: error.httpStatus >= 500 ? "Service" : "User",
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

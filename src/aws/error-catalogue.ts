// The AWS errors of the seven operations, in one table: the error's name,
// the service that answers it, its HTTP status and body shape on the wire,
// what kind of failure it is, and what AWS says when nothing more specific
// applies. Transcribed from the service models (botocore lambda/2015-03-31
// and ram/2018-01-04: each shape's `error.httpStatusCode`, its members, its
// documentation), the AWS Common Errors reference for the errors every
// service's front end answers, and recorded answers where they exist
// (test/fixtures/aws-recorded-answers.json). The gateway's wire mapping, the
// fake backend, the fake AWS endpoint and the AWS adapter all read it.
import type { AwsService } from "../backend/errors.js";

/** What a failure means to the caller; src/errors.ts turns each kind into a gRPC status. */
export type AwsErrorKind =
  /** The request broke a rule of the API. */
  | "invalid-argument"
  | "not-found"
  /** Lambda: the RevisionId given is not the current one. */
  | "revision-mismatch"
  /** A rule of the resource forbids it (public policy blocked, permission attached or AWS managed). */
  | "not-permitted"
  /** RAM: a clientToken reused with other parameters. */
  | "idempotency-mismatch"
  /** Lambda: a duplicate statement ID, or another operation in progress (the message tells). */
  | "conflict"
  | "already-exists"
  | "quota"
  | "throttling"
  /** The service failed; the same request may succeed later. */
  | "unavailable"
  /** The gateway's own AWS identity lacks the IAM action. */
  | "access-denied"
  /** The gateway's own AWS credentials are missing, invalid or expired. */
  | "credentials"
  /** The request named no operation the service has: a gateway bug. */
  | "unknown-operation";

export interface AwsErrorSpec {
  readonly service: AwsService;
  readonly code: string;
  readonly httpStatus: number;
  readonly kind: AwsErrorKind;
  /** A recorded answer's message where one exists, else the model's documentation. */
  readonly message: string;
  /** The member of the JSON error body that carries the message (Lambda's shapes differ). */
  readonly messageMember: "message" | "Message";
  /** Lambda's modelled shapes carry a `Type` member: User (the caller's fault) or Service. */
  readonly bodyType?: "User" | "Service" | undefined;
}

type Entry = Omit<AwsErrorSpec, "service" | "messageMember"> & { readonly messageMember?: "Message" };

/** Lambda's modelled errors of AddPermission, RemovePermission and GetPolicy, and two of its front end's. */
const lambdaEntries = [
  {
    code: "InvalidParameterValueException",
    httpStatus: 400,
    kind: "invalid-argument",
    bodyType: "User",
    message: "One of the parameters in the request is not valid.",
  },
  // The recorded message of GetPolicy on an unknown function, version or empty policy.
  {
    code: "ResourceNotFoundException",
    httpStatus: 404,
    kind: "not-found",
    bodyType: "User",
    messageMember: "Message",
    message: "The resource you requested does not exist.",
  },
  {
    code: "ResourceConflictException",
    httpStatus: 409,
    kind: "conflict",
    bodyType: "User",
    message: "The resource already exists, or another operation is in progress.",
  },
  {
    code: "PreconditionFailedException",
    httpStatus: 412,
    kind: "revision-mismatch",
    bodyType: "User",
    message:
      "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id",
  },
  {
    code: "PolicyLengthExceededException",
    httpStatus: 400,
    kind: "quota",
    bodyType: "User",
    message: "The permissions policy for the resource is too large.",
  },
  {
    code: "PublicPolicyException",
    httpStatus: 400,
    kind: "not-permitted",
    bodyType: "User",
    messageMember: "Message",
    message:
      "The resource-based policy you tried to add to the Lambda function would grant public access to it, and your account's BlockPublicAccess setting prevents public access.",
  },
  { code: "TooManyRequestsException", httpStatus: 429, kind: "throttling", bodyType: "User", message: "Rate exceeded" },
  {
    code: "ServiceException",
    httpStatus: 500,
    kind: "unavailable",
    bodyType: "Service",
    messageMember: "Message",
    message: "The Lambda service encountered an internal error.",
  },
  {
    code: "InvalidRequestContentException",
    httpStatus: 400,
    kind: "invalid-argument",
    bodyType: "User",
    message: "The request body could not be parsed as JSON, or a request header is invalid.",
  },
  {
    code: "RequestTooLargeException",
    httpStatus: 413,
    kind: "invalid-argument",
    bodyType: "User",
    message: "The request payload exceeded the Invoke request body JSON input quota.",
  },
  // Lambda's front end reports broken model constraints itself, before the operation runs.
  { code: "ValidationException", httpStatus: 400, kind: "invalid-argument", message: "1 validation error detected" },
] as const satisfies readonly Entry[];

/** RAM's modelled errors of DeletePermission, CreatePermission, GetPermission and ListPermissions. */
const ramEntries = [
  // First: the 400 a fault naming only that status stands for.
  {
    code: "InvalidParameterException",
    httpStatus: 400,
    kind: "invalid-argument",
    message: "The operation failed because a parameter you specified isn't valid.",
  },
  {
    code: "UnknownResourceException",
    httpStatus: 400,
    kind: "not-found",
    message: "The operation failed because a specified resource couldn't be found.",
  },
  {
    code: "OperationNotPermittedException",
    httpStatus: 400,
    kind: "not-permitted",
    message: "The operation failed because the requested operation isn't permitted.",
  },
  {
    code: "MalformedArnException",
    httpStatus: 400,
    kind: "invalid-argument",
    message: "The operation failed because the specified Amazon Resource Name (ARN) has a format that isn't valid.",
  },
  {
    code: "InvalidPolicyException",
    httpStatus: 400,
    kind: "invalid-argument",
    message: "The operation failed because a policy you specified isn't valid.",
  },
  {
    code: "MalformedPolicyTemplateException",
    httpStatus: 400,
    kind: "invalid-argument",
    message: "The operation failed because the policy template that you provided isn't valid.",
  },
  {
    code: "InvalidClientTokenException",
    httpStatus: 400,
    kind: "invalid-argument",
    message: "The operation failed because the specified client token isn't valid.",
  },
  {
    code: "InvalidNextTokenException",
    httpStatus: 400,
    kind: "invalid-argument",
    message: "The operation failed because the specified value for NextToken isn't valid.",
  },
  {
    code: "InvalidMaxResultsException",
    httpStatus: 400,
    kind: "invalid-argument",
    message: "The operation failed because the specified value for MaxResults isn't valid.",
  },
  {
    code: "InvalidResourceTypeException",
    httpStatus: 400,
    kind: "invalid-argument",
    message: "The operation failed because the specified resource type isn't valid.",
  },
  {
    code: "MissingRequiredParameterException",
    httpStatus: 400,
    kind: "invalid-argument",
    message: "The operation failed because a required input parameter is missing.",
  },
  {
    code: "PermissionAlreadyExistsException",
    httpStatus: 409,
    kind: "already-exists",
    message:
      "The operation failed because a permission with the specified name already exists in the requested Amazon Web Services Region.",
  },
  {
    code: "PermissionLimitExceededException",
    httpStatus: 400,
    kind: "quota",
    message:
      "The operation failed because it would exceed the maximum number of permissions you can create in each Amazon Web Services Region.",
  },
  {
    code: "PermissionVersionsLimitExceededException",
    httpStatus: 400,
    kind: "quota",
    message:
      "The operation failed because it would exceed the limit for the number of versions you can have for a permission.",
  },
  {
    code: "IdempotentParameterMismatchException",
    httpStatus: 400,
    kind: "idempotency-mismatch",
    message:
      "The operation failed because the client token input parameter matched one that was used with a previous call to the operation, but at least one of the other input parameters is different from the previous call.",
  },
  {
    code: "ServerInternalException",
    httpStatus: 500,
    kind: "unavailable",
    message:
      "The operation failed because the service could not respond to the request due to an internal problem. Try again later.",
  },
  {
    code: "ServiceUnavailableException",
    httpStatus: 503,
    kind: "unavailable",
    message: "The operation failed because the service isn't available. Try again later.",
  },
  {
    code: "ThrottlingException",
    httpStatus: 429,
    kind: "throttling",
    message:
      "The operation failed because it exceeded the rate at which you are allowed to perform this operation. Please try again later.",
  },
] as const satisfies readonly Entry[];

/**
 * The Common Errors every AWS API may answer about the caller's own identity
 * and request. The JSON protocols spell them with "Exception", the query
 * ones without, and some front ends answer in the other style, so both are
 * listed. (RAM's InvalidClientTokenException is about the request's
 * clientToken, not credentials, and is RAM's own, above.)
 */
const commonEntries = [
  {
    code: "AccessDeniedException",
    httpStatus: 403,
    kind: "access-denied",
    message: "You don't have sufficient access to perform this action.",
  },
  {
    code: "ExpiredTokenException",
    httpStatus: 403,
    kind: "credentials",
    message: "The security token included in the request is expired.",
  },
  {
    code: "ExpiredToken",
    httpStatus: 403,
    kind: "credentials",
    message: "The security token included in the request is expired.",
  },
  {
    code: "UnrecognizedClientException",
    httpStatus: 403,
    kind: "credentials",
    message: "The security token included in the request is invalid.",
  },
  {
    code: "InvalidSignatureException",
    httpStatus: 403,
    kind: "credentials",
    message: "The request signature we calculated does not match the signature you provided.",
  },
  {
    code: "IncompleteSignatureException",
    httpStatus: 403,
    kind: "credentials",
    message: "The request signature does not conform to AWS standards.",
  },
  {
    code: "IncompleteSignature",
    httpStatus: 403,
    kind: "credentials",
    message: "The request signature does not conform to AWS standards.",
  },
  {
    code: "MissingAuthenticationTokenException",
    httpStatus: 403,
    kind: "credentials",
    message: "Missing Authentication Token",
  },
  { code: "MissingAuthenticationToken", httpStatus: 403, kind: "credentials", message: "Missing Authentication Token" },
  {
    code: "InvalidClientTokenId",
    httpStatus: 403,
    kind: "credentials",
    message: "The X.509 certificate or AWS access key ID provided does not exist in our records.",
  },
  {
    code: "SignatureDoesNotMatch",
    httpStatus: 403,
    kind: "credentials",
    message: "The request signature we calculated does not match the signature you provided.",
  },
  {
    code: "UnknownOperationException",
    httpStatus: 404,
    kind: "unknown-operation",
    message: "The action or operation requested is invalid.",
  },
  {
    code: "InternalFailure",
    httpStatus: 500,
    kind: "unavailable",
    message: "The request processing has failed because of an unknown error, exception or failure.",
  },
  {
    code: "ServiceUnavailable",
    httpStatus: 503,
    kind: "unavailable",
    message: "The request has failed due to a temporary failure of the server.",
  },
] as const satisfies readonly Entry[];

function indexed(service: AwsService, entries: readonly Entry[]): ReadonlyMap<string, AwsErrorSpec> {
  const common: readonly Entry[] = commonEntries;
  const specs = [...entries, ...common.filter((shared) => !entries.some((entry) => entry.code === shared.code))];
  return new Map(
    specs.map((entry) => [entry.code, { ...entry, service, messageMember: entry.messageMember ?? "message" }]),
  );
}

const catalogue: Readonly<Record<AwsService, ReadonlyMap<string, AwsErrorSpec>>> = {
  lambda: indexed("lambda", lambdaEntries),
  ram: indexed("ram", ramEntries),
};

/** The error names of a service, as the catalogue has them: a misspelt name fails the typecheck. */
export type LambdaErrorName = (typeof lambdaEntries)[number]["code"] | (typeof commonEntries)[number]["code"];
export type RamErrorName = (typeof ramEntries)[number]["code"] | (typeof commonEntries)[number]["code"];

function namesOf<const Name extends string>(entries: readonly { readonly code: Name }[]): { readonly [N in Name]: N } {
  return Object.fromEntries(entries.map(({ code }) => [code, code])) as { readonly [N in Name]: N };
}

/** Lambda's error names, for code that tests for one: `error.code === LAMBDA_ERRORS.ResourceNotFoundException`. */
export const LAMBDA_ERRORS = namesOf<LambdaErrorName>([...lambdaEntries, ...commonEntries]);
/** RAM's error names, as LAMBDA_ERRORS. */
export const RAM_ERRORS = namesOf<RamErrorName>([...ramEntries, ...commonEntries]);

/** The errors each service answers for a failure of a given sort. */
export const SERVICE_ERROR_CODES: Readonly<
  Record<AwsService, { readonly throttling: string; readonly internal: string; readonly unreadableRequest: string }>
> = {
  lambda: {
    throttling: "TooManyRequestsException",
    internal: "ServiceException",
    unreadableRequest: "InvalidRequestContentException",
  },
  ram: {
    throttling: "ThrottlingException",
    internal: "ServerInternalException",
    unreadableRequest: "InvalidParameterException",
  },
};

/** The error `code` of `service`, or undefined when that service has no such error. */
export function awsErrorSpec(service: AwsService, code: string): AwsErrorSpec | undefined {
  return catalogue[service].get(code);
}

/**
 * What kind of failure `code` is. A name the service's table lacks but the
 * other's has (a front end answering in another service's words) still means
 * the same thing; a name neither has is undefined, and the gateway treats it
 * as a bug to log.
 */
export function kindOfAwsError(service: AwsService, code: string): AwsErrorKind | undefined {
  return (catalogue[service].get(code) ?? catalogue[service === "lambda" ? "ram" : "lambda"].get(code))?.kind;
}

/** Every error name of `service`, its own first, then the common ones. */
export function awsErrorCodes(service: AwsService): readonly string[] {
  return [...catalogue[service].keys()];
}

/** The services that answer `code`: one, or both for a common error. */
export function servicesOfAwsError(code: string): AwsService[] {
  return (["lambda", "ram"] as const).filter((service) => catalogue[service].has(code));
}

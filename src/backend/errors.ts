// Domain errors of the backend port. Adapters throw these; src/errors.ts is
// the only place that turns them into ConnectErrors for the wire. They are
// plain classes with a literal `name` and a guard, and carry no SDK types.

export type AwsService = "lambda" | "ram";

export interface AwsApiErrorInit {
  readonly service: AwsService;
  /**
   * The AWS error name exactly as the API reference spells it, e.g.
   * "ResourceNotFoundException", "UnknownResourceException",
   * "ThrottlingException". The gateway maps on this, never on httpStatus.
   */
  readonly code: string;
  readonly message: string;
  /** The HTTP status AWS answered with (or would have, for the fake). */
  readonly httpStatus?: number | undefined;
  /** AWS's x-amzn-RequestId, when there was one. */
  readonly requestId?: string | undefined;
  /** Seconds from a Retry-After header, when AWS sent one. */
  readonly retryAfterSeconds?: number | undefined;
  /**
   * For not-found errors: what is missing. Lets the service tell a missing
   * function ("function", "qualifier") from a missing statement ("policy",
   * "statement"), which allow_missing treats as success.
   */
  readonly missing?: MissingResource | undefined;
  readonly cause?: unknown;
}

export type MissingResource = "function" | "qualifier" | "policy" | "statement" | "permission" | "permission-version";

/** An error answered by AWS (or by the fake, in AWS's words). */
export class AwsApiError extends Error {
  override readonly name = "AwsApiError" as const;
  readonly service: AwsService;
  readonly code: string;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly missing: MissingResource | undefined;

  constructor(init: AwsApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.service = init.service;
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.missing = init.missing;
  }
}

export function isAwsApiError(value: unknown): value is AwsApiError {
  return value instanceof AwsApiError;
}

/** AWS could not be reached: connection refused or reset, DNS failure. */
export class UpstreamNetworkError extends Error {
  override readonly name = "UpstreamNetworkError" as const;
  constructor(
    readonly service: AwsService,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An upstream call timed out or was aborted. `callerDeadlineExceeded` says
 * whether the caller's own deadline was spent (DEADLINE_EXCEEDED) or only an
 * upstream timeout fired (UNAVAILABLE); `cancelled` says the caller went away.
 */
export class UpstreamTimeoutError extends Error {
  override readonly name = "UpstreamTimeoutError" as const;
  constructor(
    readonly service: AwsService,
    message: string,
    readonly callerDeadlineExceeded: boolean,
    options?: { cause?: unknown; cancelled?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.cancelled = options?.cancelled ?? false;
  }
  readonly cancelled: boolean;
}

/** The gateway's own AWS credentials are missing, invalid or expired. */
export class UpstreamCredentialsError extends Error {
  override readonly name = "UpstreamCredentialsError" as const;
  constructor(
    readonly service: AwsService,
    message: string,
    options?: { cause?: unknown; code?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code;
  }
  readonly code: string | undefined;
}

/**
 * A mutation's attempt may have reached AWS and no answer came back: a
 * timeout or a dropped connection after the request was sent, or the caller
 * leaving while it was in flight. Whether it took effect is unknown, so it
 * must be neither retried blindly nor reported as a failure: the reconciling
 * decorator reads the actual state, and if that cannot settle it either, the
 * caller is told exactly this (src/errors.ts: OUTCOME_UNKNOWN_REASON), so its
 * retry reconciles. `abort` says the caller's deadline or cancellation ended
 * the wait, which decides the code the caller gets.
 */
export class UpstreamOutcomeUnknownError extends Error {
  override readonly name = "UpstreamOutcomeUnknownError" as const;
  constructor(
    readonly service: AwsService,
    message: string,
    options?: { cause?: unknown; abort?: AbortReason | undefined },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.abort = options?.abort;
  }
  readonly abort: AbortReason | undefined;
}

export function isUpstreamOutcomeUnknownError(value: unknown): value is UpstreamOutcomeUnknownError {
  return value instanceof UpstreamOutcomeUnknownError;
}

/** Why a caller's call ended early: its deadline passed, or it went away. */
export type AbortReason = "deadline" | "cancelled";

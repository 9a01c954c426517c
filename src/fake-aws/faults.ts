// Faults injected on request: a chosen AWS error, added latency, a dropped
// connection, for the next N matching requests or until cleared, either
// instead of running the request or after it ran (the faults of an uncertain
// outcome: executed, then the connection dropped or the answer late). The same
// shape arrives from TypeScript (`injectFault`) and over HTTP
// (`POST /__fake/faults`), so both go through one validator.
import type { StsFault } from "./accounts.js";
import { FAKE_AWS_OPERATIONS, isFakeAwsOperation, type FakeAwsOperation } from "./operations.js";

export interface FakeAwsFault {
  /** One of the seven operation names; absent means every operation. */
  readonly operation?: string | undefined;
  /** The AWS error code to answer with, e.g. "TooManyRequestsException". */
  readonly errorCode?: string | undefined;
  /** The status of that error; defaults to AWS's status for the code. */
  readonly httpStatus?: number | undefined;
  /** The error's message, to replay an answer AWS gave word for word; default a note that it was injected. */
  readonly message?: string | undefined;
  /** Sent as Retry-After; throttling errors default to 1. */
  readonly retryAfterSeconds?: number | undefined;
  /** Delay before answering (or dropping). */
  readonly latencyMs?: number | undefined;
  /** Destroy the socket without answering. */
  readonly dropConnection?: boolean | undefined;
  /**
   * Run the request against the backend first, then apply the latency, the
   * drop or the error to its answer: the request took effect, and the caller
   * learns it late, never, or wrongly.
   */
  readonly afterExecution?: boolean | undefined;
  /** Apply to the next N matching requests; absent means until cleared. */
  readonly times?: number | undefined;
}

export class InvalidFakeAwsFaultError extends Error {
  override readonly name = "InvalidFakeAwsFaultError" as const;
}

const FAULT_KEYS = new Set([
  "operation",
  "errorCode",
  "httpStatus",
  "message",
  "retryAfterSeconds",
  "latencyMs",
  "dropConnection",
  "afterExecution",
  "times",
]);
const MAX_LATENCY_MS = 600_000;
const MAX_MESSAGE_LENGTH = 4096;
// An error code travels in a header; keep it to what AWS codes look like.
const ERROR_CODE_RE = /^[A-Za-z][A-Za-z0-9.]{0,127}$/;

function reject(message: string): never {
  throw new InvalidFakeAwsFaultError(message);
}

function optionalNumber(
  record: Record<string, unknown>,
  key: string,
  check: (value: number) => boolean,
  accepted: string,
): number | undefined {
  const value = record[key];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !check(value)) reject(`${key} must be ${accepted}`);
  return value;
}

function checkMessage(message: unknown): asserts message is string | undefined {
  if (message !== undefined && (typeof message !== "string" || message.length > MAX_MESSAGE_LENGTH)) {
    reject(`message must be a string of at most ${MAX_MESSAGE_LENGTH} characters`);
  }
}

function optionalHttpStatus(record: Record<string, unknown>): number | undefined {
  return optionalNumber(
    record,
    "httpStatus",
    (n) => Number.isInteger(n) && n >= 400 && n <= 599,
    "an integer from 400 to 599",
  );
}

/** Checks a fault from any source; unknown keys are refused so a typo cannot pass silently. */
export function parseFakeAwsFault(value: unknown): FakeAwsFault {
  if (typeof value !== "object" || value === null || Array.isArray(value)) reject("a fault must be a JSON object");
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !FAULT_KEYS.has(key));
  if (unknown.length > 0)
    reject(`unknown fault field(s): ${unknown.join(", ")}; accepted: ${[...FAULT_KEYS].join(", ")}`);

  const { operation, errorCode, dropConnection, afterExecution, message } = record;
  if (operation !== undefined && !isFakeAwsOperation(operation)) {
    reject(`operation must be one of ${FAKE_AWS_OPERATIONS.join(", ")}`);
  }
  if (errorCode !== undefined && (typeof errorCode !== "string" || !ERROR_CODE_RE.test(errorCode))) {
    reject("errorCode must be an AWS error code such as TooManyRequestsException");
  }
  if (dropConnection !== undefined && typeof dropConnection !== "boolean") reject("dropConnection must be a boolean");
  if (afterExecution !== undefined && typeof afterExecution !== "boolean") reject("afterExecution must be a boolean");
  checkMessage(message);
  const httpStatus = optionalHttpStatus(record);
  const retryAfterSeconds = optionalNumber(
    record,
    "retryAfterSeconds",
    (n) => Number.isInteger(n) && n >= 0,
    "a whole number of seconds, 0 or more",
  );
  const latencyMs = optionalNumber(
    record,
    "latencyMs",
    (n) => Number.isFinite(n) && n >= 0 && n <= MAX_LATENCY_MS,
    `a number from 0 to ${MAX_LATENCY_MS}`,
  );
  const times = optionalNumber(record, "times", (n) => Number.isInteger(n) && n >= 1, "an integer of 1 or more");

  const failsTheRequest = errorCode !== undefined || httpStatus !== undefined;
  if (!failsTheRequest && latencyMs === undefined && dropConnection !== true) {
    reject("a fault needs errorCode, httpStatus, latencyMs or dropConnection: true");
  }
  if (retryAfterSeconds !== undefined && !failsTheRequest) reject("retryAfterSeconds needs errorCode or httpStatus");
  if (message !== undefined && !failsTheRequest) reject("message needs errorCode or httpStatus");

  return {
    ...(operation === undefined ? {} : { operation }),
    ...(errorCode === undefined ? {} : { errorCode }),
    ...(httpStatus === undefined ? {} : { httpStatus }),
    ...(message === undefined ? {} : { message }),
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    ...(latencyMs === undefined ? {} : { latencyMs }),
    ...(dropConnection === undefined ? {} : { dropConnection }),
    ...(afterExecution === undefined ? {} : { afterExecution }),
    ...(times === undefined ? {} : { times }),
  };
}

const STS_FAULT_KEYS = new Set(["code", "httpStatus", "message", "times"]);

/**
 * Checks an STS fault (`POST /__fake/sts-faults`, `injectStsFault`): an error
 * code such as Throttling, its status (default 400, STS's usual one), an
 * optional message and count.
 */
export function parseStsFault(value: unknown): StsFault {
  if (typeof value !== "object" || value === null || Array.isArray(value)) reject("an STS fault must be a JSON object");
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !STS_FAULT_KEYS.has(key));
  if (unknown.length > 0)
    reject(`unknown STS fault field(s): ${unknown.join(", ")}; accepted: ${[...STS_FAULT_KEYS].join(", ")}`);
  const { code, message } = record;
  if (typeof code !== "string" || !ERROR_CODE_RE.test(code))
    reject("code must be an STS error code such as Throttling");
  checkMessage(message);
  const httpStatus = optionalHttpStatus(record);
  const times = optionalNumber(record, "times", (n) => Number.isInteger(n) && n >= 1, "an integer of 1 or more");
  return {
    code,
    httpStatus: httpStatus ?? 400,
    ...(message === undefined ? {} : { message }),
    ...(times === undefined ? {} : { times }),
  };
}

export interface InjectedError {
  readonly errorCode?: string | undefined;
  readonly httpStatus?: number | undefined;
  readonly message?: string | undefined;
  readonly retryAfterSeconds?: number | undefined;
}

/** What the faults matching one request add up to. */
export interface FaultOutcome {
  /** The sum of the matching faults' latencies. */
  readonly latencyMs: number;
  readonly dropConnection: boolean;
  /** Whether the request runs first and the fault applies to its answer. */
  readonly afterExecution: boolean;
  /** The first matching fault's error, if any fails the request. */
  readonly error?: InjectedError | undefined;
}

export interface FaultSchedule {
  add(fault: FakeAwsFault): void;
  clear(): void;
  /** The faults still pending, `times` counting what is left. */
  pending(): FakeAwsFault[];
  /** Consumes one use of every fault that matches, or undefined when none does. */
  take(operation: FakeAwsOperation): FaultOutcome | undefined;
}

export function createFaultSchedule(): FaultSchedule {
  // Each entry keeps its own remaining count; Infinity means "until cleared".
  let entries: { fault: FakeAwsFault; remaining: number }[] = [];
  return {
    add(fault) {
      entries.push({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
    },
    clear() {
      entries = [];
    },
    pending() {
      return entries.map(({ fault, remaining }) =>
        Number.isFinite(remaining) ? { ...fault, times: remaining } : { ...fault },
      );
    },
    take(operation) {
      const matching = entries.filter(({ fault }) => fault.operation === undefined || fault.operation === operation);
      if (matching.length === 0) return undefined;
      for (const entry of matching) entry.remaining -= 1;
      entries = entries.filter((entry) => entry.remaining > 0);
      const failing = matching.find(({ fault }) => fault.errorCode !== undefined || fault.httpStatus !== undefined);
      return {
        latencyMs: matching.reduce((sum, { fault }) => sum + (fault.latencyMs ?? 0), 0),
        dropConnection: matching.some(({ fault }) => fault.dropConnection === true),
        afterExecution: matching.some(({ fault }) => fault.afterExecution === true),
        ...(failing === undefined
          ? {}
          : {
              error: {
                errorCode: failing.fault.errorCode,
                httpStatus: failing.fault.httpStatus,
                message: failing.fault.message,
                retryAfterSeconds: failing.fault.retryAfterSeconds,
              },
            }),
      };
    },
  };
}

// Fault injection for tests and chaos drills: added latency that honours the
// caller's signal, and a rate of a chosen AWS error that looks exactly like
// the real one (its service, status, request ID, Retry-After).
import type { CallOptions } from "../backend.js";
import { UpstreamTimeoutError } from "../errors.js";
import type { Clock } from "../../clock.js";
import { createAwsError, knownErrorCodes, servicesOfErrorCode, throttlingErrorCode } from "./aws-errors.js";
import { fakeOperations, isFakeOperation, operationService } from "./operations.js";
import type { FakeOperation } from "./operations.js";

export interface FakeFaults {
  /** Added before each call, in milliseconds. */
  readonly latencyMs?: number | undefined;
  /** Share of calls that fail, 0..1. */
  readonly errorRate?: number | undefined;
  /**
   * An AWS error name, e.g. "ServiceException" or "UnknownResourceException".
   * Default: each service's throttling error (TooManyRequestsException,
   * ThrottlingException).
   */
  readonly errorCode?: string | undefined;
  /**
   * The operations faults apply to. Default: all of them, or with errorCode,
   * all operations of the services that have that error.
   */
  readonly operations?: readonly FakeOperation[] | undefined;
}

export interface FaultInjectorOptions {
  readonly clock: Clock;
  readonly random: () => number;
  /** Retry-After of injected throttling errors. */
  readonly retryAfterSeconds: number;
}

export interface FaultInjector {
  /** Replaces the faults; throws on a setting that could not be honoured. */
  set(faults: FakeFaults): void;
  /** Waits the latency and maybe throws the error, as `operation` would. */
  apply(operation: FakeOperation, options: CallOptions): Promise<void>;
  /** Ends pending latency waits, which reject as cancelled. */
  close(): void;
}

/** Throws an Error naming the first setting that is not valid. */
export function validateFakeFaults(faults: FakeFaults): void {
  const { latencyMs, errorRate, errorCode, operations } = faults;
  if (latencyMs !== undefined && !(Number.isFinite(latencyMs) && latencyMs >= 0)) {
    throw new Error(`faults.latencyMs must be a number of milliseconds >= 0, got ${latencyMs}`);
  }
  if (errorRate !== undefined && !(errorRate >= 0 && errorRate <= 1)) {
    throw new Error(`faults.errorRate must be from 0 to 1, got ${errorRate}`);
  }
  const codeServices = errorCode === undefined ? undefined : servicesOfErrorCode(errorCode);
  if (codeServices !== undefined && codeServices.length === 0) {
    throw new Error(
      `faults.errorCode ${JSON.stringify(errorCode)} is not an error the fake knows; Lambda: ${knownErrorCodes("lambda").join(", ")}; RAM: ${knownErrorCodes("ram").join(", ")}`,
    );
  }
  for (const operation of operations ?? []) {
    if (!isFakeOperation(operation)) {
      throw new Error(`faults.operations has ${JSON.stringify(operation)}; expected some of ${fakeOperations.join(", ")}`);
    }
    if (codeServices !== undefined && !codeServices.includes(operationService[operation])) {
      throw new Error(`faults.errorCode ${errorCode} is not a ${operationService[operation]} error, and ${operation} is a ${operationService[operation]} operation`);
    }
  }
}

export function createFaultInjector(options: FaultInjectorOptions): FaultInjector {
  let faults: FakeFaults = {};
  const pending = new Set<() => void>();

  const timeoutError = (operation: FakeOperation, call: CallOptions): UpstreamTimeoutError => {
    const reason: unknown = call.signal.reason;
    const deadlineExceeded =
      (call.deadline !== undefined && options.clock.now() >= call.deadline) || (reason instanceof Error && reason.name === "TimeoutError");
    return new UpstreamTimeoutError(
      operationService[operation],
      deadlineExceeded ? `${operation} did not finish before the caller's deadline` : `${operation} was cancelled by the caller`,
      deadlineExceeded,
      { cause: reason, cancelled: !deadlineExceeded },
    );
  };

  const sleep = (ms: number, operation: FakeOperation, call: CallOptions): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const finish = (outcome: () => void): void => {
        clearTimeout(timer);
        call.signal.removeEventListener("abort", onAbort);
        pending.delete(onAbort);
        outcome();
      };
      const onAbort = (): void => finish(() => reject(timeoutError(operation, call)));
      const timer = setTimeout(() => finish(resolve), ms);
      call.signal.addEventListener("abort", onAbort, { once: true });
      pending.add(onAbort);
    });

  const applies = (operation: FakeOperation, forError: boolean): boolean => {
    if (faults.operations !== undefined) return faults.operations.includes(operation);
    if (forError && faults.errorCode !== undefined) return servicesOfErrorCode(faults.errorCode).includes(operationService[operation]);
    return true;
  };

  return {
    set(next) {
      validateFakeFaults(next);
      faults = { ...next, operations: next.operations === undefined ? undefined : [...next.operations] };
    },

    async apply(operation, call) {
      if (call.signal.aborted) throw timeoutError(operation, call);
      const latencyMs = faults.latencyMs ?? 0;
      if (latencyMs > 0 && applies(operation, false)) await sleep(latencyMs, operation, call);
      const errorRate = faults.errorRate ?? 0;
      if (errorRate > 0 && applies(operation, true) && options.random() < errorRate) {
        const service = operationService[operation];
        throw createAwsError(service, faults.errorCode ?? throttlingErrorCode[service], { retryAfterSeconds: options.retryAfterSeconds });
      }
    },

    close() {
      for (const abort of [...pending]) abort();
    },
  };
}

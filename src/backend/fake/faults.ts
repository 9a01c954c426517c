// Fault injection for tests and chaos drills: added latency that honours the
// caller's signal, a rate of a chosen AWS error that looks exactly like the
// real one (its service, status, request ID, Retry-After), and a rate of
// mutations that take effect but whose answer is lost on the way back or is
// a server error.
import type { CallOptions } from "../backend.js";
import { callerAbortError } from "../abort.js";
import { UpstreamOutcomeUnknownError, type UpstreamTimeoutError } from "../errors.js";
import type { Clock } from "../../clock.js";
import { awsErrorCodes, SERVICE_ERROR_CODES, servicesOfAwsError } from "../../aws/error-catalogue.js";
import { createAwsError } from "./aws-errors.js";
import { fakeOperations, isFakeOperation, isMutation, operationService } from "./operations.js";
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
   * Share of mutations, 0..1, that take effect and then lose their answer:
   * the caller gets UpstreamOutcomeUnknownError, as when a connection drops
   * after AWS executed the request. Reads have no effect to lose and are
   * never picked.
   */
  readonly lostAnswerRate?: number | undefined;
  /**
   * Share of mutations, 0..1, that take effect and then answer a server
   * error (ServiceException, ServerInternalException: HTTP 500), as AWS may
   * after making the change. Reads are never picked.
   */
  readonly serverErrorAfterEffectRate?: number | undefined;
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
  /**
   * After `operation` took effect: throws UpstreamOutcomeUnknownError when
   * its answer is to be lost, or the service's 500 error when it is to fail.
   */
  afterEffect(operation: FakeOperation): void;
  /** Ends pending latency waits, which reject as cancelled. */
  close(): void;
}

function checkRate(name: string, rate: number | undefined): void {
  if (rate !== undefined && !(rate >= 0 && rate <= 1))
    throw new Error(`faults.${name} must be from 0 to 1, got ${rate}`);
}

/** Throws an Error naming the first setting that is not valid. */
export function validateFakeFaults(faults: FakeFaults): void {
  const { latencyMs, errorCode, operations } = faults;
  if (latencyMs !== undefined && !(Number.isFinite(latencyMs) && latencyMs >= 0)) {
    throw new Error(`faults.latencyMs must be a number of milliseconds >= 0, got ${latencyMs}`);
  }
  checkRate("errorRate", faults.errorRate);
  checkRate("lostAnswerRate", faults.lostAnswerRate);
  checkRate("serverErrorAfterEffectRate", faults.serverErrorAfterEffectRate);
  const codeServices = errorCode === undefined ? undefined : servicesOfAwsError(errorCode);
  if (codeServices !== undefined && codeServices.length === 0) {
    throw new Error(
      `faults.errorCode ${JSON.stringify(errorCode)} is not an error the fake knows; Lambda: ${awsErrorCodes("lambda").join(", ")}; RAM: ${awsErrorCodes("ram").join(", ")}`,
    );
  }
  for (const operation of operations ?? []) {
    if (!isFakeOperation(operation)) {
      throw new Error(
        `faults.operations has ${JSON.stringify(operation)}; expected some of ${fakeOperations.join(", ")}`,
      );
    }
    if (codeServices !== undefined && !codeServices.includes(operationService[operation])) {
      throw new Error(
        `faults.errorCode ${errorCode} is not a ${operationService[operation]} error, and ${operation} is a ${operationService[operation]} operation`,
      );
    }
  }
}

export function createFaultInjector(options: FaultInjectorOptions): FaultInjector {
  let faults: FakeFaults = {};
  const pending = new Set<() => void>();

  const abortError = (operation: FakeOperation, call: CallOptions): UpstreamTimeoutError =>
    callerAbortError(operationService[operation], call, options.clock.now(), call.signal.reason);

  const sleep = (ms: number, operation: FakeOperation, call: CallOptions): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const finish = (outcome: () => void): void => {
        clearTimeout(timer);
        call.signal.removeEventListener("abort", onAbort);
        pending.delete(onAbort);
        outcome();
      };
      const onAbort = (): void => finish(() => reject(abortError(operation, call)));
      const timer = setTimeout(() => finish(resolve), ms);
      call.signal.addEventListener("abort", onAbort, { once: true });
      pending.add(onAbort);
    });

  const applies = (operation: FakeOperation, forError: boolean): boolean => {
    if (faults.operations !== undefined) return faults.operations.includes(operation);
    if (forError && faults.errorCode !== undefined)
      return servicesOfAwsError(faults.errorCode).includes(operationService[operation]);
    return true;
  };

  return {
    set(next) {
      validateFakeFaults(next);
      faults = { ...next, operations: next.operations === undefined ? undefined : [...next.operations] };
    },

    async apply(operation, call) {
      if (call.signal.aborted) throw abortError(operation, call);
      const latencyMs = faults.latencyMs ?? 0;
      if (latencyMs > 0 && applies(operation, false)) await sleep(latencyMs, operation, call);
      const errorRate = faults.errorRate ?? 0;
      if (errorRate > 0 && applies(operation, true) && options.random() < errorRate) {
        const service = operationService[operation];
        throw createAwsError(service, faults.errorCode ?? SERVICE_ERROR_CODES[service].throttling, {
          retryAfterSeconds: options.retryAfterSeconds,
        });
      }
    },

    afterEffect(operation) {
      if (!isMutation(operation) || !applies(operation, false)) return;
      const service = operationService[operation];
      const lostRate = faults.lostAnswerRate ?? 0;
      if (lostRate > 0 && options.random() < lostRate) {
        throw new UpstreamOutcomeUnknownError(
          service,
          `${operation} took effect, but its answer was lost (injected by the fake backend)`,
        );
      }
      const serverErrorRate = faults.serverErrorAfterEffectRate ?? 0;
      if (serverErrorRate > 0 && options.random() < serverErrorRate) {
        throw createAwsError(service, SERVICE_ERROR_CODES[service].internal);
      }
    },

    close() {
      for (const abort of [...pending]) abort();
    },
  };
}

// Which calls the gateway takes on: at most `maxInFlight` at once, and none
// once it is shutting down. Refused calls are answered at once, before they
// touch the idempotency store or the backend, so overload is told as
// overload (RESOURCE_EXHAUSTED with RetryInfo) and never looks like a store
// outage. It also keeps the exact count of calls in flight that shutdown
// waits on: counted where the call runs, not per HTTP request, so pipelined
// HTTP/1.1 and reset streams cannot make it drift.
import { Code, type Interceptor } from "@connectrpc/connect";
import { gatewayError, retryInfo } from "../errors.js";

export interface CallAdmissionOptions {
  readonly maxInFlight: number;
  /** Suggested to a shed caller in RetryInfo. */
  readonly retryAfterMs: number;
  /** Told of every call refused for overload. */
  readonly onShed?: ((method: string) => void) | undefined;
}

export interface CallAdmission {
  readonly interceptor: Interceptor;
  inFlight(): number;
  /** From now on every new call is refused with UNAVAILABLE. */
  stopAdmitting(): void;
  /** Resolves true once no call is in flight, or false when `timeoutMs` passed first. */
  whenIdle(timeoutMs: number): Promise<boolean>;
}

export function createCallAdmission(options: CallAdmissionOptions): CallAdmission {
  const { maxInFlight, retryAfterMs } = options;
  let inFlight = 0;
  let admitting = true;
  const idleWaiters = new Set<() => void>();

  const finished = (): void => {
    inFlight--;
    if (inFlight === 0) for (const wake of [...idleWaiters]) wake();
  };

  const interceptor: Interceptor = (next) => async (req) => {
    if (!admitting) {
      throw gatewayError(Code.Unavailable, "the gateway is shutting down; retry on another replica", "SHUTTING_DOWN", [
        retryInfo(retryAfterMs),
      ]);
    }
    if (inFlight >= maxInFlight) {
      options.onShed?.(req.method.name);
      throw gatewayError(
        Code.ResourceExhausted,
        `the gateway is at its limit of ${maxInFlight} calls in flight; retry later`,
        "OVERLOADED",
        [retryInfo(retryAfterMs)],
      );
    }
    inFlight++;
    try {
      return await next(req);
    } finally {
      finished();
    }
  };

  return {
    interceptor,
    inFlight: () => inFlight,
    stopAdmitting() {
      admitting = false;
    },
    whenIdle(timeoutMs) {
      if (inFlight === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const done = (idle: boolean): void => {
          clearTimeout(timer);
          idleWaiters.delete(wake);
          resolve(idle);
        };
        const wake = (): void => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        idleWaiters.add(wake);
      });
    },
  };
}

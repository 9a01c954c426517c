// How the guard talks to its store: every call bounded by a timeout (and,
// for claim and read, by the caller's deadline), timed for the observer, and
// a failure turned into the answer that fails the RPC closed.
import type { HandlerContext } from "@connectrpc/connect";
import type { ConnectError } from "@connectrpc/connect";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { IdempotencyObserver } from "./guard-port.js";
import { idempotencyDeadlineExceededError, idempotencyStoreUnavailableError } from "./guard-errors.js";
import { isIdempotencyRecordCorruptError } from "./store.js";
import { withTimeout } from "../util/with-timeout.js";

/** How long one store call may take, and whether the caller's deadline set that bound. */
interface StoreTimeout {
  readonly ms: number;
  readonly byDeadline: boolean;
}

export class StoreTimeoutError extends Error {
  override readonly name = "StoreTimeoutError" as const;
  constructor(
    operation: string,
    readonly timeout: StoreTimeout,
  ) {
    super(
      `idempotency store ${operation} took longer than ${timeout.ms} ms${timeout.byDeadline ? " (the caller's deadline)" : ""}`,
    );
  }
}

export interface StoreCalls {
  /**
   * Runs one store operation within the store timeout; with `context`, also
   * within the caller's deadline (claim and read: an answer after it is
   * useless, and a claim won that late leaves the backend no time).
   * Completion, release, renewal and abandon keep the full timeout: they
   * run after or beside the backend call, whatever the deadline.
   */
  call<T>(operation: string, run: () => Promise<T>, context?: HandlerContext): Promise<T>;
  /** The error that fails the RPC closed after `error`; logs it (rate-limited). */
  failed(operation: string, rpc: string, error: unknown): ConnectError;
  /** Whether `error` only says the caller ran out of time. */
  isCallerDeadline(error: unknown): boolean;
}

const STORE_RETRY_AFTER_MS = 1_000;
const STORE_WARNING_INTERVAL_MS = 10_000;

export function createStoreCalls(options: {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly timeoutMs: number;
  readonly observer?: IdempotencyObserver | undefined;
}): StoreCalls {
  const { clock, logger, timeoutMs, observer } = options;
  // Only for rate-limiting one warning; the connection logger reports outages.
  let lastWarningAt = Number.NEGATIVE_INFINITY;
  let suppressedWarnings = 0;

  const boundFor = (context: HandlerContext | undefined): StoreTimeout => {
    const left = context?.timeoutMs();
    return left !== undefined && left < timeoutMs
      ? { ms: Math.max(0, left), byDeadline: true }
      : { ms: timeoutMs, byDeadline: false };
  };

  const observe = (operation: string, ms: number, failed: boolean): void => {
    try {
      observer?.onStoreCommand?.(operation, ms, failed);
    } catch (error) {
      logger.debug("idempotency observer failed", { error });
    }
  };

  return {
    async call<T>(operation: string, run: () => Promise<T>, context?: HandlerContext): Promise<T> {
      const bound = boundFor(context);
      const started = clock.now();
      let failed = true;
      try {
        const result = await withTimeout(run(), bound.ms, () => {
          throw new StoreTimeoutError(operation, bound);
        });
        failed = false;
        return result;
      } finally {
        observe(operation, clock.now() - started, failed);
      }
    },

    isCallerDeadline: (error) => error instanceof StoreTimeoutError && error.timeout.byDeadline,

    failed(operation: string, rpc: string, error: unknown): ConnectError {
      // The store did not fail: the caller ran out of time. Not worth a warning.
      if (error instanceof StoreTimeoutError && error.timeout.byDeadline) {
        logger.debug("caller's deadline passed during an idempotency store call", { rpc, operation });
        return idempotencyDeadlineExceededError();
      }
      if (isIdempotencyRecordCorruptError(error)) {
        logger.error("idempotency record is corrupt; failing closed", { rpc, operation, key: error.key, error });
      } else {
        const now = clock.now();
        if (now - lastWarningAt >= STORE_WARNING_INTERVAL_MS) {
          logger.warn("idempotency store failed; failing closed", {
            rpc,
            operation,
            error,
            suppressedSinceLastWarning: suppressedWarnings,
          });
          lastWarningAt = now;
          suppressedWarnings = 0;
        } else {
          suppressedWarnings += 1;
        }
      }
      return idempotencyStoreUnavailableError(STORE_RETRY_AFTER_MS);
    },
  };
}

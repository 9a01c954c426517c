// The IdempotencyGuard behind guard.ts: DESIGN.md section 4, in one place.
// claim -> (claimed | reclaimed) execute, bounded by the lease, and record the outcome
//       -> replay               answer with the stored response or error
//       -> mismatch             FAILED_PRECONDITION
//       -> in flight            poll until the owner's outcome is stored, then replay;
//                               the record released or its lease run out: claim again
//                               (within the wait budget); past it: ABORTED with RetryInfo
// Any store failure before execute fails closed with UNAVAILABLE, so the
// backend is never called without a claim. A failure of the final write only
// costs the memory of the outcome: the caller still gets the success.
import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import type { DescMessage, JsonValue, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { HandlerContext } from "@connectrpc/connect";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { CallOptions } from "../backend/backend.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import { requestFingerprint } from "./fingerprint.js";
import type { IdempotencyGuard, IdempotentCall } from "./guard.js";
import {
  idempotencyDeadlineExceededError,
  idempotencyInFlightError,
  idempotencyMismatchError,
  idempotencyStoreUnavailableError,
  idempotencyWaitCancelledError,
} from "./guard-errors.js";
import { idempotencyRecordKey } from "./record-key.js";
import { IdempotencyRecordCorruptError, isIdempotencyRecordCorruptError } from "./store.js";
import type { IdempotencyOutcome, IdempotencyRecord, IdempotencyStore, StoredErrorDetail } from "./store.js";

/** The response header that marks an answer as a replay. */
export const REPLAYED_HEADER = "idempotent-replayed";

/**
 * The request header whose value scopes tokens. It is NOT authentication:
 * any client can send any value. It only keeps the tokens of different
 * callers apart, so two services that pick the same token do not collide.
 */
export const CALLER_ID_HEADER = "x-caller-id";
export const ANONYMOUS_CALLER = "anonymous";

/** Backend outcomes worth remembering: a retry would get the same answer. */
const DEFINITIVE_CODES: ReadonlySet<Code> = new Set([
  Code.NotFound,
  Code.FailedPrecondition,
  Code.AlreadyExists,
  Code.InvalidArgument,
]);

const DEFAULT_POLL_INTERVAL_MS = 50;
const DEFAULT_LEASE_MARGIN_MS = 2_000;
const DEFAULT_STORE_TIMEOUT_MS = 1_000;
/** Time kept back from the caller's deadline so ABORTED arrives before it. */
const DEADLINE_RESERVE_MS = 50;
const STORE_RETRY_AFTER_MS = 1_000;
const MIN_RETRY_AFTER_MS = 100;
const STORE_WARNING_INTERVAL_MS = 10_000;

export interface IdempotencyGuardOptions {
  readonly store: IdempotencyStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Lifetime of a completed record. */
  readonly ttlMs: number;
  /** Upper bound of how long the owner's backend call may run; its lease adds the margin (see executionBudgetMs). */
  readonly leaseMs: number;
  /** Longest an in-flight duplicate waits for the owner, caller deadline permitting. */
  readonly maxWaitMs: number;
  readonly pollIntervalMs?: number | undefined;
  /** Added to every lease to cover the final write after the owner's call is cut off. Default 2 s. */
  readonly leaseMarginMs?: number | undefined;
  /** A store call slower than this (or than the caller's deadline) counts as a failure. Default 1 s. */
  readonly storeTimeoutMs?: number | undefined;
  /** Caller identity that scopes tokens; default: the x-caller-id header. */
  readonly identify?: ((context: HandlerContext) => string) | undefined;
}

export function callerIdFromHeader(context: HandlerContext): string {
  const value = context.requestHeader.get(CALLER_ID_HEADER)?.trim();
  return value ? value : ANONYMOUS_CALLER;
}

/** How long one store call may take, and whether the caller's deadline set that bound. */
interface StoreTimeout {
  readonly ms: number;
  readonly byDeadline: boolean;
}

class StoreTimeoutError extends Error {
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

export function createIdempotencyGuard(options: IdempotencyGuardOptions): IdempotencyGuard {
  const { store, clock, logger, ttlMs, leaseMs, maxWaitMs } = options;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const leaseMarginMs = options.leaseMarginMs ?? DEFAULT_LEASE_MARGIN_MS;
  const storeTimeoutMs = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
  const identify = options.identify ?? callerIdFromHeader;
  // Only for rate-limiting one warning; the connection logger reports outages.
  let lastStoreWarningAt = Number.NEGATIVE_INFINITY;
  let suppressedStoreWarnings = 0;

  /**
   * How long the owner's backend call may run: min(caller deadline left,
   * leaseMs). The claimed lease is this plus the margin, and the guard cuts
   * the call off when the budget ends (see budgetedCallOptions), so a
   * duplicate can only take over once the owner's call is over; the margin
   * is slack for the final store write. A longer lease would only delay the
   * takeover after a crashed owner.
   */
  const executionBudgetMs = (deadlineLeftMs: number | undefined): number =>
    Math.min(Math.max(deadlineLeftMs ?? leaseMs, 0), leaseMs);

  const waitBudgetMs = (deadlineLeftMs: number | undefined): number =>
    deadlineLeftMs === undefined ? maxWaitMs : Math.max(0, Math.min(maxWaitMs, deadlineLeftMs - DEADLINE_RESERVE_MS));

  /**
   * Claim and read may not outlast the caller: an answer after its deadline
   * is useless, and running the backend on a claim won that late leaves it
   * no time. Complete and release keep the full timeout: they run after the
   * backend call, whatever the deadline.
   */
  const storeTimeoutFor = (context: HandlerContext | undefined): StoreTimeout => {
    const left = context?.timeoutMs();
    return left !== undefined && left < storeTimeoutMs
      ? { ms: Math.max(0, left), byDeadline: true }
      : { ms: storeTimeoutMs, byDeadline: false };
  };

  const withTimeout = async <T>(operation: string, promise: Promise<T>, context?: HandlerContext): Promise<T> => {
    const bound = storeTimeoutFor(context);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreTimeoutError(operation, bound)), bound.ms);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const storeFailed = (operation: string, rpc: string, error: unknown): ConnectError => {
    // The store did not fail: the caller ran out of time. Not worth a warning.
    if (error instanceof StoreTimeoutError && error.timeout.byDeadline) {
      logger.debug("caller's deadline passed during an idempotency store call", { rpc, operation });
      return idempotencyDeadlineExceededError();
    }
    if (isIdempotencyRecordCorruptError(error)) {
      logger.error("idempotency record is corrupt; failing closed", { rpc, operation, key: error.key, error });
    } else {
      const now = clock.now();
      if (now - lastStoreWarningAt >= STORE_WARNING_INTERVAL_MS) {
        logger.warn("idempotency store failed; failing closed", {
          rpc,
          operation,
          error: error instanceof Error ? error : String(error),
          suppressedSinceLastWarning: suppressedStoreWarnings,
        });
        lastStoreWarningAt = now;
        suppressedStoreWarnings = 0;
      } else {
        suppressedStoreWarnings += 1;
      }
    }
    return idempotencyStoreUnavailableError(STORE_RETRY_AFTER_MS);
  };

  /** A store read whose failure, of any kind, fails the RPC closed. */
  const ask = async <T>(operation: string, rpc: string, context: HandlerContext, call: () => Promise<T>): Promise<T> => {
    try {
      return await withTimeout(operation, call(), context);
    } catch (error) {
      throw storeFailed(operation, rpc, error);
    }
  };

  const replay = <I extends DescMessage, O extends DescMessage>(
    call: IdempotentCall<I, O>,
    key: string,
    outcome: IdempotencyOutcome,
  ): MessageShape<O> => {
    if (outcome.kind === "error") {
      call.context.responseHeader.set(REPLAYED_HEADER, "true");
      throw errorFromOutcome(outcome.error);
    }
    let response: MessageShape<O>;
    try {
      response = fromBinary(call.responseSchema, outcome.response);
    } catch (cause) {
      // Bytes that are not this RPC's response are a damaged record, not a
      // bug of this call: fail closed like any other corrupt record.
      const reason = `stored response does not decode as ${call.responseSchema.typeName}`;
      throw storeFailed("replay", call.rpc, new IdempotencyRecordCorruptError(key, reason, { cause }));
    }
    call.context.responseHeader.set(REPLAYED_HEADER, "true");
    return response;
  };

  return {
    async run<I extends DescMessage, O extends DescMessage>(
      call: IdempotentCall<I, O>,
      execute: (options: CallOptions) => Promise<MessageShape<O>>,
    ): Promise<MessageShape<O>> {
      const { context, rpc } = call;
      const waitUntil = clock.now() + waitBudgetMs(context.timeoutMs());
      const key = idempotencyRecordKey({ callerId: identify(context), rpc, token: call.token });
      const fingerprint = requestFingerprint(call.requestSchema, call.request, call.tokenField);
      const owner = randomUUID();

      const claimRecord = async (claimLeaseMs: number) => {
        try {
          const input = { key, fingerprint, owner, leaseMs: claimLeaseMs, ttlMs };
          return await withTimeout("claim", store.claim(input), context);
        } catch (error) {
          // A claim that timed out may still have landed; give it back (fenced
          // by our owner id, so it cannot touch anyone else's record).
          store.release({ key, owner }).catch(() => undefined);
          throw storeFailed("claim", rpc, error);
        }
      };

      /** Polls until the owner's outcome is stored or the claim should be tried again. */
      const waitForOwner = async (leaseRemainingMs: number): Promise<IdempotencyRecord & { state: "completed" } | undefined> => {
        let remaining = leaseRemainingMs;
        for (;;) {
          const left = waitUntil - clock.now();
          if (left <= 0) throw idempotencyInFlightError(Math.min(Math.max(remaining, MIN_RETRY_AFTER_MS), 1_000));
          try {
            await sleep(Math.min(pollIntervalMs, left), undefined, { signal: context.signal });
          } catch {
            // Connect aborts the signal with a DEADLINE_EXCEEDED ConnectError
            // when the deadline passes; anything else is the caller leaving.
            const reason: unknown = context.signal.reason;
            const deadline = reason instanceof ConnectError && reason.code === Code.DeadlineExceeded;
            throw deadline ? idempotencyDeadlineExceededError() : idempotencyWaitCancelledError();
          }
          const record = await ask("read", rpc, context, () => store.read(key));
          if (record === undefined) return undefined;
          if (record.fingerprint !== fingerprint) throw idempotencyMismatchError(call.tokenField);
          if (record.state === "completed") return record;
          if (record.leaseRemainingMs <= 0) return undefined;
          remaining = record.leaseRemainingMs;
        }
      };

      const record = async (outcome: () => IdempotencyOutcome): Promise<void> => {
        try {
          const result = await withTimeout(
            "complete",
            store.complete({ key, owner, fingerprint, outcome: outcome(), ttlMs }),
          );
          if (result !== "applied") {
            logger.warn("idempotency outcome not recorded: the claim was lost", { rpc, key, result });
          }
        } catch (error) {
          logger.warn("idempotency outcome not recorded; a retry with this token will run again", {
            rpc,
            key,
            error: error instanceof Error ? error : String(error),
          });
        }
      };

      const release = async (claimLeaseMs: number): Promise<void> => {
        try {
          await withTimeout("release", store.release({ key, owner }));
        } catch (error) {
          // The lease runs out on its own; a retry waits at most that long.
          logger.warn("idempotency claim not released; it expires with its lease", {
            rpc,
            key,
            leaseMs: claimLeaseMs,
            error: error instanceof Error ? error : String(error),
          });
        }
      };

      const executeWithin = async (budgetEndsAt: number): Promise<MessageShape<O>> => {
        const budget = budgetedCallOptions(context, clock.now(), budgetEndsAt);
        try {
          return await execute(budget.options);
        } finally {
          budget.dispose();
        }
      };

      const executeAndRecord = async (budgetEndsAt: number, claimLeaseMs: number): Promise<MessageShape<O>> => {
        let response: MessageShape<O>;
        try {
          response = await executeWithin(budgetEndsAt);
        } catch (error) {
          if (error instanceof ConnectError && DEFINITIVE_CODES.has(error.code)) {
            await record(() => ({ kind: "error", error: storedErrorOf(error) }));
          } else {
            await release(claimLeaseMs);
          }
          throw error;
        }
        await record(() => ({ kind: "response", response: toBinary(call.responseSchema, response) }));
        return response;
      };

      for (;;) {
        // Taken before the claim is sent, so the budget ends no later than
        // the lease the store grants, minus the margin.
        const claimSentAt = clock.now();
        const budgetMs = executionBudgetMs(context.timeoutMs());
        const claimLeaseMs = budgetMs + leaseMarginMs;
        const claim = await claimRecord(claimLeaseMs);
        switch (claim.kind) {
          case "claimed":
            return executeAndRecord(claimSentAt + budgetMs, claimLeaseMs);
          case "reclaimed":
            logger.info("idempotency lease expired; taking over", { rpc, key, previousOwner: claim.previousOwner });
            return executeAndRecord(claimSentAt + budgetMs, claimLeaseMs);
          case "replay":
            return replay(call, key, claim.outcome);
          case "mismatch":
            throw idempotencyMismatchError(call.tokenField);
          case "in_flight": {
            const completed = await waitForOwner(claim.leaseRemainingMs);
            if (completed !== undefined) return replay(call, key, completed.outcome);
            // Released or abandoned by its owner: claim again (and maybe run
            // it), unless the wait used up the budget: what is left of it is
            // no time to run the call in. The retry finds the token free.
            if (clock.now() >= waitUntil) throw idempotencyInFlightError(MIN_RETRY_AFTER_MS);
            break;
          }
        }
      }
    },
  };
}

/**
 * The owner's call options: the caller's signal and deadline, cut short
 * where the execution budget ends. The abort reason is a TimeoutError, as
 * AbortSignal.timeout() gives it, which both backends read as a deadline:
 * the call ends as DEADLINE_EXCEEDED, a transient outcome that releases the
 * claim, before the lease (budget + margin) would let a duplicate take over.
 */
function budgetedCallOptions(
  context: HandlerContext,
  now: number,
  budgetEndsAt: number,
): { options: CallOptions; dispose: () => void } {
  const leaseEnded = new AbortController();
  const end = (): void => leaseEnded.abort(new DOMException("the idempotency lease ran out", "TimeoutError"));
  const budgetLeftMs = budgetEndsAt - now;
  let timer: NodeJS.Timeout | undefined;
  if (budgetLeftMs <= 0) end();
  else timer = setTimeout(end, budgetLeftMs);
  const callerLeftMs = context.timeoutMs();
  const deadline = callerLeftMs === undefined ? budgetEndsAt : Math.min(now + callerLeftMs, budgetEndsAt);
  return {
    options: { signal: AbortSignal.any([context.signal, leaseEnded.signal]), deadline },
    dispose: () => clearTimeout(timer),
  };
}

/** The parts of a ConnectError that a replay must reproduce. */
function storedErrorOf(error: ConnectError) {
  const details = error.details.map((detail): StoredErrorDetail => {
    if (!("desc" in detail)) {
      return detail.debug === undefined
        ? { type: detail.type, value: detail.value }
        : { type: detail.type, value: detail.value, debug: detail.debug };
    }
    const message = create(detail.desc, detail.value);
    const value = toBinary(detail.desc, message);
    let debug: JsonValue | undefined;
    try {
      debug = toJson(detail.desc, message);
    } catch {
      // Connect drops the JSON form for messages it cannot print; so do we.
    }
    return debug === undefined ? { type: detail.desc.typeName, value } : { type: detail.desc.typeName, value, debug };
  });
  return { code: error.code, message: error.rawMessage, details, metadata: [...error.metadata.entries()] };
}

function errorFromOutcome(stored: {
  readonly code: number;
  readonly message: string;
  readonly details: readonly StoredErrorDetail[];
  readonly metadata: readonly (readonly [string, string])[];
}): ConnectError {
  const error = new ConnectError(stored.message, stored.code as Code, stored.metadata.map(([n, v]) => [n, v]));
  // Raw type + bytes, as Connect keeps details that arrive from the wire: the
  // replay sends exactly the bytes the first answer sent.
  error.details = stored.details.map((detail) =>
    detail.debug === undefined
      ? { type: detail.type, value: detail.value }
      : { type: detail.type, value: detail.value, debug: detail.debug },
  );
  return error;
}

// The IdempotencyGuard behind guard.ts: DESIGN.md section 4, in one place.
// claim -> (claimed | reclaimed) execute and record the outcome
//       -> replay               answer with the stored response or error
//       -> mismatch             FAILED_PRECONDITION
//       -> in flight            poll until the owner's outcome is stored, then replay;
//                               the record released or its lease run out: claim again;
//                               past the wait budget: ABORTED with RetryInfo
// Any store failure before execute fails closed with UNAVAILABLE, so the
// backend is never called without a claim. A failure of the final write only
// costs the memory of the outcome: the caller still gets the success.
import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import type { DescMessage, JsonValue, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { HandlerContext } from "@connectrpc/connect";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import { requestFingerprint } from "./fingerprint.js";
import type { IdempotencyGuard, IdempotentCall } from "./guard.js";
import {
  idempotencyInFlightError,
  idempotencyMismatchError,
  idempotencyStoreUnavailableError,
} from "./guard-errors.js";
import { idempotencyRecordKey } from "./record-key.js";
import { isIdempotencyRecordCorruptError } from "./store.js";
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
const STORE_WARNING_INTERVAL_MS = 10_000;

export interface IdempotencyGuardOptions {
  readonly store: IdempotencyStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Lifetime of a completed record. */
  readonly ttlMs: number;
  /** Upper bound of an owner's lease (see effectiveLeaseMs). */
  readonly leaseMs: number;
  /** Longest an in-flight duplicate waits for the owner, caller deadline permitting. */
  readonly maxWaitMs: number;
  readonly pollIntervalMs?: number | undefined;
  /** Added to every lease to cover the final write after a deadline. Default 2 s. */
  readonly leaseMarginMs?: number | undefined;
  /** A store call slower than this counts as a failure. Default 1 s. */
  readonly storeTimeoutMs?: number | undefined;
  /** Caller identity that scopes tokens; default: the x-caller-id header. */
  readonly identify?: ((context: HandlerContext) => string) | undefined;
}

export function callerIdFromHeader(context: HandlerContext): string {
  const value = context.requestHeader.get(CALLER_ID_HEADER)?.trim();
  return value ? value : ANONYMOUS_CALLER;
}

class StoreTimeoutError extends Error {
  override readonly name = "StoreTimeoutError" as const;
  constructor(operation: string, timeoutMs: number) {
    super(`idempotency store ${operation} took longer than ${timeoutMs} ms`);
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
   * Effective lease = min(caller deadline left, leaseMs) + margin. The
   * owner's backend call cannot outlive the caller's deadline (it reaches
   * the SDK), so a longer lease would only delay the takeover after a
   * crashed owner; the margin covers the final store write after the
   * deadline ends the call. Without a deadline, leaseMs bounds it.
   */
  const effectiveLeaseMs = (deadlineLeftMs: number | undefined): number =>
    Math.min(Math.max(deadlineLeftMs ?? leaseMs, 0), leaseMs) + leaseMarginMs;

  const waitBudgetMs = (deadlineLeftMs: number | undefined): number =>
    deadlineLeftMs === undefined ? maxWaitMs : Math.max(0, Math.min(maxWaitMs, deadlineLeftMs - DEADLINE_RESERVE_MS));

  const withTimeout = async <T>(operation: string, promise: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreTimeoutError(operation, storeTimeoutMs)), storeTimeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const storeFailed = (operation: string, rpc: string, error: unknown): ConnectError => {
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

  /** A store call whose failure, of any kind, fails the RPC closed. */
  const ask = async <T>(operation: string, rpc: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await withTimeout(operation, call());
    } catch (error) {
      throw storeFailed(operation, rpc, error);
    }
  };

  const replay = <I extends DescMessage, O extends DescMessage>(
    call: IdempotentCall<I, O>,
    outcome: IdempotencyOutcome,
  ): MessageShape<O> => {
    call.context.responseHeader.set(REPLAYED_HEADER, "true");
    if (outcome.kind === "response") return fromBinary(call.responseSchema, outcome.response);
    throw errorFromOutcome(outcome.error);
  };

  return {
    async run<I extends DescMessage, O extends DescMessage>(
      call: IdempotentCall<I, O>,
      execute: () => Promise<MessageShape<O>>,
    ): Promise<MessageShape<O>> {
      const { context, rpc } = call;
      const deadlineLeftMs = context.timeoutMs();
      const waitUntil = clock.now() + waitBudgetMs(deadlineLeftMs);
      const key = idempotencyRecordKey({ callerId: identify(context), rpc, token: call.token });
      const fingerprint = requestFingerprint(call.requestSchema, call.request, call.tokenField);
      const owner = randomUUID();
      const leaseMs = effectiveLeaseMs(deadlineLeftMs);

      const claimRecord = async () => {
        try {
          return await withTimeout("claim", store.claim({ key, fingerprint, owner, leaseMs, ttlMs }));
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
          if (left <= 0) throw idempotencyInFlightError(Math.min(Math.max(remaining, 100), 1_000));
          try {
            await sleep(Math.min(pollIntervalMs, left), undefined, { signal: context.signal });
          } catch {
            throw ConnectError.from(context.signal.reason, Code.Canceled);
          }
          const record = await ask("read", rpc, () => store.read(key));
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

      const release = async (): Promise<void> => {
        try {
          await withTimeout("release", store.release({ key, owner }));
        } catch (error) {
          // The lease runs out on its own; a retry waits at most that long.
          logger.warn("idempotency claim not released; it expires with its lease", {
            rpc,
            key,
            leaseMs,
            error: error instanceof Error ? error : String(error),
          });
        }
      };

      const executeAndRecord = async (): Promise<MessageShape<O>> => {
        let response: MessageShape<O>;
        try {
          response = await execute();
        } catch (error) {
          if (error instanceof ConnectError && DEFINITIVE_CODES.has(error.code)) {
            await record(() => ({ kind: "error", error: storedErrorOf(error) }));
          } else {
            await release();
          }
          throw error;
        }
        await record(() => ({ kind: "response", response: toBinary(call.responseSchema, response) }));
        return response;
      };

      for (;;) {
        const claim = await claimRecord();
        switch (claim.kind) {
          case "claimed":
            return executeAndRecord();
          case "reclaimed":
            logger.info("idempotency lease expired; taking over", { rpc, key, previousOwner: claim.previousOwner });
            return executeAndRecord();
          case "replay":
            return replay(call, claim.outcome);
          case "mismatch":
            throw idempotencyMismatchError(call.tokenField);
          case "in_flight": {
            const completed = await waitForOwner(claim.leaseRemainingMs);
            if (completed !== undefined) return replay(call, completed.outcome);
            // Released or abandoned by its owner: claim again (and maybe run it).
            break;
          }
        }
      }
    },
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

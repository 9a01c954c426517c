// The IdempotencyGuard behind guard.ts: DESIGN.md section 4, in one place.
// claim -> claimed | reclaimed  execute under a lease renewed by heartbeat, bounded by the
//                               caller's deadline and maxExecutionMs; then complete, release
//                               or abandon the record (reclaimed: afterTakeover, so the
//                               backend reconciles with what an earlier attempt may have done)
//       -> replay               answer with the stored response or error
//       -> mismatch             FAILED_PRECONDITION
//       -> in flight            wait for the owner: one in this process tells us when it is
//                               done, one on another replica is polled with backoff; then
//                               replay, or claim again when the record was released or its
//                               lease ran out (within the wait budget); past it: ABORTED
// Any store failure before execute fails closed with UNAVAILABLE, so the
// backend is never called without a claim. A failure of the final write only
// costs the memory of the outcome: the caller still gets the success.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { HandlerContext } from "@connectrpc/connect";
import { randomUUID } from "node:crypto";
import type { CallOptions } from "../backend/backend.js";
import type { Clock } from "../clock.js";
import { isOutcomeUnknownError } from "../errors.js";
import type { Logger } from "../logger.js";
import { backoffDelayMs, pause } from "./backoff.js";
import { requestFingerprint } from "./fingerprint.js";
import { REPLAYED_HEADER } from "./guard-port.js";
import type { IdempotencyGuard, IdempotencyObserver, IdempotencyOutcomeKind, IdempotentCall } from "./guard-port.js";
import {
  idempotencyDeadlineExceededError,
  idempotencyInFlightError,
  idempotencyLeaseLostError,
  idempotencyMismatchError,
  idempotencyWaitCancelledError,
} from "./guard-errors.js";
import { createOwnerships } from "./ownership.js";
import type { Ownership } from "./ownership.js";
import { createPendingWrites } from "./pending-writes.js";
import { idempotencyRecordKey } from "./record-key.js";
import { createStoreCalls } from "./store-calls.js";
import { IdempotencyRecordCorruptError, isIdempotencyRecordCorruptError } from "./store.js";
import type { ClaimResult, IdempotencyOutcome, IdempotencyRecord, IdempotencyStore } from "./store.js";
import { errorFromStored, storedErrorOf } from "./stored-error.js";

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

const DEFAULT_MAX_EXECUTION_MS = 30_000;
const DEFAULT_STORE_TIMEOUT_MS = 1_000;
const DEFAULT_POLL_MIN_MS = 25;
const DEFAULT_POLL_MAX_MS = 1_000;
/** Time kept back from the caller's deadline so ABORTED arrives before it. */
const DEADLINE_RESERVE_MS = 50;
const MIN_RETRY_AFTER_MS = 100;
const MAX_RETRY_AFTER_MS = 1_000;

export interface IdempotencyGuardOptions {
  readonly store: IdempotencyStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Lifetime of a completed record. */
  readonly ttlMs: number;
  /** A claim's lease. Its owner renews it while the call runs, so a crashed owner's token is free again within it. */
  readonly leaseMs: number;
  /** How often the owner renews its lease. Default leaseMs / 3. */
  readonly renewIntervalMs?: number | undefined;
  /** Longest the owner's backend call may run, the caller's deadline permitting. Default 30 s. */
  readonly maxExecutionMs?: number | undefined;
  /** Longest an in-flight duplicate waits for the owner, caller deadline permitting. */
  readonly maxWaitMs: number;
  /** Polls of an owner on another replica: the first delay, doubling with jitter up to pollMaxMs. Default 25 ms. */
  readonly pollMinMs?: number | undefined;
  /** Default 1 s. */
  readonly pollMaxMs?: number | undefined;
  /** A store call slower than this (or, for claim and read, than the caller's deadline) counts as a failure. Default 1 s. */
  readonly storeTimeoutMs?: number | undefined;
  /** Caller identity that scopes tokens; default: the x-caller-id header. */
  readonly identify?: ((context: HandlerContext) => string) | undefined;
  readonly observer?: IdempotencyObserver | undefined;
}

/** A guard that can be waited for on shutdown. */
export interface SettlingIdempotencyGuard extends IdempotencyGuard {
  /**
   * Waits, at most `timeoutMs`, until every claim this guard holds has been
   * written (completed, released or abandoned) or given up, then stops all
   * retries and cuts the calls that still hold a lease. Resolves with how
   * many were still pending. Call it before closing the store.
   */
  settle(timeoutMs: number): Promise<number>;
}

export function callerIdFromHeader(context: HandlerContext): string {
  const value = context.requestHeader.get(CALLER_ID_HEADER)?.trim();
  return value ? value : ANONYMOUS_CALLER;
}

/** One call through the guard. */
interface Attempt<I extends DescMessage, O extends DescMessage> {
  readonly call: IdempotentCall<I, O>;
  readonly key: string;
  readonly fingerprint: string;
  readonly waitUntil: number;
  /** Set once decided; reported to the observer when run() ends. */
  outcome: IdempotencyOutcomeKind | undefined;
}

export function createIdempotencyGuard(options: IdempotencyGuardOptions): SettlingIdempotencyGuard {
  const { store, clock, logger, ttlMs, leaseMs, maxWaitMs } = options;
  const renewIntervalMs = options.renewIntervalMs ?? leaseMs / 3;
  const maxExecutionMs = options.maxExecutionMs ?? DEFAULT_MAX_EXECUTION_MS;
  const poll = { minMs: options.pollMinMs ?? DEFAULT_POLL_MIN_MS, maxMs: options.pollMaxMs ?? DEFAULT_POLL_MAX_MS };
  const identify = options.identify ?? callerIdFromHeader;
  const storeCalls = createStoreCalls({
    clock,
    logger,
    timeoutMs: options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS,
    observer: options.observer,
  });
  const writes = createPendingWrites(clock);
  const ownerships = createOwnerships({ store, storeCalls, writes, clock, logger, leaseMs, renewIntervalMs, ttlMs });

  const report = (kind: IdempotencyOutcomeKind): void => {
    try {
      options.observer?.onOutcome?.(kind);
    } catch (error) {
      logger.debug("idempotency observer failed", { error: error instanceof Error ? error : String(error) });
    }
  };

  const waitBudgetMs = (deadlineLeftMs: number | undefined): number =>
    deadlineLeftMs === undefined ? maxWaitMs : Math.max(0, Math.min(maxWaitMs, deadlineLeftMs - DEADLINE_RESERVE_MS));

  const begin = <I extends DescMessage, O extends DescMessage>(call: IdempotentCall<I, O>): Attempt<I, O> => ({
    call,
    key: idempotencyRecordKey({ callerId: identify(call.context), rpc: call.rpc, token: call.token }),
    fingerprint: requestFingerprint(call.requestSchema, call.request, call.tokenField),
    waitUntil: clock.now() + waitBudgetMs(call.context.timeoutMs()),
    outcome: undefined,
  });

  /** Gives back a claim whose answer never came: it may still land, and would hold the token for nobody. */
  const releaseLostClaim = (key: string, owner: string): void => {
    const giveUpAt = clock.now() + leaseMs;
    const release = () => storeCalls.call("release", () => store.release({ key, owner }));
    writes.track(
      writes.retry(
        release,
        () => giveUpAt,
        (error) => {
          logger.warn("idempotency claim not released; it expires with its lease", {
            key,
            leaseMs,
            error: describe(error),
          });
        },
      ),
    );
  };

  const claimRecord = async (attempt: Attempt<DescMessage, DescMessage>, owner: string): Promise<ClaimResult> => {
    const input = { key: attempt.key, fingerprint: attempt.fingerprint, owner, leaseMs, ttlMs };
    try {
      return await storeCalls.call("claim", () => store.claim(input), attempt.call.context);
    } catch (error) {
      // A corrupt record is an answer: nothing was written. Anything else
      // (a timeout above all) may have claimed without telling us.
      if (!isIdempotencyRecordCorruptError(error)) releaseLostClaim(attempt.key, owner);
      throw error;
    }
  };

  const replay = <I extends DescMessage, O extends DescMessage>(
    attempt: Attempt<I, O>,
    outcome: IdempotencyOutcome,
  ): MessageShape<O> => {
    const { call } = attempt;
    if (outcome.kind === "error") {
      call.context.responseHeader.set(REPLAYED_HEADER, "true");
      throw errorFromStored(outcome.error);
    }
    let response: MessageShape<O>;
    try {
      response = fromBinary(call.responseSchema, outcome.response);
    } catch (cause) {
      // Bytes that are not this RPC's response are a damaged record, not a
      // bug of this call: fail closed like any other corrupt record.
      const reason = `stored response does not decode as ${call.responseSchema.typeName}`;
      attempt.outcome = "store_error";
      throw storeCalls.failed("replay", call.rpc, new IdempotencyRecordCorruptError(attempt.key, reason, { cause }));
    }
    call.context.responseHeader.set(REPLAYED_HEADER, "true");
    return response;
  };

  /** The caller left or its deadline passed while it waited. */
  const waitEnded = (attempt: Attempt<DescMessage, DescMessage>): ConnectError => {
    attempt.outcome = "in_flight";
    // Connect aborts the signal with a DEADLINE_EXCEEDED ConnectError when
    // the deadline passes; anything else is the caller leaving.
    const reason: unknown = attempt.call.context.signal.reason;
    const deadline = reason instanceof ConnectError && reason.code === Code.DeadlineExceeded;
    return deadline ? idempotencyDeadlineExceededError() : idempotencyWaitCancelledError();
  };

  /** The wait budget is spent: ABORTED, or UNAVAILABLE when the store was failing all along. */
  const waitSpent = (
    attempt: Attempt<DescMessage, DescMessage>,
    leaseLeftMs: number,
    storeError: unknown,
  ): ConnectError => {
    if (storeError !== undefined) {
      attempt.outcome = "store_error";
      return storeCalls.failed("read", attempt.call.rpc, storeError);
    }
    attempt.outcome = "in_flight";
    return idempotencyInFlightError(Math.min(Math.max(leaseLeftMs, MIN_RETRY_AFTER_MS), MAX_RETRY_AFTER_MS));
  };

  /** Sleeps `ms`, or less when `done` settles first; throws when the caller goes. */
  const waitAtMost = async (attempt: Attempt<DescMessage, DescMessage>, ms: number, done?: Promise<void>) => {
    const { signal } = attempt.call.context;
    const woken = new AbortController();
    void done?.then(() => woken.abort());
    await pause(ms, AbortSignal.any([signal, woken.signal]));
    woken.abort();
    if (signal.aborted) throw waitEnded(attempt);
  };

  /** Polls until the owner's outcome is stored (returned) or the claim should be tried again (undefined). */
  const waitForOwner = async (
    attempt: Attempt<DescMessage, DescMessage>,
    leaseRemainingMs: number,
  ): Promise<(IdempotencyRecord & { state: "completed" }) | undefined> => {
    let leaseLeftMs = leaseRemainingMs;
    let storeError: unknown;
    for (let polls = 0; ; polls += 1) {
      const left = attempt.waitUntil - clock.now();
      if (left <= 0) throw waitSpent(attempt, leaseLeftMs, storeError);
      // An owner in this process says when it is done: no need to ask before.
      const local = ownerships.local(attempt.key);
      await waitAtMost(attempt, local === undefined ? Math.min(backoffDelayMs(poll, polls), left) : left, local?.done);
      let record: IdempotencyRecord | undefined;
      try {
        record = await storeCalls.call("read", () => store.read(attempt.key), attempt.call.context);
        storeError = undefined;
      } catch (error) {
        if (storeCalls.isCallerDeadline(error)) throw waitEnded(attempt);
        // One failed read does not fail the waiter: the next poll may answer.
        storeError = error;
        continue;
      }
      if (record === undefined) return undefined;
      if (record.fingerprint !== attempt.fingerprint) {
        attempt.outcome = "mismatch";
        throw idempotencyMismatchError(attempt.call.tokenField);
      }
      if (record.state === "completed") return record;
      if (record.leaseRemainingMs <= 0) return undefined;
      leaseLeftMs = record.leaseRemainingMs;
    }
  };

  /** Ends a failed call's claim: stored, released, or kept for a takeover. Returns what the caller gets. */
  const finishFailure = async (
    attempt: Attempt<DescMessage, DescMessage>,
    ownership: Ownership,
    owner: string,
    afterTakeover: boolean,
    error: unknown,
  ): Promise<unknown> => {
    const { key, fingerprint } = attempt;
    const abandon = () => ownership.finish("abandon", () => store.abandon({ key, owner }));
    if (ownership.heartbeat.lost.aborted) {
      // Stopped by us mid-call: it may have reached AWS, so the token is kept for a takeover.
      await abandon();
      return idempotencyLeaseLostError(MAX_RETRY_AFTER_MS);
    }
    if (error instanceof ConnectError && DEFINITIVE_CODES.has(error.code)) {
      const outcome: IdempotencyOutcome = { kind: "error", error: storedErrorOf(error) };
      await ownership.finish("complete", () => store.complete({ key, owner, fingerprint, outcome, ttlMs }));
    } else if (afterTakeover || (error instanceof ConnectError && isOutcomeUnknownError(error))) {
      // This attempt, or the one taken over, may have taken effect: the next
      // claim must be a takeover too, so that it reconciles before answering.
      await abandon();
    } else {
      await ownership.finish("release", () => store.release({ key, owner }));
    }
    return error;
  };

  const executeAsOwner = async <I extends DescMessage, O extends DescMessage>(
    attempt: Attempt<I, O>,
    execute: (options: CallOptions) => Promise<MessageShape<O>>,
    claim: { readonly owner: string; readonly grantedAt: number; readonly previousOwner: string | undefined },
  ): Promise<MessageShape<O>> => {
    const { call, key, fingerprint } = attempt;
    const { owner } = claim;
    const afterTakeover = claim.previousOwner !== undefined;
    attempt.outcome = afterTakeover ? "reclaimed" : "claimed";
    if (afterTakeover) {
      logger.info("idempotency lease expired or abandoned; taking over", {
        rpc: call.rpc,
        key,
        previousOwner: claim.previousOwner,
      });
    }
    const ownership = ownerships.hold({ rpc: call.rpc, key, fingerprint, owner, grantedAt: claim.grantedAt });
    const budget = executionOptions(call.context, clock.now(), maxExecutionMs, ownership.heartbeat.lost, afterTakeover);
    let response: MessageShape<O>;
    try {
      response = await execute(budget.options);
    } catch (error) {
      budget.dispose();
      throw await finishFailure(attempt, ownership, owner, afterTakeover, error);
    }
    budget.dispose();
    // Even if the lease was lost meanwhile, AWS answered: the caller gets the
    // success, and the write below is fenced (not_owner if taken over).
    const outcome: IdempotencyOutcome = { kind: "response", response: toBinary(call.responseSchema, response) };
    await ownership.finish("complete", () => store.complete({ key, owner, fingerprint, outcome, ttlMs }));
    return response;
  };

  const decide = async <I extends DescMessage, O extends DescMessage>(
    attempt: Attempt<I, O>,
    execute: (options: CallOptions) => Promise<MessageShape<O>>,
  ): Promise<MessageShape<O>> => {
    let waited = false;
    for (let tries = 0; ; tries += 1) {
      const local = ownerships.local(attempt.key);
      if (local !== undefined && local.fingerprint === attempt.fingerprint) {
        // The owner runs in this process: wait for it without asking the store.
        waited = true;
        const left = attempt.waitUntil - clock.now();
        if (left <= 0) throw waitSpent(attempt, MAX_RETRY_AFTER_MS, undefined);
        await waitAtMost(attempt, left, local.done);
        continue;
      }
      const owner = randomUUID();
      const grantedAt = clock.now();
      let claim: ClaimResult;
      try {
        claim = await claimRecord(attempt, owner);
      } catch (error) {
        // Before any wait the call fails closed at once; a waiter retries
        // within its budget (its first claim already got an answer).
        const left = attempt.waitUntil - clock.now();
        if (!waited || storeCalls.isCallerDeadline(error) || left <= 0) {
          attempt.outcome = "store_error";
          throw storeCalls.failed("claim", attempt.call.rpc, error);
        }
        await waitAtMost(attempt, Math.min(backoffDelayMs(poll, tries), left));
        continue;
      }
      switch (claim.kind) {
        case "claimed":
          return executeAsOwner(attempt, execute, { owner, grantedAt, previousOwner: undefined });
        case "reclaimed":
          return executeAsOwner(attempt, execute, { owner, grantedAt, previousOwner: claim.previousOwner });
        case "replay":
          attempt.outcome = waited ? "waited" : "replayed";
          return replay(attempt, claim.outcome);
        case "mismatch":
          attempt.outcome = "mismatch";
          throw idempotencyMismatchError(attempt.call.tokenField);
        case "in_flight": {
          waited = true;
          const completed = await waitForOwner(attempt, claim.leaseRemainingMs);
          if (completed !== undefined) {
            attempt.outcome = "waited";
            return replay(attempt, completed.outcome);
          }
          // Released or abandoned by its owner: claim again (and maybe run
          // it), unless the wait used up the budget: what is left of it is
          // no time to run the call in. The retry finds the token free.
          if (clock.now() >= attempt.waitUntil) throw waitSpent(attempt, MIN_RETRY_AFTER_MS, undefined);
          break;
        }
      }
    }
  };

  return {
    async run<I extends DescMessage, O extends DescMessage>(
      call: IdempotentCall<I, O>,
      execute: (options: CallOptions) => Promise<MessageShape<O>>,
    ): Promise<MessageShape<O>> {
      const attempt = begin(call);
      try {
        return await decide(attempt, execute);
      } finally {
        if (attempt.outcome !== undefined) {
          call.onOutcome?.(attempt.outcome);
          report(attempt.outcome);
        }
      }
    },

    async settle(timeoutMs: number): Promise<number> {
      const pending = await writes.settle(timeoutMs);
      ownerships.cutAll("the idempotency store is closing");
      return pending;
    },
  };
}

/**
 * The owner's call options: the caller's signal and deadline, cut short
 * where the execution budget (min(caller's deadline, maxExecutionMs)) ends
 * or the lease is lost. The abort reason is a TimeoutError, as
 * AbortSignal.timeout() gives it, which both backends read as a deadline.
 */
function executionOptions(
  context: HandlerContext,
  now: number,
  maxExecutionMs: number,
  leaseLost: AbortSignal,
  afterTakeover: boolean,
): { options: CallOptions; dispose: () => void } {
  const budgetMs = Math.min(Math.max(context.timeoutMs() ?? maxExecutionMs, 0), maxExecutionMs);
  // One controller fed by its three sources, rather than AbortSignal.any,
  // which costs more than the rest of this per call in Node 20.
  const execution = new AbortController();
  const endBudget = (): void =>
    execution.abort(new DOMException("the call's execution budget ran out", "TimeoutError"));
  const fromCaller = (): void => execution.abort(context.signal.reason);
  const fromLease = (): void => execution.abort(leaseLost.reason);
  let timer: NodeJS.Timeout | undefined;
  if (context.signal.aborted) fromCaller();
  else if (leaseLost.aborted) fromLease();
  else if (budgetMs <= 0) endBudget();
  else {
    timer = setTimeout(endBudget, budgetMs);
    context.signal.addEventListener("abort", fromCaller, { once: true });
    leaseLost.addEventListener("abort", fromLease, { once: true });
  }
  return {
    options: { signal: execution.signal, deadline: now + budgetMs, afterTakeover },
    dispose: () => {
      clearTimeout(timer);
      context.signal.removeEventListener("abort", fromCaller);
      leaseLost.removeEventListener("abort", fromLease);
    },
  };
}

function describe(error: unknown): Error | string {
  return error instanceof Error ? error : String(error);
}

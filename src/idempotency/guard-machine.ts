// The IdempotencyGuard behind guard-port.ts, as a state machine: the states,
// their transitions and the one place that names the outcome are in
// guard-states.ts; each state's step is a function here. In short:
// claim -> claimed | reclaimed  execute under a lease renewed by heartbeat, bounded by the
//                               caller's deadline and maxExecutionMs; then complete, release
//                               or abandon the record (reclaimed: afterTakeover, so the
//                               backend reconciles with what an earlier attempt may have done)
//       -> replay               answer with the stored response or error
//       -> mismatch             FAILED_PRECONDITION, unless the record's fingerprint is of an
//                               older version and describes this same request (rolling upgrade)
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
import { requestFingerprintOf } from "./fingerprint.js";
import type { RequestFingerprint } from "./fingerprint.js";
import { REPLAYED_HEADER } from "./guard-port.js";
import type { IdempotencyGuard, IdempotencyObserver, IdempotencyOutcomeKind, IdempotentCall } from "./guard-port.js";
import {
  idempotencyDeadlineExceededError,
  idempotencyInFlightError,
  idempotencyLeaseLostError,
  idempotencyMismatchError,
  idempotencyWaitCancelledError,
} from "./guard-errors.js";
import { isWaiting, outcomeOf } from "./guard-states.js";
import type { GuardState, HeldClaim, Refusal } from "./guard-states.js";
import type { LeaseHeartbeat } from "./lease-heartbeat.js";
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
  /** This request's fingerprint, and whether a stored one (of any known version) describes it. */
  readonly request: RequestFingerprint;
  /**
   * The fingerprint the claim is made with: the current version's, or an
   * older version's when the record was stored by an older replica.
   */
  fingerprint: string;
  readonly waitUntil: number;
  /** Whether the call has waited for another call with its token (so a replay is "waited"). */
  waited: boolean;
  /** Rounds of claiming so far: the backoff between failed claims grows with it. */
  rounds: number;
}

type AnyAttempt = Attempt<DescMessage, DescMessage>;
type Execute<O extends DescMessage> = (options: CallOptions) => Promise<MessageShape<O>>;
type Step<O extends DescMessage> = Promise<GuardState<O>>;

const refused = (reason: Refusal, error: unknown): GuardState<never> => ({ name: "refused", reason, error });
const claiming: GuardState<never> = { name: "claiming" };

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
      logger.debug("idempotency observer failed", { error });
    }
  };

  const waitBudgetMs = (deadlineLeftMs: number | undefined): number =>
    deadlineLeftMs === undefined ? maxWaitMs : Math.max(0, Math.min(maxWaitMs, deadlineLeftMs - DEADLINE_RESERVE_MS));

  const begin = <I extends DescMessage, O extends DescMessage>(call: IdempotentCall<I, O>): Attempt<I, O> => {
    const request = requestFingerprintOf(call.requestSchema, call.request, call.tokenField);
    return {
      call,
      key: idempotencyRecordKey({ callerId: identify(call.context), rpc: call.rpc, token: call.token }),
      request,
      fingerprint: request.current,
      waitUntil: clock.now() + waitBudgetMs(call.context.timeoutMs()),
      waited: false,
      rounds: 0,
    };
  };

  // ---- waiting helpers -------------------------------------------------

  /** The caller left or its deadline passed while it waited. */
  const waitEnded = (attempt: AnyAttempt): GuardState<never> => {
    // Connect aborts the signal with a DEADLINE_EXCEEDED ConnectError when
    // the deadline passes; anything else is the caller leaving.
    const reason: unknown = attempt.call.context.signal.reason;
    const deadline = reason instanceof ConnectError && reason.code === Code.DeadlineExceeded;
    return refused("in_flight", deadline ? idempotencyDeadlineExceededError() : idempotencyWaitCancelledError());
  };

  /** The wait budget is spent: ABORTED, with a retry hint from what is known of the owner's lease. */
  const waitSpent = (leaseLeftMs: number): GuardState<never> =>
    refused(
      "in_flight",
      idempotencyInFlightError(Math.min(Math.max(leaseLeftMs, MIN_RETRY_AFTER_MS), MAX_RETRY_AFTER_MS)),
    );

  /** Sleeps `ms`, or less when `done` settles first; false when the caller went meanwhile. */
  const waitAtMost = async (attempt: AnyAttempt, ms: number, done?: Promise<void>): Promise<boolean> => {
    const { signal } = attempt.call.context;
    const woken = new AbortController();
    void done?.then(() => woken.abort());
    await pause(ms, AbortSignal.any([signal, woken.signal]));
    woken.abort();
    return !signal.aborted;
  };

  // ---- claiming --------------------------------------------------------

  /**
   * A claim whose answer was lost (a timeout above all) may have landed, and
   * may have been the takeover of an earlier attempt that reached AWS. So it
   * is abandoned, never released: its lease ends at once, and the record
   * stays, so the token's next claim is a takeover that reconciles instead
   * of a fresh call that would read that attempt's change as a conflict.
   */
  const abandonLostClaim = (key: string, owner: string): void => {
    const giveUpAt = clock.now() + leaseMs;
    const abandon = () => storeCalls.call("abandon", () => store.abandon({ key, owner }));
    const givenUp = (error: unknown): void => {
      logger.warn("idempotency claim not abandoned; it expires with its lease", {
        key,
        leaseMs,
        error,
      });
    };
    writes.track(writes.retry(abandon, () => giveUpAt, givenUp));
  };

  const claimRecord = async (attempt: AnyAttempt, owner: string): Promise<ClaimResult> => {
    const input = { key: attempt.key, fingerprint: attempt.fingerprint, owner, leaseMs, ttlMs };
    try {
      return await storeCalls.call("claim", () => store.claim(input), attempt.call.context);
    } catch (error) {
      // A corrupt record is an answer: nothing was written. Anything else
      // (a timeout above all) may have claimed without telling us.
      if (!isIdempotencyRecordCorruptError(error)) abandonLostClaim(attempt.key, owner);
      throw error;
    }
  };

  const claim = async (attempt: AnyAttempt): Step<never> => {
    attempt.rounds += 1;
    const local = ownerships.local(attempt.key);
    // The owner runs in this process: wait for it without asking the store.
    if (local !== undefined && attempt.request.matches(local.fingerprint))
      return { name: "waiting_local", done: local.done };
    const owner = randomUUID();
    const grantedAt = clock.now();
    let result: ClaimResult;
    try {
      result = await claimRecord(attempt, owner);
    } catch (error) {
      // Before any wait the call fails closed at once; a waiter retries
      // within its budget (its first claim already got an answer).
      if (!attempt.waited || storeCalls.isCallerDeadline(error) || attempt.waitUntil - clock.now() <= 0) {
        return refused("store_error", storeCalls.failed("claim", attempt.call.rpc, error));
      }
      return { name: "backing_off" };
    }
    switch (result.kind) {
      case "claimed":
        return { name: "executing", claim: { owner, grantedAt, previousOwner: undefined } };
      case "reclaimed":
        return { name: "executing", claim: { owner, grantedAt, previousOwner: result.previousOwner } };
      case "replay":
        return { name: "replaying", stored: result.outcome };
      case "mismatch":
        return { name: "matching_version" };
      case "in_flight":
        return { name: "waiting", polls: 0, leaseLeftMs: result.leaseRemainingMs, storeError: undefined };
    }
  };

  const backOff = async (attempt: AnyAttempt): Step<never> => {
    const left = attempt.waitUntil - clock.now();
    const delay = Math.min(backoffDelayMs(poll, attempt.rounds - 1), left);
    return (await waitAtMost(attempt, delay)) ? claiming : waitEnded(attempt);
  };

  /**
   * The store compares fingerprints as strings, so a record written by an
   * older replica (an older fingerprint version) is a mismatch to it even
   * when it holds this very request: a retry of a rolling upgrade. Read the
   * record and compute this request's fingerprint in the record's version;
   * the same request claims again with the record's own fingerprint.
   */
  const matchVersion = async (attempt: AnyAttempt): Step<never> => {
    const mismatch = refused("mismatch", idempotencyMismatchError(attempt.call.tokenField));
    let record: IdempotencyRecord | undefined;
    try {
      record = await storeCalls.call("read", () => store.read(attempt.key), attempt.call.context);
    } catch (error) {
      return refused("store_error", storeCalls.failed("read", attempt.call.rpc, error));
    }
    // Gone since the claim (released or expired): the token is free again.
    if (record === undefined) return claiming;
    // Adopted already, and still refused: a different request after all.
    if (record.fingerprint === attempt.fingerprint || !attempt.request.matches(record.fingerprint)) return mismatch;
    attempt.fingerprint = record.fingerprint;
    return claiming;
  };

  // ---- waiting for the owner -------------------------------------------

  const waitLocal = async (attempt: AnyAttempt, done: Promise<void>): Step<never> => {
    const left = attempt.waitUntil - clock.now();
    if (left <= 0) return waitSpent(MAX_RETRY_AFTER_MS);
    return (await waitAtMost(attempt, left, done)) ? claiming : waitEnded(attempt);
  };

  /** One poll of an owner's record: the state to wait in, or what ends the wait. */
  const waitForOwner = async (
    attempt: AnyAttempt,
    state: GuardState<DescMessage> & { name: "waiting" },
  ): Step<never> => {
    const left = attempt.waitUntil - clock.now();
    if (left <= 0) {
      if (state.storeError === undefined) return waitSpent(state.leaseLeftMs);
      return refused("store_error", storeCalls.failed("read", attempt.call.rpc, state.storeError));
    }
    // An owner in this process says when it is done: no need to ask before.
    const local = ownerships.local(attempt.key);
    const pauseMs = local === undefined ? Math.min(backoffDelayMs(poll, state.polls), left) : left;
    if (!(await waitAtMost(attempt, pauseMs, local?.done))) return waitEnded(attempt);
    const next = { ...state, polls: state.polls + 1 };
    let record: IdempotencyRecord | undefined;
    try {
      record = await storeCalls.call("read", () => store.read(attempt.key), attempt.call.context);
    } catch (error) {
      if (storeCalls.isCallerDeadline(error)) return waitEnded(attempt);
      // One failed read does not fail the waiter: the next poll may answer.
      return { ...next, storeError: error };
    }
    if (record !== undefined && !attempt.request.matches(record.fingerprint)) {
      return refused("mismatch", idempotencyMismatchError(attempt.call.tokenField));
    }
    if (record?.state === "completed") return { name: "replaying", stored: record.outcome };
    if (record !== undefined && record.leaseRemainingMs > 0) {
      return { ...next, leaseLeftMs: record.leaseRemainingMs, storeError: undefined };
    }
    // Released, or its lease ran out: claim again (and maybe run it), unless
    // the wait used up the budget: what is left of it is no time to run the
    // call in. The retry finds the token free.
    if (record !== undefined) attempt.fingerprint = record.fingerprint;
    return clock.now() >= attempt.waitUntil ? waitSpent(MIN_RETRY_AFTER_MS) : claiming;
  };

  // ---- answering -------------------------------------------------------

  const replay = <I extends DescMessage, O extends DescMessage>(
    attempt: Attempt<I, O>,
    stored: IdempotencyOutcome,
  ): GuardState<O> => {
    const { call } = attempt;
    if (stored.kind === "error") {
      call.context.responseHeader.set(REPLAYED_HEADER, "true");
      return { name: "answered", answer: { ok: false, error: errorFromStored(stored.error) } };
    }
    let response: MessageShape<O>;
    try {
      response = fromBinary(call.responseSchema, stored.response);
    } catch (cause) {
      // Bytes that are not this RPC's response are a damaged record, not a
      // bug of this call: fail closed like any other corrupt record.
      const reason = `stored response does not decode as ${call.responseSchema.typeName}`;
      const corrupt = new IdempotencyRecordCorruptError(attempt.key, reason, { cause });
      return refused("store_error", storeCalls.failed("replay", call.rpc, corrupt));
    }
    call.context.responseHeader.set(REPLAYED_HEADER, "true");
    return { name: "answered", answer: { ok: true, response } };
  };

  // ---- owning ----------------------------------------------------------

  const executeAsOwner = async <I extends DescMessage, O extends DescMessage>(
    attempt: Attempt<I, O>,
    execute: Execute<O>,
    claim: HeldClaim,
  ): Step<O> => {
    const { call, key, fingerprint } = attempt;
    const { owner } = claim;
    const afterTakeover = claim.previousOwner !== undefined;
    if (afterTakeover) {
      logger.info("idempotency lease expired or abandoned; taking over", {
        rpc: call.rpc,
        key,
        previousOwner: claim.previousOwner,
      });
    }
    const ownership = ownerships.hold({ rpc: call.rpc, key, fingerprint, owner, grantedAt: claim.grantedAt });
    const budget = executionOptions(call.context, clock.now(), maxExecutionMs, ownership.heartbeat, afterTakeover);
    try {
      const response = await execute(budget.options);
      // Even if the lease was lost meanwhile, AWS answered: the caller gets
      // the success, and the write is fenced (not_owner if taken over).
      const stored: IdempotencyOutcome = { kind: "response", response: toBinary(call.responseSchema, response) };
      return { name: "completing", ownership, owner, stored, answer: { ok: true, response } };
    } catch (error) {
      return endOfFailedCall(ownership, owner, afterTakeover, error);
    } finally {
      budget.dispose();
    }
  };

  /** Where a failed call's claim goes: stored, released, or kept for a takeover. */
  const endOfFailedCall = (
    ownership: Ownership,
    owner: string,
    afterTakeover: boolean,
    error: unknown,
  ): GuardState<never> => {
    // Stopped by us mid-call: it may have reached AWS, so the token is kept for a takeover.
    if (ownership.heartbeat.lost.aborted) {
      return { name: "abandoning", ownership, owner, error: idempotencyLeaseLostError(MAX_RETRY_AFTER_MS) };
    }
    if (error instanceof ConnectError && DEFINITIVE_CODES.has(error.code)) {
      const stored: IdempotencyOutcome = { kind: "error", error: storedErrorOf(error) };
      return { name: "completing", ownership, owner, stored, answer: { ok: false, error } };
    }
    // This attempt, or the one taken over, may have taken effect: the next
    // claim must be a takeover too, so that it reconciles before answering.
    if (afterTakeover || (error instanceof ConnectError && isOutcomeUnknownError(error))) {
      return { name: "abandoning", ownership, owner, error };
    }
    return { name: "releasing", ownership, owner, error };
  };

  /** The final write of an owner's record; the caller waits for its first try only. */
  const endRecord = async <O extends DescMessage>(
    attempt: AnyAttempt,
    state: GuardState<O> & { name: "completing" | "releasing" | "abandoning" },
  ): Step<O> => {
    const { key, fingerprint } = attempt;
    const { ownership, owner } = state;
    switch (state.name) {
      case "completing": {
        const outcome = state.stored;
        await ownership.finish("complete", () => store.complete({ key, owner, fingerprint, outcome, ttlMs }));
        return { name: "answered", answer: state.answer };
      }
      case "releasing":
        await ownership.finish("release", () => store.release({ key, owner }));
        return { name: "answered", answer: { ok: false, error: state.error } };
      case "abandoning":
        await ownership.finish("abandon", () => store.abandon({ key, owner }));
        return { name: "answered", answer: { ok: false, error: state.error } };
    }
  };

  // ---- the machine -----------------------------------------------------

  /** The transition out of `state`: the only place that moves the machine. */
  const step = <I extends DescMessage, O extends DescMessage>(
    attempt: Attempt<I, O>,
    state: GuardState<O>,
    execute: Execute<O>,
  ): Step<O> => {
    const any = attempt as unknown as AnyAttempt;
    switch (state.name) {
      case "claiming":
        return claim(any);
      case "backing_off":
        return backOff(any);
      case "matching_version":
        return matchVersion(any);
      case "waiting_local":
        return waitLocal(any, state.done);
      case "waiting":
        return waitForOwner(any, state);
      case "executing":
        return executeAsOwner(attempt, execute, state.claim);
      case "completing":
      case "releasing":
      case "abandoning":
        return endRecord(any, state);
      case "replaying":
        return Promise.resolve(replay(attempt, state.stored));
      case "answered":
      case "refused":
        throw new Error(`the guard's final state ${state.name} has no transition`);
    }
  };

  return {
    async run<I extends DescMessage, O extends DescMessage>(
      call: IdempotentCall<I, O>,
      execute: Execute<O>,
    ): Promise<MessageShape<O>> {
      const attempt = begin(call);
      let outcome: IdempotencyOutcomeKind | undefined;
      try {
        let state: GuardState<O> = claiming;
        for (;;) {
          if (isWaiting(state)) attempt.waited = true;
          outcome = outcomeOf(state, attempt.waited) ?? outcome;
          if (state.name === "refused") throw state.error;
          if (state.name === "answered") {
            if (state.answer.ok) return state.answer.response;
            throw state.answer.error;
          }
          state = await step(attempt, state, execute);
        }
      } finally {
        if (outcome !== undefined) {
          call.onOutcome?.(outcome);
          report(outcome);
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
 * The backends also ask the lease right before each send (`leaseHeld`):
 * a process paused past its lease may run an SDK retry before the timer
 * that would have cut it.
 */
function executionOptions(
  context: HandlerContext,
  now: number,
  maxExecutionMs: number,
  lease: Pick<LeaseHeartbeat, "lost" | "held">,
  afterTakeover: boolean,
): { options: CallOptions; dispose: () => void } {
  const leaseLost = lease.lost;
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
    options: { signal: execution.signal, deadline: now + budgetMs, afterTakeover, leaseHeld: () => lease.held() },
    dispose: () => {
      clearTimeout(timer);
      context.signal.removeEventListener("abort", fromCaller);
      leaseLost.removeEventListener("abort", fromLease);
    },
  };
}

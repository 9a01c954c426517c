// The claims this process holds. Holding one means: a heartbeat that keeps
// its lease alive, an entry that same-process duplicates wait on instead of
// asking the store, and a final write (complete, release or abandon) whose
// first try the caller waits for while later tries go on in the background,
// still under the heartbeat, until they land, the lease is lost or a lease
// has passed. The entry ends, and its duplicates are woken, only then.
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import { startLeaseHeartbeat } from "./lease-heartbeat.js";
import type { LeaseHeartbeat } from "./lease-heartbeat.js";
import type { PendingWrites } from "./pending-writes.js";
import type { StoreCalls } from "./store-calls.js";
import type { FencedWriteResult, IdempotencyStore } from "./store.js";

export type FinalWrite = "complete" | "release" | "abandon";

/** A claim held by a call of this process. */
export interface Ownership {
  readonly heartbeat: LeaseHeartbeat;
  /** Writes the record's end; resolves after the first try, later ones go on in the background. */
  finish(operation: FinalWrite, write: () => Promise<FencedWriteResult>): Promise<void>;
}

/** What a same-process duplicate waits on. */
export interface LocalOwner {
  readonly fingerprint: string;
  /** Settles once the owner's final write landed or was given up. */
  readonly done: Promise<void>;
}

export interface Ownerships {
  hold(claim: {
    readonly rpc: string;
    readonly key: string;
    readonly fingerprint: string;
    readonly owner: string;
    readonly grantedAt: number;
  }): Ownership;
  local(key: string): LocalOwner | undefined;
  /** Gives up every lease still held (the store is closing): their calls stop. */
  cutAll(reason: string): void;
}

export function createOwnerships(deps: {
  readonly store: IdempotencyStore;
  readonly storeCalls: StoreCalls;
  readonly writes: PendingWrites;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly leaseMs: number;
  readonly renewIntervalMs: number;
  readonly ttlMs: number;
}): Ownerships {
  const { store, storeCalls, writes, clock, logger, leaseMs, ttlMs } = deps;
  const locals = new Map<string, LocalOwner>();
  const heartbeats = new Set<LeaseHeartbeat>();

  const logResult = (rpc: string, key: string, operation: FinalWrite, result: FencedWriteResult | undefined): void => {
    if (result === undefined || result === "applied") return;
    if (operation === "complete")
      logger.warn("idempotency outcome not recorded: the claim was lost", { rpc, key, result });
    else logger.debug(`idempotency ${operation} found the claim gone`, { rpc, key, result });
  };

  const hold: Ownerships["hold"] = ({ rpc, key, fingerprint, owner, grantedAt }) => {
    const heartbeat = startLeaseHeartbeat({
      renew: () => storeCalls.call("renew", () => store.renew({ key, owner, fingerprint, leaseMs, ttlMs })),
      clock,
      leaseMs,
      intervalMs: deps.renewIntervalMs,
      grantedAt,
      onLost: (reason, error) =>
        logger.warn("idempotency lease lost; stopping the call", {
          rpc,
          key,
          reason,
          ...(error === undefined ? {} : { error }),
        }),
      onRestored: () =>
        logger.warn("idempotency record vanished from the store while its call ran; written again", { rpc, key }),
    });
    heartbeats.add(heartbeat);
    let markDone: () => void = () => {};
    const local: LocalOwner = { fingerprint, done: new Promise<void>((resolve) => (markDone = resolve)) };
    locals.set(key, local);
    writes.track(local.done);
    const end = (): void => {
      heartbeat.stop();
      heartbeats.delete(heartbeat);
      if (locals.get(key) === local) locals.delete(key);
      markDone();
    };

    const retryInBackground = (operation: FinalWrite, once: () => Promise<FencedWriteResult>): void => {
      const giveUpAt = clock.now() + leaseMs;
      const until = () => (heartbeat.lost.aborted ? 0 : giveUpAt);
      const gaveUp = (error: unknown) =>
        logger.warn(`idempotency ${operation} gave up; the claim expires with its lease`, {
          rpc,
          key,
          error,
        });
      void writes.retry(once, until, gaveUp, 1).then((result) => {
        logResult(rpc, key, operation, result);
        end();
      });
    };

    return {
      heartbeat,
      async finish(operation, write) {
        const once = () => storeCalls.call(operation, write);
        try {
          logResult(rpc, key, operation, await once());
          end();
        } catch (error) {
          const what = operation === "complete" ? "outcome not recorded yet" : `${operation} failed`;
          logger.warn(`idempotency ${what}; retrying in the background`, { rpc, key, error });
          retryInBackground(operation, once);
        }
      },
    };
  };

  return {
    hold,
    local: (key) => locals.get(key),
    cutAll(reason) {
      for (const heartbeat of heartbeats) heartbeat.cut(reason);
    },
  };
}

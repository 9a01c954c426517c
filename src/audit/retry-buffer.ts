// Events the sink could not write when their call produced them (outcomes,
// and attempts of calls let through with AUDIT_FAILURE_MODE=open), kept in
// memory and written again, in order, once the sink takes writes again. The
// buffer is bounded: when it is full the oldest event is dropped, counted and
// logged (with its id, so the operator can match it to its attempt event).
// The oldest goes because the newest are the ones still being investigated
// and matched; the trail has one gap at the outage's start either way.
import type { Logger } from "../logger.js";
import type { AuditEvent, AuditEventKind } from "./event.js";
import type { AuditSink } from "./sink.js";

/** What the audit trail reports to (src/observability/metrics.ts counts it). */
export interface AuditObserver {
  /** An event that could not be written when its call produced it. */
  onWriteFailure(event: AuditEventKind): void;
  /** An event dropped from the full retry buffer: it will never be written. */
  onDropped(event: AuditEventKind): void;
}

export interface AuditRetryBuffer {
  /** Keeps an event for a later write (dropping the oldest when full) and schedules a retry. */
  add(event: AuditEvent): void;
  /** Events waiting. */
  size(): number;
  /** Writes what waits now: the sink just took a write. Resolves when this round is done. */
  retryNow(): Promise<void>;
  /** A last round, then stops; what is still waiting is logged as lost. */
  close(): Promise<void>;
}

export interface AuditRetryBufferOptions {
  readonly sink: Pick<AuditSink, "write">;
  readonly capacity: number;
  readonly logger: Logger;
  readonly observer?: AuditObserver | undefined;
  /** First wait before a retry; doubled after each failed round up to maxRetryDelayMs. Default 1 s. */
  readonly retryDelayMs?: number | undefined;
  /** Default 30 s. */
  readonly maxRetryDelayMs?: number | undefined;
}

export function createAuditRetryBuffer(options: AuditRetryBufferOptions): AuditRetryBuffer {
  const { sink, capacity, logger, observer } = options;
  const firstDelayMs = options.retryDelayMs ?? 1_000;
  const maxDelayMs = options.maxRetryDelayMs ?? 30_000;
  let waiting: AuditEvent[] = [];
  let delayMs = firstDelayMs;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;
  let closed = false;

  const keep = (events: readonly AuditEvent[]): void => {
    waiting.push(...events);
    const over = waiting.length - capacity;
    if (over <= 0) return;
    for (const dropped of waiting.splice(0, over)) {
      observer?.onDropped(dropped.event);
      logger.error("audit event dropped: the retry buffer is full", {
        id: dropped.id,
        event: dropped.event,
        rpc: dropped.rpc,
        outcome: dropped.outcome,
        time: dropped.time,
        capacity,
      });
    }
  };

  const schedule = (): void => {
    if (closed || timer !== undefined || waiting.length === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void retry();
    }, delayMs);
    timer.unref();
  };

  /** One round: every waiting event in one batch (the sink writes them in one write), in order. Whether all went. */
  const writeWaiting = async (): Promise<boolean> => {
    const batch = waiting;
    waiting = [];
    if (batch.length === 0) return true;
    const results = await Promise.allSettled(batch.map((event) => Promise.resolve().then(() => sink.write(event))));
    const failed = batch.filter((_, i) => results[i]?.status === "rejected");
    if (failed.length === 0) {
      delayMs = firstDelayMs;
      logger.info("audit events written after a retry", { events: batch.length });
      return true;
    }
    // Back in front of what arrived meanwhile, so the order holds.
    const arrived = waiting;
    waiting = [];
    keep([...failed, ...arrived]);
    delayMs = Math.min(delayMs * 2, maxDelayMs);
    const reason = results.find((result) => result.status === "rejected")?.reason as unknown;
    logger.warn("audit retry failed; events kept for the next one", {
      waiting: waiting.length,
      nextRetryMs: delayMs,
      error: reason,
    });
    return false;
  };

  /** Rounds until nothing waits or one fails; then the timer takes over. */
  const retry = (): Promise<void> => {
    round ??= (async () => {
      try {
        while (waiting.length > 0 && (await writeWaiting()));
      } finally {
        round = undefined;
        schedule();
      }
    })();
    return round;
  };

  return {
    add(event) {
      keep([event]);
      schedule();
    },
    size: () => waiting.length,
    retryNow() {
      if (waiting.length === 0) return round ?? Promise.resolve();
      clearTimeout(timer);
      timer = undefined;
      return retry();
    },
    async close() {
      await round;
      await retry();
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      if (waiting.length > 0) {
        for (const lost of waiting) observer?.onDropped(lost.event);
        logger.error("audit events not written at shutdown", {
          events: waiting.length,
          firstIds: waiting.slice(0, 100).map((event) => event.id),
        });
        waiting = [];
      }
    },
  };
}

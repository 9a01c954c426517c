// Per-caller rate limit (RATE_LIMIT_CALLS per RATE_LIMIT_WINDOW_SECONDS),
// keyed by the authenticated caller. With the idempotency store's Redis the
// count is shared by every replica; without it each process counts alone.
//
// Redis failing must not become an outage: the call is then counted by an
// in-memory limiter with the same limit (so each replica enforces it on its
// own until Redis is back) and a warning is logged. Failing closed would
// stop every caller; failing fully open would drop the limit exactly when
// something is already wrong.
import { createHash } from "node:crypto";
import { Code, type Interceptor } from "@connectrpc/connect";
import type { Cluster, Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { callerContextKey } from "../auth/identity.js";
import type { RateLimitConfig } from "../auth/config.js";
import { systemClock, type Clock } from "../clock.js";
import { gatewayError, retryInfo } from "../errors.js";
import type { Logger } from "../logger.js";

export type RateLimitDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

export interface CallerRateLimiter {
  readonly calls: number;
  readonly windowSeconds: number;
  /** Counts one call of the caller. */
  consume(callerId: string): Promise<RateLimitDecision>;
}

export interface CallerRateLimiterDeps {
  /** The idempotency store's client (never a connection of its own); undefined: count in memory. */
  readonly redis?: Redis | Cluster | undefined;
  readonly logger: Logger;
  readonly clock?: Clock | undefined;
}

const KEY_PREFIX = "pg:rl";
const WARNING_INTERVAL_MS = 10_000;
const allowed: RateLimitDecision = { allowed: true };

export function createCallerRateLimiter(config: RateLimitConfig, deps: CallerRateLimiterDeps): CallerRateLimiter {
  const options = { points: config.calls, duration: config.windowSeconds, keyPrefix: KEY_PREFIX };
  const memory = new RateLimiterMemory(options);
  // rejectIfRedisNotReady: while ioredis reconnects, fall back at once
  // instead of waiting for a command timeout on every call.
  const shared =
    deps.redis === undefined
      ? undefined
      : new RateLimiterRedis({ ...options, storeClient: deps.redis, rejectIfRedisNotReady: true });
  const clock = deps.clock ?? systemClock;
  let lastWarningAt = Number.NEGATIVE_INFINITY;

  const consumeFrom = async (limiter: RateLimiterAbstract, key: string): Promise<RateLimitDecision> => {
    try {
      await limiter.consume(key);
      return allowed;
    } catch (error) {
      if (error instanceof RateLimiterRes) return { allowed: false, retryAfterMs: error.msBeforeNext };
      throw error;
    }
  };

  return {
    calls: config.calls,
    windowSeconds: config.windowSeconds,
    async consume(callerId) {
      // Hashed: caller ids can be long (a SPIFFE ID, a header) and become Redis keys.
      const key = createHash("sha256").update(callerId, "utf8").digest("hex");
      if (shared === undefined) return consumeFrom(memory, key);
      try {
        return await consumeFrom(shared, key);
      } catch (error) {
        if (clock.now() - lastWarningAt >= WARNING_INTERVAL_MS) {
          lastWarningAt = clock.now();
          deps.logger.warn("rate limit: Redis failed, counting in this process until it is back", { error });
        }
        return consumeFrom(memory, key);
      }
    },
  };
}

/** After authentication: a caller over its limit gets RESOURCE_EXHAUSTED with RetryInfo, and nothing else runs. */
export function createRateLimitInterceptor(limiter: CallerRateLimiter, logger: Logger): Interceptor {
  return (next) => async (req) => {
    const caller = req.contextValues.get(callerContextKey);
    if (caller === undefined) {
      logger.error("rate limit: no caller identity; the authentication interceptor must run first", {
        method: req.method.name,
      });
      throw gatewayError(Code.Internal, "internal error", "INTERNAL", []);
    }
    const decision = await limiter.consume(caller.id);
    if (!decision.allowed) {
      throw gatewayError(
        Code.ResourceExhausted,
        `caller ${caller.id} is over its limit of ${limiter.calls} calls per ${limiter.windowSeconds} s; retry later`,
        "CALLER_RATE_LIMITED",
        [retryInfo(decision.retryAfterMs)],
        { limit: String(limiter.calls), windowSeconds: String(limiter.windowSeconds) },
      );
    }
    return next(req);
  };
}

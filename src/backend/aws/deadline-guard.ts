// Keeps the SDK from waiting out a Retry-After that ends after the caller's
// deadline. The caller's signal already stops every retry at the deadline;
// without this guard such a call would sit idle until then and end as
// DEADLINE_EXCEEDED, when AWS's own answer (throttled, retry after N seconds)
// is both known at once and more useful to the caller.
import type { FinalizeRequestMiddleware, MiddlewareStack } from "@smithy/types";
import { retryAfterSecondsOf } from "./retry-after.js";

/**
 * Thrown from inside the SDK's retry loop to end it. It deliberately has no
 * `cause`, `code` or `$metadata`: the standard strategy would find those
 * retryable (it looks through `cause`) and try again.
 */
export class RetryWouldPassDeadlineError extends Error {
  override readonly name = "RetryWouldPassDeadlineError" as const;
  constructor(readonly finalError: unknown) {
    super("the retry AWS asked for would start after the caller's deadline");
  }
}

/**
 * Adds, to one command's stack, a step that runs around each attempt (it sits
 * inside the retry middleware) and ends the retries when AWS's Retry-After
 * would only let the next attempt start after the deadline.
 */
export function stopRetriesPastDeadline<I extends object, O extends object>(
  stack: Pick<MiddlewareStack<I, O>, "addRelativeTo">,
  deadline: number | undefined,
  now: () => number,
): void {
  if (deadline === undefined) return;
  const guard: FinalizeRequestMiddleware<I, O> = (next) => async (args) => {
    try {
      return await next(args);
    } catch (error) {
      const waitSeconds = retryAfterSecondsOf(error, now());
      if (waitSeconds !== undefined && now() + waitSeconds * 1000 >= deadline) {
        throw new RetryWouldPassDeadlineError(error);
      }
      throw error;
    }
  };
  stack.addRelativeTo(guard, {
    name: "permissionGatewayDeadlineGuard",
    relation: "after",
    toMiddleware: "retryMiddleware",
    override: true,
  });
}

// Keeps a call whose idempotency lease has run out from sending anything to
// AWS. The guard's heartbeat gives a lease up on a timer, but a process that
// was paused (SIGSTOP, a long GC pause, a frozen VM) past its lease wakes with
// its timers due in any order: the SDK's retry timer can fire before the cut,
// and a retry sent then may undo the work of the token's new owner. So the
// lease is asked right before every attempt, inside the retry loop: an
// attempt proceeds only while the lease holds.
import type { FinalizeRequestMiddleware, MiddlewareStack } from "@smithy/types";

/**
 * Thrown from inside the SDK's retry loop, before the request was sent. Like
 * the other guards' errors it has no `cause`, `code` or `$metadata`, so the
 * standard strategy does not retry it.
 */
export class LeaseLostBeforeSendError extends Error {
  override readonly name = "LeaseLostBeforeSendError" as const;
  constructor() {
    super("the call's idempotency lease ran out before the request was sent; nothing was sent");
  }
}

/**
 * Adds, to one command's stack, a check of `leaseHeld` as the last step
 * before each attempt goes out: after the retry strategy and the signing,
 * with only the deserializer between it and the HTTP handler.
 */
export function stopSendsWithoutLease<I extends object, O extends object>(
  stack: Pick<MiddlewareStack<I, O>, "add">,
  leaseHeld: (() => boolean) | undefined,
): void {
  if (leaseHeld === undefined) return;
  const check: FinalizeRequestMiddleware<I, O> = (next) => (args) => {
    if (!leaseHeld()) throw new LeaseLostBeforeSendError();
    return next(args);
  };
  stack.add(check, { step: "finalizeRequest", priority: "low", name: "permissionGatewayLeaseCheck", override: true });
}

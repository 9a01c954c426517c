// Carries the call's W3C trace context to AWS: the headers are added to every
// attempt's HTTP request (after signing has not happened yet, so they are
// signed along), which lets an AWS-side trace or a proxy's log line join the
// caller's trace.
import type { BuildMiddleware, MiddlewareStack } from "@smithy/types";

/** Adds `headers()` (read once per command, in the call's async context) to each request of `stack`. */
export function addTraceHeaders<I extends object, O extends object>(
  stack: Pick<MiddlewareStack<I, O>, "add">,
  headers: Record<string, string>,
): void {
  if (Object.keys(headers).length === 0) return;
  const middleware: BuildMiddleware<I, O> = (next) => (args) => {
    const request = args.request as { headers?: Record<string, string> } | undefined;
    if (request?.headers !== undefined) Object.assign(request.headers, headers);
    return next(args);
  };
  stack.add(middleware, { step: "build", name: "permissionGatewayTraceHeaders" });
}

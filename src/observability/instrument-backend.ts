// A PermissionBackend that measures the one it wraps: every call is counted
// and timed by AWS operation (and failures by AWS error name), and runs in a
// CLIENT span, child of the RPC's span, so the AWS SDK's request carries that
// span's traceparent (Tracing.outgoingTraceHeaders) while it runs.
import { BACKEND_OPERATIONS, type CallOptions, type PermissionBackend } from "../backend/backend.js";
import { decorateBackend, type BackendCall } from "../backend/decorate.js";
import { isAwsApiError } from "../backend/errors.js";
import type { BackendSeries, BackendService, GatewayMetrics } from "./metrics.js";
import { errorName, type Tracing } from "./tracing.js";

const awsServiceNames: Readonly<Record<BackendService, string>> = { lambda: "Lambda", ram: "RAM" };

/** The AWS error name of a failure, else its class name (UpstreamNetworkError, ...). */
export function backendErrorType(error: unknown): string {
  return isAwsApiError(error) ? error.code : errorName(error);
}

/** Every port method (BACKEND_OPERATIONS), measured under the AWS operation behind it. */
export function instrumentBackend(
  backend: PermissionBackend,
  deps: { metrics: GatewayMetrics; tracing: Tracing },
): PermissionBackend {
  return decorateBackend(backend, (operation, call): BackendCall => {
    const { service, name } = BACKEND_OPERATIONS[operation];
    const series = deps.metrics.backendSeries(service, name);
    const spanName = `${awsServiceNames[service]}.${name}`;
    const attributes = { "rpc.system": "aws-api", "rpc.service": awsServiceNames[service], "rpc.method": name };
    const untyped = call as (input: unknown, options: CallOptions) => Promise<unknown>;
    return (input: unknown, options: CallOptions) =>
      deps.tracing.inChildSpan(spanName, attributes, () => timed(series, untyped, input, options), backendErrorType);
  });
}

async function timed(
  series: BackendSeries,
  call: (input: unknown, options: CallOptions) => Promise<unknown>,
  input: unknown,
  options: CallOptions,
): Promise<unknown> {
  const started = performance.now();
  try {
    const output = await call(input, options);
    series.observe(performance.now() - started, undefined);
    return output;
  } catch (error) {
    series.observe(performance.now() - started, backendErrorType(error));
    throw error;
  }
}

// A PermissionBackend that measures the one it wraps: every call is counted
// and timed by AWS operation (and failures by AWS error name), and runs in a
// CLIENT span, child of the RPC's span, so the AWS SDK's request carries that
// span's traceparent (Tracing.outgoingTraceHeaders) while it runs.
import type { CallOptions, PermissionBackend } from "../backend/backend.js";
import { isAwsApiError } from "../backend/errors.js";
import type { BackendSeries, BackendService, GatewayMetrics } from "./metrics.js";
import { errorName, type Tracing } from "./tracing.js";

type Operation = Exclude<keyof PermissionBackend, "close" | "checkReady">;

/** The AWS API operation behind each port method. */
const awsOperations: Readonly<Record<Operation, readonly [BackendService, string]>> = {
  removeLambdaPermission: ["lambda", "RemovePermission"],
  addLambdaPermission: ["lambda", "AddPermission"],
  getLambdaPolicy: ["lambda", "GetPolicy"],
  deleteRamPermission: ["ram", "DeletePermission"],
  createRamPermission: ["ram", "CreatePermission"],
  getRamPermission: ["ram", "GetPermission"],
  listRamPermissions: ["ram", "ListPermissions"],
};

const awsServiceNames: Readonly<Record<BackendService, string>> = { lambda: "Lambda", ram: "RAM" };

/** The AWS error name of a failure, else its class name (UpstreamNetworkError, ...). */
export function backendErrorType(error: unknown): string {
  return isAwsApiError(error) ? error.code : errorName(error);
}

export function instrumentBackend(
  backend: PermissionBackend,
  deps: { metrics: GatewayMetrics; tracing: Tracing },
): PermissionBackend {
  const instrument = <K extends Operation>(operation: K): PermissionBackend[K] => {
    const [service, awsOperation] = awsOperations[operation];
    const series = deps.metrics.backendSeries(service, awsOperation);
    const spanName = `${awsServiceNames[service]}.${awsOperation}`;
    const attributes = { "rpc.system": "aws-api", "rpc.service": awsServiceNames[service], "rpc.method": awsOperation };
    const call = backend[operation].bind(backend) as (input: unknown, options: CallOptions) => Promise<unknown>;
    const measured = (input: unknown, options: CallOptions): Promise<unknown> =>
      deps.tracing.inChildSpan(spanName, attributes, () => timed(series, call, input, options), backendErrorType);
    return measured as PermissionBackend[K];
  };
  return {
    removeLambdaPermission: instrument("removeLambdaPermission"),
    addLambdaPermission: instrument("addLambdaPermission"),
    getLambdaPolicy: instrument("getLambdaPolicy"),
    deleteRamPermission: instrument("deleteRamPermission"),
    createRamPermission: instrument("createRamPermission"),
    getRamPermission: instrument("getRamPermission"),
    listRamPermissions: instrument("listRamPermissions"),
    ...(backend.checkReady === undefined ? {} : { checkReady: backend.checkReady.bind(backend) }),
    close: () => backend.close(),
  };
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

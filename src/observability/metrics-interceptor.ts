// Counts every RPC by protocol and code, times it and tracks it while it runs.
// A call costs two clock reads and a few array lookups: the metric children
// of an RPC are made on its first call (GatewayMetrics.rpcSeries).
import type { Interceptor } from "@connectrpc/connect";
import { PROTOCOLS, codeOf, protocolOf } from "./call-labels.js";
import type { GatewayMetrics, RpcSeries } from "./metrics.js";
import { observeCall } from "./observe-call.js";

interface MeteredCall {
  readonly series: RpcSeries;
  readonly protocolIndex: number;
  readonly started: number;
}

export function createMetricsInterceptor(metrics: GatewayMetrics): Interceptor {
  return (next) => (req) => {
    const series = metrics.rpcSeries(req.method);
    series.inFlight.inc();
    const call: MeteredCall = {
      series,
      protocolIndex: PROTOCOLS.indexOf(protocolOf(req.header)),
      started: performance.now(),
    };
    return observeCall(next, req, endMeteredCall, call);
  };
}

function endMeteredCall(call: MeteredCall, error: unknown): void {
  call.series.inFlight.dec();
  call.series.duration.observe((performance.now() - call.started) / 1000);
  call.series.calls(call.protocolIndex, codeOf(error)).inc();
}

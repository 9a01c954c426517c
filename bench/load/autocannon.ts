// Connect JSON over HTTP/1.1 with autocannon's programmatic API: a request
// list per connection (a fresh body per call through setupRequest, pages
// chained through onResponse), keep-alive connections, no pipelining. A
// Connect error is a non-2xx status, so autocannon's own counts show every
// failure. Latencies are taken from its "response" events (sub-millisecond);
// its histogram keeps whole milliseconds, too coarse for a 1 ms target.
import autocannon from "autocannon";
import { createLatencyRecorder, percentile, type GeneratorRun, type LoadOutcome } from "./round.js";

export type ConnectRequest = autocannon.Request;

export interface AutocannonLoad {
  readonly tool: "autocannon";
  readonly connections: number;
  /** The sequence each connection loops over. */
  readonly requests: readonly ConnectRequest[];
  /** Fixed rate over all connections; unset means as fast as the server answers. */
  readonly overallRate?: number | undefined;
}

export type AutocannonRun = GeneratorRun<AutocannonLoad>;

export const connectHeaders = { "content-type": "application/json", "connect-protocol-version": "1" } as const;

/** A POST of one Connect JSON body to `/<service>/<Method>`. */
export function connectPost(path: string, body: unknown): ConnectRequest {
  return { method: "POST", path, body: JSON.stringify(body) };
}

export async function runAutocannon(run: AutocannonRun): Promise<LoadOutcome> {
  const latencies = createLatencyRecorder();
  let firstFailure: string | undefined;
  // Each request's own onResponse still runs; the wrapper keeps the first error answer.
  const requests = run.load.requests.map((request): ConnectRequest => {
    const own = typeof request.onResponse === "function" ? request.onResponse : undefined;
    return {
      ...request,
      onResponse: (status, body, context, headers) => {
        if ((status < 200 || status >= 300) && firstFailure === undefined)
          firstFailure = `HTTP ${status} ${body.slice(0, 300)}`;
        own?.(status, body, context, headers);
      },
    };
  });
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: run.baseUrl,
        connections: run.load.connections,
        pipelining: 1,
        headers: { ...connectHeaders, ...run.headers },
        requests,
        ...(run.length.kind === "count" ? { amount: run.length.requests } : { duration: run.length.seconds }),
        ...(run.load.overallRate === undefined ? {} : { overallRate: run.load.overallRate }),
        timeout: 10,
        // A round stops at the first sample tick after its duration: tick often.
        sampleInt: 100,
      },
      // autocannon calls back with an Error (a bad option) or null.
      (error: Error | null, done: autocannon.Result) => (error ? reject(error) : resolve(done)),
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.add(responseTime);
    });
  });
  const sorted = latencies.sorted();
  // errors already include timeouts.
  const failed = result.non2xx + result.errors;
  return {
    succeeded: sorted.length,
    failed,
    seconds: result.duration,
    requestsPerSecond: sorted.length / result.duration,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    firstFailure,
  };
}

// Trace context on every call, and OpenTelemetry spans when an exporter is
// configured. Without one, the interceptor still reads the caller's
// traceparent (for the logs, and to pass it on to AWS unchanged) and gives a
// call without one a fresh trace ID for its log line; the OpenTelemetry SDK
// is then never loaded, which keeps start-up short.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Interceptor } from "@connectrpc/connect";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { Logger } from "../logger.js";
import {
  callTraceKey,
  createTraceIdSource,
  formatTraceparent,
  parseTraceparent,
  parseTracestate,
} from "./trace-context.js";

export const DEFAULT_SERVICE_NAME = "permission-gateway";

export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

export interface Tracing {
  /** Install it first (outermost), so every other interceptor and the handler run inside the call's trace. */
  readonly interceptor: Interceptor;
  readonly spansEnabled: boolean;
  /**
   * `traceparent` (and `tracestate`) for an outgoing request made within the
   * current call, e.g. by the AWS SDK; {} outside any call, or for a call that
   * came without trace context while spans are off.
   */
  outgoingTraceHeaders(): Record<string, string>;
  /**
   * Runs `call` in a CLIENT span, child of the current call's span; with spans
   * off it just runs `call`. `errorType` names a failure for the span
   * (default: the error's `name`).
   */
  inChildSpan<T>(
    name: string,
    attributes: SpanAttributes,
    call: () => Promise<T>,
    errorType?: (error: unknown) => string,
  ): Promise<T>;
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** OTLP/HTTP traces URL (e.g. http://collector:4318/v1/traces); undefined: no spans, unless `exporter` is given. */
  readonly tracesEndpoint?: string | undefined;
  /** Headers for the OTLP requests (e.g. an API key of a tracing vendor). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** The `service.name` resource attribute. Default permission-gateway. */
  readonly serviceName?: string | undefined;
  /** Spans go here, each as it ends (tests: the SDK's InMemorySpanExporter), instead of OTLP. */
  readonly exporter?: SpanExporter | undefined;
  /** Failed exports are logged here (at warn). */
  readonly logger?: Logger | undefined;
}

/** The trace context of the current async scope: what an outgoing call carries. */
export interface ActiveTrace {
  readonly traceparent: string;
  readonly tracestate: string | undefined;
}

export async function createTracing(options: TracingOptions = {}): Promise<Tracing> {
  if (options.exporter === undefined && options.tracesEndpoint === undefined) return createTraceContextOnly();
  const { createSpanTracing } = await import("./span-tracing.js");
  return createSpanTracing(options);
}

function createTraceContextOnly(): Tracing {
  const active = new AsyncLocalStorage<ActiveTrace>();
  const newTraceId = createTraceIdSource();
  return {
    spansEnabled: false,
    interceptor: (next) => (req) => {
      const parent = parseTraceparent(req.header.get("traceparent"));
      if (parent === undefined) {
        req.contextValues.set(callTraceKey, { traceId: newTraceId() });
        return next(req);
      }
      req.contextValues.set(callTraceKey, { traceId: parent.traceId });
      // Not a participant in the trace: the caller's context goes on as it came.
      const trace: ActiveTrace = {
        traceparent: formatTraceparent(parent),
        tracestate: parseTracestate(req.header.get("tracestate")),
      };
      return active.run(trace, next, req);
    },
    outgoingTraceHeaders: () => traceHeaders(active.getStore()),
    inChildSpan: (_name, _attributes, call) => call(),
    shutdown: async () => {},
  };
}

export function traceHeaders(trace: ActiveTrace | undefined): Record<string, string> {
  if (trace === undefined) return {};
  if (trace.tracestate === undefined) return { traceparent: trace.traceparent };
  return { traceparent: trace.traceparent, tracestate: trace.tracestate };
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : "unknown";
}

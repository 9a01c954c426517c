// OpenTelemetry spans: one SERVER span per RPC, a CLIENT child per backend
// call. Loaded only when tracing is configured (tracing.ts imports this
// module dynamically). The provider is ours, not registered globally, and the
// current span lives in our own AsyncLocalStorage: nothing else in the
// process is affected by turning tracing on.
import { AsyncLocalStorage } from "node:async_hooks";
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  createTraceState,
  trace,
  type Context,
  type Span,
  type SpanContext,
} from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  TracerProvider,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import { codeName, codeOf, createMethodCache, isServerFault, protocolOf, rpcName } from "./call-labels.js";
import { observeCall } from "./observe-call.js";
import { callTraceKey, formatTraceparent, parseTraceparent, parseTracestate } from "./trace-context.js";
import {
  DEFAULT_SERVICE_NAME,
  errorName,
  traceHeaders,
  type ActiveTrace,
  type Tracing,
  type TracingOptions,
} from "./tracing.js";
import type { Logger } from "../logger.js";

interface ActiveSpan extends ActiveTrace {
  /** The OpenTelemetry context whose active span is this one. */
  readonly context: Context;
}

export async function createSpanTracing(options: TracingOptions): Promise<Tracing> {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": options.serviceName ?? DEFAULT_SERVICE_NAME }),
    spanProcessors: [await spanProcessor(options)],
  });
  const tracer = provider.getTracer(DEFAULT_SERVICE_NAME);
  const active = new AsyncLocalStorage<ActiveSpan>();
  const spanNames = createMethodCache((method) => ({
    name: rpcName(method),
    service: method.parent.typeName,
    method: method.name,
  }));

  return {
    spansEnabled: true,
    interceptor: (next) => (req) => {
      const names = spanNames(req.method);
      const parent = callerContext(req.header);
      const span = tracer.startSpan(
        names.name,
        {
          kind: SpanKind.SERVER,
          attributes: {
            "rpc.system": protocolOf(req.header) === "connect" ? "connect_rpc" : "grpc",
            "rpc.service": names.service,
            "rpc.method": names.method,
          },
        },
        parent,
      );
      req.contextValues.set(callTraceKey, { traceId: span.spanContext().traceId });
      return active.run(activeSpan(parent, span), observeCall, next, req, endServerSpan, span);
    },
    outgoingTraceHeaders: () => traceHeaders(active.getStore()),
    inChildSpan(name, attributes, call, errorType = errorName) {
      const parent = active.getStore();
      if (parent === undefined) return call();
      const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent.context);
      return active.run(activeSpan(parent.context, span), runInSpan, span, call, errorType);
    },
    shutdown: () => provider.shutdown(),
  };
}

async function spanProcessor(options: TracingOptions): Promise<SpanProcessor> {
  if (options.exporter !== undefined) return new SimpleSpanProcessor({ exporter: options.exporter });
  const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
  const exporter = new OTLPTraceExporter({
    ...(options.tracesEndpoint === undefined ? {} : { url: options.tracesEndpoint }),
    ...(options.headers === undefined ? {} : { headers: { ...options.headers } }),
  });
  return new BatchSpanProcessor({
    exporter: options.logger === undefined ? exporter : logFailedExports(exporter, options.logger),
  });
}

/** The caller's span as a remote parent, or the root when it sent no valid traceparent. */
function callerContext(header: Headers): Context {
  const parent = parseTraceparent(header.get("traceparent"));
  if (parent === undefined) return ROOT_CONTEXT;
  const tracestate = parseTracestate(header.get("tracestate"));
  const remote: SpanContext = {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.flags,
    isRemote: true,
    ...(tracestate === undefined ? {} : { traceState: createTraceState(tracestate) }),
  };
  return trace.setSpanContext(ROOT_CONTEXT, remote);
}

function activeSpan(parent: Context, span: Span): ActiveSpan {
  const { traceId, spanId, traceFlags, traceState } = span.spanContext();
  return {
    context: trace.setSpan(parent, span),
    traceparent: formatTraceparent({ traceId, spanId, flags: traceFlags }),
    tracestate: traceState?.serialize() || undefined,
  };
}

function endServerSpan(span: Span, error: unknown): void {
  const code = codeOf(error);
  span.setAttribute("rpc.grpc.status_code", code);
  if (isServerFault(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: codeName(code) });
  span.end();
}

async function runInSpan<T>(span: Span, call: () => Promise<T>, errorType: (error: unknown) => string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const type = errorType(error);
    span.setAttribute("error.type", type);
    span.setStatus({ code: SpanStatusCode.ERROR, message: type });
    throw error;
  } finally {
    span.end();
  }
}

function logFailedExports(exporter: SpanExporter, logger: Logger): SpanExporter {
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        // ExportResultCode.SUCCESS is 0; its enum lives in @opentelemetry/core, which is not our dependency.
        // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-comparison
        if (result.error !== undefined || result.code !== 0) {
          logger.warn("span export failed", { spans: spans.length, error: result.error });
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

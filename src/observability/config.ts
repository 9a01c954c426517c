// Observability settings from the environment: where /metrics is served and
// where spans go. Pure: main.ts passes its env in.
import { INVALID, SECTIONS, helpOf, integer, read, setting, text, type Env, type EnvHelp } from "../config-values.js";
import { DEFAULT_SERVICE_NAME } from "./tracing.js";

export interface ObservabilityConfig {
  /** Serve /metrics (with /healthz and /readyz) on this port of HOST instead of the gateway's port. */
  readonly metricsPort: number | undefined;
  /** Options for createTracing; no tracesEndpoint means no spans. */
  readonly tracing: {
    readonly tracesEndpoint: string | undefined;
    readonly headers: Readonly<Record<string, string>>;
    readonly serviceName: string;
  };
}

const section = SECTIONS.observability;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

export const OBSERVABILITY_SETTINGS = {
  metricsPort: setting({
    name: "METRICS_PORT",
    section,
    ...integer(1, 65535, " other than PORT"),
    defaultText: "none (/metrics on PORT)",
    help: "Serve GET /metrics, /healthz and /readyz on this port of HOST instead of on PORT.",
  }),
  endpoint: setting({
    name: "OTEL_EXPORTER_OTLP_ENDPOINT",
    section,
    ...text("an http:// or https:// URL, e.g. http://otel-collector:4318", "url", isHttpUrl),
    defaultText: "none (no spans)",
    help: "OTLP/HTTP base URL: spans are sent to <url>/v1/traces. Trace context is propagated either way.",
  }),
  tracesEndpoint: setting({
    name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    section,
    ...text("an http:// or https:// URL, e.g. http://otel-collector:4318/v1/traces", "url", isHttpUrl),
    help: "OTLP/HTTP traces URL, used as it is; wins over OTEL_EXPORTER_OTLP_ENDPOINT.",
  }),
  headers: setting({
    name: "OTEL_EXPORTER_OTLP_HEADERS",
    section,
    kind: "list",
    accepts: "comma-separated key=value pairs with URL-encoded values",
    parse: parseHeaders,
    // The values are credentials: an error shows the keys only.
    redact: maskValues,
    defaultText: "none",
    help: "Headers of the OTLP requests, e.g. a tracing vendor's API key; never logged.",
  }),
  serviceName: setting({
    name: "OTEL_SERVICE_NAME",
    section,
    ...text("a name"),
    default: DEFAULT_SERVICE_NAME,
    help: "The service.name of the spans.",
  }),
};

export const OBSERVABILITY_ENV_HELP: readonly EnvHelp[] = helpOf(Object.values(OBSERVABILITY_SETTINGS));

export function parseObservabilityConfig(env: Env): ObservabilityConfig {
  return {
    metricsPort: read(env, OBSERVABILITY_SETTINGS.metricsPort),
    tracing: {
      tracesEndpoint: readTracesEndpoint(env),
      headers: read(env, OBSERVABILITY_SETTINGS.headers) ?? {},
      serviceName: read(env, OBSERVABILITY_SETTINGS.serviceName),
    },
  };
}

function readTracesEndpoint(env: Env): string | undefined {
  const traces = read(env, OBSERVABILITY_SETTINGS.tracesEndpoint);
  if (traces !== undefined) return traces;
  const base = read(env, OBSERVABILITY_SETTINGS.endpoint);
  // The OTLP spec: the signal's path is appended to the base URL.
  return base === undefined ? undefined : `${base.replace(/\/+$/, "")}/v1/traces`;
}

function parseHeaders(value: string): Record<string, string> | typeof INVALID {
  const headers: Record<string, string> = {};
  for (const pair of value.split(",")) {
    const equals = pair.indexOf("=");
    const key = pair.slice(0, equals).trim();
    const decoded = equals === -1 ? undefined : decode(pair.slice(equals + 1).trim());
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key) || decoded === undefined) return INVALID;
    headers[key.toLowerCase()] = decoded;
  }
  return headers;
}

function decode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function maskValues(value: string): string {
  return value
    .split(",")
    .map((pair) => (pair.includes("=") ? `${pair.slice(0, pair.indexOf("="))}=***` : pair))
    .join(",");
}

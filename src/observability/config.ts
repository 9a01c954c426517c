// Observability settings from the environment: where /metrics is served and
// where spans go. Pure: main.ts passes its env in.
import type { EnvHelp } from "../config-values.js";
import { ConfigError, readInteger, readString, type Env } from "../config-values.js";
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

export const OBSERVABILITY_ENV_HELP: readonly EnvHelp[] = [
  {
    name: "METRICS_PORT",
    accepted: "1..65535",
    default: "none (/metrics on PORT)",
    description: "Serve GET /metrics, /healthz and /readyz on this port of HOST instead of on PORT.",
  },
  {
    name: "OTEL_EXPORTER_OTLP_ENDPOINT",
    accepted: "an http(s) URL, e.g. http://otel-collector:4318",
    default: "none (no spans)",
    description: "OTLP/HTTP base URL: spans are sent to <url>/v1/traces. Trace context is propagated either way.",
  },
  {
    name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    accepted: "an http(s) URL, e.g. http://otel-collector:4318/v1/traces",
    default: "none",
    description: "OTLP/HTTP traces URL, used as it is; wins over OTEL_EXPORTER_OTLP_ENDPOINT.",
  },
  {
    name: "OTEL_EXPORTER_OTLP_HEADERS",
    accepted: "key=value,key=value (values URL-encoded)",
    default: "none",
    description: "Headers of the OTLP requests, e.g. a tracing vendor's API key; never logged.",
  },
  {
    name: "OTEL_SERVICE_NAME",
    accepted: "a name",
    default: DEFAULT_SERVICE_NAME,
    description: "The service.name of the spans.",
  },
];

export function parseObservabilityConfig(env: Env): ObservabilityConfig {
  const metricsPortSet = readString(env, "METRICS_PORT") !== undefined;
  return {
    metricsPort: metricsPortSet ? readInteger(env, "METRICS_PORT", 1, 65535, 0) : undefined,
    tracing: {
      tracesEndpoint: readTracesEndpoint(env),
      headers: readHeaders(env, "OTEL_EXPORTER_OTLP_HEADERS"),
      serviceName: readString(env, "OTEL_SERVICE_NAME") ?? DEFAULT_SERVICE_NAME,
    },
  };
}

function readTracesEndpoint(env: Env): string | undefined {
  const traces = readUrl(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (traces !== undefined) return traces;
  const base = readUrl(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  // The OTLP spec: the signal's path is appended to the base URL.
  return base === undefined ? undefined : `${base.replace(/\/+$/, "")}/v1/traces`;
}

function readUrl(env: Env, name: string): string | undefined {
  const value = readString(env, name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, "an http:// or https:// URL", value);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new ConfigError(name, "an http:// or https:// URL", value);
  return value;
}

function readHeaders(env: Env, name: string): Record<string, string> {
  const value = readString(env, name);
  if (value === undefined) return {};
  const headers: Record<string, string> = {};
  for (const pair of value.split(",")) {
    const equals = pair.indexOf("=");
    const key = pair.slice(0, equals).trim();
    const decoded = equals === -1 ? undefined : decode(pair.slice(equals + 1).trim());
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key) || decoded === undefined) {
      // The values are credentials: the message shows the keys only.
      throw new ConfigError(name, "comma-separated key=value pairs with URL-encoded values", maskValues(value));
    }
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

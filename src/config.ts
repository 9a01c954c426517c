// Environment -> typed Config. Pure: main.ts passes process.env in. Every
// bad value stops start-up with a ConfigError naming the variable and what
// it accepts; each adapter owns the parser of its own section.
import type { AwsConfig } from "./backend/aws/config.js";
import { parseAwsConfig, AWS_ENV_HELP } from "./backend/aws/config.js";
import { ConfigError, readEnum, readInteger, readNumber, readString, type Env, type EnvHelp } from "./config-values.js";
import { awsErrorCodes, servicesOfAwsError } from "./aws/error-catalogue.js";
import { parseIdempotencyConfig, IDEMPOTENCY_ENV_HELP, type IdempotencyConfig } from "./idempotency/config.js";
import { AUTH_ENV_HELP, parseAuthConfig, type AuthConfig } from "./auth/config.js";
import { assertListenAllowed } from "./auth/listen-policy.js";
import { AUTHZ_ENV_HELP, parseAuthzConfig, type AuthzConfig } from "./authz/config.js";
import { AUDIT_ENV_HELP, parseAuditConfig, type AuditConfig } from "./audit/config.js";
import { HEALTH_ENV_HELP, parseHealthConfig, type HealthConfig } from "./health/config.js";
import { OBSERVABILITY_ENV_HELP, parseObservabilityConfig, type ObservabilityConfig } from "./observability/config.js";
import { REFLECTION_ENV_HELP, parseReflectionConfig, type ReflectionConfig } from "./reflection/config.js";
import { LOG_LEVELS, type LogLevel } from "./logger.js";
import type { ResolvedLimits } from "./server.js";

export interface FakeBackendConfig {
  /** Path of a seed JSON file; undefined means the built-in demo seed. */
  readonly seedPath: string | undefined;
  readonly latencyMs: number;
  readonly errorRate: number;
  readonly errorCode: string | undefined;
  readonly lostAnswerRate: number;
}

export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * Limits of the HTTP server against overload and slow or idle clients: the
 * server's own, but for the Retry-After of a shed call, which is not configured.
 */
export type LimitsConfig = Omit<ResolvedLimits, "shedRetryAfterMs">;

export interface Config {
  readonly host: string;
  readonly port: number;
  /** Undefined: cleartext (HTTP/1.1 and h2c). */
  readonly tls: TlsConfig | undefined;
  readonly maxRequestBytes: number;
  readonly shutdownGraceMs: number;
  readonly limits: LimitsConfig;
  readonly corsAllowedOrigins: readonly string[];
  readonly backend: "fake" | "aws";
  readonly fake: FakeBackendConfig;
  readonly aws: AwsConfig;
  readonly idempotency: IdempotencyConfig;
  readonly auth: AuthConfig;
  readonly authz: AuthzConfig;
  readonly audit: AuditConfig;
  readonly health: HealthConfig;
  readonly reflection: ReflectionConfig;
  readonly observability: ObservabilityConfig;
  /** What start-up must say about who can call (authentication off). */
  readonly listenWarning: string | undefined;
  readonly logLevel: LogLevel;
}

export const GATEWAY_ENV_HELP: readonly EnvHelp[] = [
  {
    name: "HOST",
    accepted: "an IP address or host name",
    default: "127.0.0.1",
    description: "Interface to listen on.",
  },
  {
    name: "PORT",
    accepted: "0..65535",
    default: "8080",
    description: "Port for Connect, gRPC and gRPC-Web (HTTP/1.1 and h2c).",
  },
  {
    name: "TLS_CERT_FILE",
    accepted: "path of a PEM certificate (chain)",
    default: "none (cleartext)",
    description: "Serve HTTPS (HTTP/2 by ALPN, HTTP/1.1 fallback); needs TLS_KEY_FILE.",
  },
  {
    name: "TLS_KEY_FILE",
    accepted: "path of a PEM private key",
    default: "none",
    description: "The key of TLS_CERT_FILE.",
  },
  {
    name: "MAX_REQUEST_BYTES",
    accepted: "1024..67108864",
    default: "1048576",
    description: "Largest request message; larger ones are refused with RESOURCE_EXHAUSTED.",
  },
  {
    name: "SHUTDOWN_GRACE_MS",
    accepted: "0..600000",
    default: "10000",
    description:
      "On SIGTERM/SIGINT: how long in-flight calls may finish before they are cut (the exit code is then 1).",
  },
  {
    name: "MAX_IN_FLIGHT_CALLS",
    accepted: "1..100000",
    default: "512",
    description:
      "Calls served at once; past it a call is refused at once with RESOURCE_EXHAUSTED and RetryInfo, before it touches the idempotency store.",
  },
  {
    name: "MAX_CONNECTIONS",
    accepted: "1..1000000",
    default: "1024",
    description: "Open client connections; further ones are closed as they arrive.",
  },
  {
    name: "HTTP2_MAX_CONCURRENT_STREAMS",
    accepted: "1..10000",
    default: "100",
    description: "Streams (calls) one HTTP/2 connection may have open at once, as advertised in SETTINGS.",
  },
  {
    name: "MAX_HEADER_BYTES",
    accepted: "1024..1048576",
    default: "16384",
    description: "Largest request header block (HTTP/1.1 431, HTTP/2 refused stream).",
  },
  {
    name: "HEADERS_TIMEOUT_MS",
    accepted: "100..600000",
    default: "10000",
    description: "A client must send its request headers (and finish the TLS handshake) within this.",
  },
  {
    name: "REQUEST_TIMEOUT_MS",
    accepted: "100..3600000",
    default: "30000",
    description: "A request body must have arrived whole within this; slower ones are cut.",
  },
  {
    name: "HTTP1_KEEPALIVE_TIMEOUT_MS",
    accepted: "1..600000",
    default: "5000",
    description: "An idle HTTP/1.1 keep-alive connection is closed after this.",
  },
  {
    name: "HTTP2_IDLE_TIMEOUT_MS",
    accepted: "1000..3600000",
    default: "120000",
    description: "An HTTP/2 connection without any open stream is closed (GOAWAY) after this.",
  },
  {
    name: "CORS_ALLOWED_ORIGINS",
    accepted: "comma-separated origins (https://console.example.com) or *",
    default: "none (CORS off)",
    description: "Browser origins allowed to call the gateway (gRPC-Web, Connect); preflights are answered.",
  },
  {
    name: "BACKEND",
    accepted: "fake | aws",
    default: "fake",
    description: "The in-memory fake of AWS, or real AWS through the SDK.",
  },
  {
    name: "LOG_LEVEL",
    accepted: LOG_LEVELS.join(" | "),
    default: "info",
    description: "JSON log lines on stderr at this level and above.",
  },
  {
    name: "FAKE_SEED",
    accepted: "path of a seed JSON file",
    default: "built-in demo seed",
    description: "Initial state of the fake backend (docs/fake-seed.md).",
  },
  {
    name: "FAKE_LATENCY_MS",
    accepted: "0..60000",
    default: "0",
    description: "Fake backend: latency added to every call.",
  },
  {
    name: "FAKE_ERROR_RATE",
    accepted: "0..1",
    default: "0",
    description: "Fake backend: share of calls that fail with FAKE_ERROR_CODE.",
  },
  {
    name: "FAKE_ERROR_CODE",
    accepted: "an AWS error name, e.g. ThrottlingException",
    default: "the service's throttling error",
    description: "Fake backend: the error injected at FAKE_ERROR_RATE.",
  },
  {
    name: "FAKE_LOST_ANSWER_RATE",
    accepted: "0..1",
    default: "0",
    description:
      "Fake backend: share of mutations that take effect but lose their answer (the caller sees an unknown outcome, which the gateway reconciles).",
  },
];

export const ENV_HELP: readonly EnvHelp[] = [
  ...GATEWAY_ENV_HELP,
  ...AUTH_ENV_HELP,
  ...AUTHZ_ENV_HELP,
  ...AUDIT_ENV_HELP,
  ...HEALTH_ENV_HELP,
  ...REFLECTION_ENV_HELP,
  ...OBSERVABILITY_ENV_HELP,
  ...IDEMPOTENCY_ENV_HELP,
  ...AWS_ENV_HELP,
];

export function loadConfig(env: Env): Config {
  const host = readString(env, "HOST") ?? "127.0.0.1";
  const tls = readTls(env);
  const auth = parseAuthConfig(env, { tls });
  const listenWarning = assertListenAllowed({
    host,
    authMode: auth.authentication.mode,
    allowUnauthenticated: auth.allowUnauthenticated,
    tls: tls !== undefined,
  });
  return {
    host,
    port: readInteger(env, "PORT", 0, 65535, 8080),
    tls,
    auth,
    authz: parseAuthzConfig(env),
    audit: parseAuditConfig(env),
    health: parseHealthConfig(env),
    reflection: parseReflectionConfig(env),
    observability: parseObservabilityConfig(env),
    listenWarning,
    maxRequestBytes: readInteger(env, "MAX_REQUEST_BYTES", 1024, 64 * 1024 * 1024, 1024 * 1024),
    shutdownGraceMs: readInteger(env, "SHUTDOWN_GRACE_MS", 0, 600_000, 10_000),
    limits: {
      maxInFlightCalls: readInteger(env, "MAX_IN_FLIGHT_CALLS", 1, 100_000, 512),
      maxConnections: readInteger(env, "MAX_CONNECTIONS", 1, 1_000_000, 1024),
      http2MaxConcurrentStreams: readInteger(env, "HTTP2_MAX_CONCURRENT_STREAMS", 1, 10_000, 100),
      maxHeaderBytes: readInteger(env, "MAX_HEADER_BYTES", 1024, 1024 * 1024, 16 * 1024),
      headersTimeoutMs: readInteger(env, "HEADERS_TIMEOUT_MS", 100, 600_000, 10_000),
      requestTimeoutMs: readInteger(env, "REQUEST_TIMEOUT_MS", 100, 3_600_000, 30_000),
      http1KeepAliveTimeoutMs: readInteger(env, "HTTP1_KEEPALIVE_TIMEOUT_MS", 1, 600_000, 5_000),
      http2IdleTimeoutMs: readInteger(env, "HTTP2_IDLE_TIMEOUT_MS", 1_000, 3_600_000, 120_000),
    },
    corsAllowedOrigins: readOrigins(env, "CORS_ALLOWED_ORIGINS"),
    backend: readEnum(env, "BACKEND", ["fake", "aws"], "fake"),
    fake: {
      seedPath: readString(env, "FAKE_SEED"),
      latencyMs: readInteger(env, "FAKE_LATENCY_MS", 0, 60_000, 0),
      errorRate: readNumber(env, "FAKE_ERROR_RATE", 0, 1, 0),
      errorCode: readFakeErrorCode(env, "FAKE_ERROR_CODE"),
      lostAnswerRate: readNumber(env, "FAKE_LOST_ANSWER_RATE", 0, 1, 0),
    },
    aws: parseAwsConfig(env),
    idempotency: parseIdempotencyConfig(env),
    logLevel: readEnum(env, "LOG_LEVEL", LOG_LEVELS, "info"),
  };
}

function readTls(env: Env): TlsConfig | undefined {
  const certFile = readString(env, "TLS_CERT_FILE");
  const keyFile = readString(env, "TLS_KEY_FILE");
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined)
    throw new ConfigError("TLS_CERT_FILE", "a PEM file path, set together with TLS_KEY_FILE", "");
  if (keyFile === undefined)
    throw new ConfigError("TLS_KEY_FILE", "a PEM file path, set together with TLS_CERT_FILE", "");
  return { certFile, keyFile };
}

function readFakeErrorCode(env: Env, name: string): string | undefined {
  const value = readString(env, name);
  if (value === undefined || servicesOfAwsError(value).length > 0) return value;
  throw new ConfigError(
    name,
    `an AWS error name the fake knows (Lambda: ${awsErrorCodes("lambda").join(", ")}; RAM: ${awsErrorCodes("ram").join(", ")})`,
    value,
  );
}

function readOrigins(env: Env, name: string): string[] {
  const value = readString(env, name);
  if (value === undefined) return [];
  const origins = value.split(",").map((origin) => origin.trim());
  for (const origin of origins) {
    if (origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(
        name,
        "comma-separated origins like https://console.example.com (scheme://host[:port]), or *",
        value,
      );
    }
  }
  return origins;
}

/** The `--help` text: every variable, what it accepts and its default. */
export function helpText(): string {
  const rows = ENV_HELP.map(
    (h) => `  ${h.name.padEnd(28)} ${h.description}\n  ${"".padEnd(28)} accepts: ${h.accepted}; default: ${h.default}`,
  );
  return [
    "permission-gateway: Connect/gRPC/gRPC-Web gateway for AWS Lambda and RAM permission APIs.",
    "",
    "Usage: npm start [-- --help]",
    "",
    "Configuration (environment variables):",
    ...rows,
    "",
  ].join("\n");
}

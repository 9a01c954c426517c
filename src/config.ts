// Environment -> typed Config. Pure: main.ts passes process.env in. Every
// variable is one schema line (config-values.ts) in the config.ts of the
// section that uses it; a bad value stops start-up with a ConfigError in the
// line's own words, the same --help and docs/configuration.md print.
import { ACCOUNTS_SETTINGS, parseAccountsConfig, type AccountsConfig } from "./accounts/config.js";
import { AWS_SETTINGS, parseAwsConfig, type AwsConfig } from "./backend/aws/config.js";
import {
  ConfigError,
  INVALID,
  SECTIONS,
  boolean,
  checkApplicability,
  decimal,
  helpOf,
  integer,
  invalid,
  list,
  misspellingWarnings,
  oneOf,
  read,
  sectionedHelp,
  setting,
  text,
  type Env,
  type EnvHelp,
  type Setting,
} from "./config-values.js";
import { awsErrorCodes, servicesOfAwsError } from "./aws/error-catalogue.js";
import { IDEMPOTENCY_SETTINGS, parseIdempotencyConfig, type IdempotencyConfig } from "./idempotency/config.js";
import { AUTH_SETTINGS, parseAuthConfig, type AuthConfig } from "./auth/config.js";
import { assertListenAllowed } from "./auth/listen-policy.js";
import { AUTHZ_SETTINGS, parseAuthzConfig, type AuthzConfig } from "./authz/config.js";
import { AUDIT_SETTINGS, parseAuditConfig, type AuditConfig } from "./audit/config.js";
import { HEALTH_SETTINGS, parseHealthConfig, type HealthConfig } from "./health/config.js";
import { OBSERVABILITY_SETTINGS, parseObservabilityConfig, type ObservabilityConfig } from "./observability/config.js";
import { REFLECTION_SETTINGS, parseReflectionConfig, type ReflectionConfig } from "./reflection/config.js";
import { LOG_LEVELS, type LogLevel } from "./logger.js";
import type { ResolvedLimits } from "./server.js";
import { SERVER_LIMIT_SETTINGS, SERVER_SETTINGS } from "./server-config.js";

export interface FakeBackendConfig {
  /** Path of a seed JSON file; undefined means the built-in demo seed. */
  readonly seedPath: string | undefined;
  readonly latencyMs: number;
  readonly errorRate: number;
  readonly errorCode: string | undefined;
  readonly lostAnswerRate: number;
  readonly serverErrorAfterEffectRate: number;
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
  /** LAMBDA_REVISION_FENCING: Lambda mutations carry the RevisionId read just before (backend/fencing.ts). */
  readonly lambdaRevisionFencing: boolean;
  readonly fake: FakeBackendConfig;
  readonly aws: AwsConfig;
  readonly accounts: AccountsConfig;
  readonly idempotency: IdempotencyConfig;
  readonly auth: AuthConfig;
  readonly authz: AuthzConfig;
  readonly audit: AuditConfig;
  readonly health: HealthConfig;
  readonly reflection: ReflectionConfig;
  readonly observability: ObservabilityConfig;
  /** What start-up must say about who can call (authentication off). */
  readonly listenWarning: string | undefined;
  /** Variables set but ignored (not applying, or unknown but like a known one): one start-up warning each. */
  readonly warnings: readonly string[];
  readonly logLevel: LogLevel;
}

const server = SECTIONS.server;

function isOrigin(origin: string): boolean {
  return origin === "*" || /^https?:\/\/[^/\s]+$/.test(origin);
}

export const GATEWAY_SETTINGS = {
  host: setting({
    name: "HOST",
    section: server,
    ...text("an IP address or host name"),
    default: "127.0.0.1",
    help: "Interface to listen on.",
  }),
  port: setting({
    name: "PORT",
    section: server,
    ...integer(0, 65535),
    default: 8080,
    help: "Port for Connect, gRPC and gRPC-Web (HTTP/1.1 and h2c).",
  }),
  tlsCertFile: setting({
    name: "TLS_CERT_FILE",
    section: server,
    ...text("a PEM file path, set together with TLS_KEY_FILE", "path"),
    defaultText: "none (cleartext)",
    help: "The certificate (chain) to serve HTTPS with (HTTP/2 by ALPN, HTTP/1.1 fallback); needs TLS_KEY_FILE.",
  }),
  tlsKeyFile: setting({
    name: "TLS_KEY_FILE",
    section: server,
    ...text("a PEM file path, set together with TLS_CERT_FILE", "path"),
    defaultText: "none",
    help: "The private key of TLS_CERT_FILE.",
  }),
  corsAllowedOrigins: setting({
    name: "CORS_ALLOWED_ORIGINS",
    section: server,
    ...list("comma-separated origins like https://console.example.com (scheme://host[:port]), or *", (origin) =>
      isOrigin(origin) ? origin : INVALID,
    ),
    default: [],
    defaultText: "none (CORS off)",
    help: "Browser origins allowed to call the gateway (gRPC-Web, Connect); preflights are answered.",
  }),
  shutdownGraceMs: SERVER_SETTINGS.shutdownGraceMs,
  logLevel: setting({
    name: "LOG_LEVEL",
    section: server,
    ...oneOf(LOG_LEVELS),
    default: "info",
    help: "JSON log lines on stderr at this level and above.",
  }),
  backend: setting({
    name: "BACKEND",
    section: SECTIONS.aws,
    ...oneOf(["fake", "aws"] as const),
    default: "fake",
    help: "The in-memory fake of AWS, or real AWS through the SDK.",
  }),
  lambdaRevisionFencing: setting({
    name: "LAMBDA_REVISION_FENCING",
    section: SECTIONS.aws,
    ...boolean,
    default: false,
    help: "Strict fencing: read the policy's RevisionId (GetPolicy) before each Lambda mutation that carries none and send it, so a late write fails at AWS instead of undoing a newer change; costs one GetPolicy per such mutation (docs/idempotency.md, Reliability).",
  }),
};

const fake = SECTIONS.fake;
const onlyFake = [{ variable: "BACKEND", in: ["fake"] }];

export const FAKE_BACKEND_SETTINGS = {
  seedPath: setting({
    name: "FAKE_SEED",
    section: fake,
    ...text("path of a seed JSON file", "path"),
    defaultText: "built-in demo seed",
    help: "Initial state of the fake backend (docs/fake-seed.md).",
    appliesWhen: onlyFake,
  }),
  latencyMs: setting({
    name: "FAKE_LATENCY_MS",
    section: fake,
    ...integer(0, 60_000),
    default: 0,
    help: "Fake backend: latency added to every call.",
    appliesWhen: onlyFake,
  }),
  errorRate: setting({
    name: "FAKE_ERROR_RATE",
    section: fake,
    ...decimal(0, 1),
    default: 0,
    help: "Fake backend: share of calls that fail with FAKE_ERROR_CODE.",
    appliesWhen: onlyFake,
  }),
  errorCode: setting({
    name: "FAKE_ERROR_CODE",
    section: fake,
    ...text(
      `an AWS error name the fake knows (Lambda: ${awsErrorCodes("lambda").join(", ")}; RAM: ${awsErrorCodes("ram").join(", ")})`,
      "string",
      (value) => servicesOfAwsError(value).length > 0,
    ),
    defaultText: "the service's throttling error",
    help: "Fake backend: the error injected at FAKE_ERROR_RATE.",
    appliesWhen: onlyFake,
  }),
  lostAnswerRate: setting({
    name: "FAKE_LOST_ANSWER_RATE",
    section: fake,
    ...decimal(0, 1),
    default: 0,
    help: "Fake backend: share of mutations that take effect but lose their answer (the caller sees an unknown outcome, which the gateway reconciles).",
    appliesWhen: onlyFake,
  }),
  serverErrorAfterEffectRate: setting({
    name: "FAKE_SERVER_ERROR_AFTER_EFFECT_RATE",
    section: fake,
    ...decimal(0, 1),
    default: 0,
    help: "Fake backend: share of mutations that take effect and then answer a 500 (ServiceException, ServerInternalException), which the gateway reconciles for Lambda.",
    appliesWhen: onlyFake,
  }),
};

/** Every line of the gateway's schema, in the order of --help and docs/configuration.md. */
export const SETTINGS: readonly Setting[] = [
  GATEWAY_SETTINGS.host,
  GATEWAY_SETTINGS.port,
  GATEWAY_SETTINGS.tlsCertFile,
  GATEWAY_SETTINGS.tlsKeyFile,
  GATEWAY_SETTINGS.corsAllowedOrigins,
  GATEWAY_SETTINGS.shutdownGraceMs,
  GATEWAY_SETTINGS.logLevel,
  ...Object.values(SERVER_LIMIT_SETTINGS),
  SERVER_SETTINGS.maxRequestBytes,
  ...Object.values(AUTH_SETTINGS),
  ...Object.values(AUTHZ_SETTINGS),
  ...Object.values(AUDIT_SETTINGS),
  ...Object.values(HEALTH_SETTINGS),
  ...Object.values(REFLECTION_SETTINGS),
  ...Object.values(OBSERVABILITY_SETTINGS),
  ...Object.values(IDEMPOTENCY_SETTINGS),
  GATEWAY_SETTINGS.backend,
  GATEWAY_SETTINGS.lambdaRevisionFencing,
  ...Object.values(AWS_SETTINGS),
  ...Object.values(ACCOUNTS_SETTINGS),
  ...Object.values(FAKE_BACKEND_SETTINGS),
];

export const ENV_HELP: readonly EnvHelp[] = helpOf(SETTINGS);

const KNOWN_NAMES = SETTINGS.map((line) => line.name);

/**
 * Families of variables other programs read, never our misspellings: npm's
 * own, and the AWS SDK's AWS_ENDPOINT_URL_<SERVICE> (AWS_ENDPOINT_URL_IAM is
 * one edit from AWS_ENDPOINT_URL_RAM).
 */
const FOREIGN_PREFIXES = ["npm_", "AWS_ENDPOINT_URL_"];

export function loadConfig(env: Env): Config {
  const warnings = checkApplicability(env, SETTINGS);
  const host = read(env, GATEWAY_SETTINGS.host);
  const tls = readTls(env);
  const auth = parseAuthConfig(env, { tls });
  const listenWarning = assertListenAllowed({
    host,
    authMode: auth.authentication.mode,
    allowUnauthenticated: auth.allowUnauthenticated,
    tls: tls !== undefined,
  });
  const port = read(env, GATEWAY_SETTINGS.port);
  const observability = parseObservabilityConfig(env);
  if (observability.metricsPort === port) {
    // Both would be bound on HOST; the second listen would fail as EADDRINUSE, which reads like another process.
    throw new ConfigError(
      "METRICS_PORT",
      `${OBSERVABILITY_SETTINGS.metricsPort.accepts} (PORT=${port} as well: both are served on HOST)`,
      String(port),
    );
  }
  const fakeSettings = FAKE_BACKEND_SETTINGS;
  return {
    host,
    port,
    tls,
    auth,
    authz: parseAuthzConfig(env),
    audit: parseAuditConfig(env),
    health: parseHealthConfig(env),
    reflection: parseReflectionConfig(env),
    observability,
    listenWarning,
    warnings: [...warnings, ...misspellingWarnings(env, KNOWN_NAMES, FOREIGN_PREFIXES)],
    maxRequestBytes: read(env, SERVER_SETTINGS.maxRequestBytes),
    shutdownGraceMs: read(env, SERVER_SETTINGS.shutdownGraceMs),
    limits: {
      maxInFlightCalls: read(env, SERVER_LIMIT_SETTINGS.maxInFlightCalls),
      maxConnections: read(env, SERVER_LIMIT_SETTINGS.maxConnections),
      http2MaxConcurrentStreams: read(env, SERVER_LIMIT_SETTINGS.http2MaxConcurrentStreams),
      maxHeaderBytes: read(env, SERVER_LIMIT_SETTINGS.maxHeaderBytes),
      headersTimeoutMs: read(env, SERVER_LIMIT_SETTINGS.headersTimeoutMs),
      requestTimeoutMs: read(env, SERVER_LIMIT_SETTINGS.requestTimeoutMs),
      http1KeepAliveTimeoutMs: read(env, SERVER_LIMIT_SETTINGS.http1KeepAliveTimeoutMs),
      http2IdleTimeoutMs: read(env, SERVER_LIMIT_SETTINGS.http2IdleTimeoutMs),
    },
    corsAllowedOrigins: read(env, GATEWAY_SETTINGS.corsAllowedOrigins),
    backend: read(env, GATEWAY_SETTINGS.backend),
    lambdaRevisionFencing: read(env, GATEWAY_SETTINGS.lambdaRevisionFencing),
    fake: {
      seedPath: read(env, fakeSettings.seedPath),
      latencyMs: read(env, fakeSettings.latencyMs),
      errorRate: read(env, fakeSettings.errorRate),
      errorCode: read(env, fakeSettings.errorCode),
      lostAnswerRate: read(env, fakeSettings.lostAnswerRate),
      serverErrorAfterEffectRate: read(env, fakeSettings.serverErrorAfterEffectRate),
    },
    aws: parseAwsConfig(env),
    accounts: parseAccountsConfig(env),
    idempotency: parseIdempotencyConfig(env),
    logLevel: read(env, GATEWAY_SETTINGS.logLevel),
  };
}

function readTls(env: Env): TlsConfig | undefined {
  const certFile = read(env, GATEWAY_SETTINGS.tlsCertFile);
  const keyFile = read(env, GATEWAY_SETTINGS.tlsKeyFile);
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined) throw invalid(GATEWAY_SETTINGS.tlsCertFile, "");
  if (keyFile === undefined) throw invalid(GATEWAY_SETTINGS.tlsKeyFile, "");
  return { certFile, keyFile };
}

/** The `--help` text: every variable by section, what it accepts and its default. */
export function helpText(): string {
  return [
    "permission-gateway: Connect/gRPC/gRPC-Web gateway for AWS Lambda and RAM permission APIs.",
    "",
    "Usage: npm start [-- --help]",
    "",
    "Configuration: environment variables, by section.",
    "",
    sectionedHelp(SETTINGS),
    "",
  ].join("\n");
}

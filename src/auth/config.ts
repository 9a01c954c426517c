// Authentication and per-caller rate-limit settings from the environment.
// Pure: main.ts passes its env in. A variable of another AUTH_MODE is an
// error, not ignored (the section is security-sensitive): API_KEYS_FILE set
// without AUTH_MODE=api-key most likely means someone believes keys are
// checked while nothing is.
import {
  ConfigError,
  INVALID,
  SECTIONS,
  boolean,
  checkApplicability,
  helpOf,
  integer,
  list,
  oneOf,
  read,
  readRequired,
  setting,
  text,
  type Env,
  type EnvHelp,
} from "../config-values.js";
import type { AuthMode } from "./identity.js";
import type { JwtRules } from "./jwt/jwt-authenticator.js";
import { MTLS_IDENTITY_SOURCES, type MtlsIdentitySource } from "./mtls/certificate-identity.js";

export type JwksLocation =
  | { readonly kind: "file"; readonly path: string }
  | {
      readonly kind: "url";
      readonly url: URL;
      /** An unknown kid refetches at most this often. */
      readonly cooldownMs: number;
      /** Refetched this often, so removed keys stop working. */
      readonly refreshIntervalMs: number;
    };

export interface JwtConfig extends JwtRules {
  readonly mode: "jwt";
  readonly jwks: JwksLocation;
}

export type AuthenticationConfig =
  | { readonly mode: "none" }
  | {
      readonly mode: "mtls";
      readonly clientCaFile: string;
      /** PEM CRLs of the client CAs: a revoked client certificate is refused. */
      readonly crlFile?: string | undefined;
      readonly identityFrom: readonly MtlsIdentitySource[];
    }
  | JwtConfig
  | { readonly mode: "api-key"; readonly keysFile: string };

export interface RateLimitConfig {
  /** Calls one caller may make per window. */
  readonly calls: number;
  readonly windowSeconds: number;
}

export interface AuthConfig {
  readonly authentication: AuthenticationConfig;
  /** AUTH_MODE=none on a non-loopback HOST only with this (see assertListenAllowed). */
  readonly allowUnauthenticated: boolean;
  /** How often credential files (certificates, CA, API keys, JWKS file) are checked for changes; 0: SIGHUP only. */
  readonly reloadIntervalMs: number;
  /** Undefined: no per-caller limit. */
  readonly rateLimit: RateLimitConfig | undefined;
}

/** The server's own certificate, from TLS_CERT_FILE/TLS_KEY_FILE (src/config.ts). */
export interface ServerTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Asymmetric JWS algorithms only: a JWKS holds public keys, and "none" is never one. */
export const JWT_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;

const AUTH_MODES: readonly AuthMode[] = ["none", "mtls", "jwt", "api-key"];

const section = SECTIONS.authentication;
const inMode = (mode: AuthMode) => [{ variable: "AUTH_MODE", in: [mode] }];
const withJwksUrl = [...inMode("jwt"), { variable: "JWT_JWKS_URL" }];

function isHttpsUrl(value: string): boolean {
  try {
    // Keys fetched in the clear could be swapped by anyone on the path.
    return new URL(value).protocol === "https:";
  } catch {
    return false;
  }
}

function member<T extends string>(values: readonly T[]): (value: string) => T | typeof INVALID {
  return (value) => ((values as readonly string[]).includes(value) ? (value as T) : INVALID);
}

export const AUTH_SETTINGS = {
  mode: setting({
    name: "AUTH_MODE",
    section,
    ...oneOf(AUTH_MODES),
    default: "none",
    help: "How callers are authenticated: not at all, mutual TLS, JWT bearer tokens or API keys.",
  }),
  allowUnauthenticated: setting({
    name: "ALLOW_UNAUTHENTICATED",
    section,
    ...boolean,
    default: false,
    help: "With AUTH_MODE=none, allow a HOST other than loopback (anyone who reaches the port can change permissions).",
    appliesWhen: inMode("none"),
  }),
  reloadIntervalMs: setting({
    name: "AUTH_RELOAD_INTERVAL_MS",
    section,
    ...integer(0, 3_600_000),
    default: 5_000,
    help: "How often certificates, the client CA, API_KEYS_FILE, JWT_JWKS_FILE and the AUTHZ_POLICIES files are checked for changes; 0: only on SIGHUP.",
  }),
  clientCaFile: setting({
    name: "TLS_CLIENT_CA_FILE",
    section,
    ...text("path of the PEM bundle of the CAs that issue client certificates", "path"),
    help: "mtls: client certificates must chain to one of these CAs. Needs TLS_CERT_FILE and TLS_KEY_FILE.",
    appliesWhen: inMode("mtls"),
  }),
  crlFile: setting({
    name: "MTLS_CRL_FILE",
    section,
    ...text("path of a PEM file of CRLs", "path"),
    help: "mtls: certificate revocation lists of the client CAs; a revoked client certificate is UNAUTHENTICATED. Reloaded like TLS_CLIENT_CA_FILE.",
    appliesWhen: inMode("mtls"),
  }),
  identityFrom: setting({
    name: "MTLS_IDENTITY_FROM",
    section,
    kind: "list",
    accepts: "a comma-separated order of spiffe, dns, cn (each at most once)",
    parse: (value) => {
      const sources = list("", member(MTLS_IDENTITY_SOURCES)).parse(value);
      return sources !== INVALID && new Set(sources).size === sources.length ? sources : INVALID;
    },
    show: (value) => value.join(","),
    default: [...MTLS_IDENTITY_SOURCES],
    help: "mtls: which certificate field names the caller, first present wins (SPIFFE URI SAN, DNS SAN, subject CN).",
    appliesWhen: inMode("mtls"),
  }),
  jwksFile: setting({
    name: "JWT_JWKS_FILE",
    section,
    ...text("path of a JWKS JSON file", "path"),
    help: "jwt: the public keys tokens are verified with. Set this or JWT_JWKS_URL.",
    appliesWhen: inMode("jwt"),
  }),
  jwksUrl: setting({
    name: "JWT_JWKS_URL",
    section,
    kind: "url",
    accepts: "an https:// URL",
    parse: (value) => (isHttpsUrl(value) ? new URL(value) : INVALID),
    help: "jwt: where to fetch the JWKS; refetched on an unknown kid (after the cooldown) and every JWT_JWKS_REFRESH_SECONDS.",
    appliesWhen: inMode("jwt"),
  }),
  issuer: setting({
    name: "JWT_ISSUER",
    section,
    ...text("the issuer (iss) tokens must carry"),
    defaultText: "(required with jwt)",
    help: "jwt: the issuer tokens must name.",
    appliesWhen: inMode("jwt"),
  }),
  audience: setting({
    name: "JWT_AUDIENCE",
    section,
    ...list("comma-separated audiences, one of which the token's aud must name"),
    defaultText: "(required with jwt)",
    help: "jwt: the token's aud must contain one of these.",
    appliesWhen: inMode("jwt"),
  }),
  algorithms: setting({
    name: "JWT_ALGORITHMS",
    section,
    ...list(`comma-separated algorithms of ${JWT_ALGORITHMS.join(", ")} (never none)`, member(JWT_ALGORITHMS)),
    default: ["RS256", "ES256"],
    help: "jwt: the signing algorithms accepted (never none).",
    appliesWhen: inMode("jwt"),
  }),
  clockSkewSeconds: setting({
    name: "JWT_CLOCK_SKEW_SECONDS",
    section,
    ...integer(0, 300),
    default: 30,
    help: "jwt: tolerance when checking exp and nbf.",
    appliesWhen: inMode("jwt"),
  }),
  identityClaim: setting({
    name: "JWT_IDENTITY_CLAIM",
    section,
    ...text("a claim name"),
    default: "sub",
    help: "jwt: the claim that names the caller (a non-empty string).",
    appliesWhen: inMode("jwt"),
  }),
  groupsClaim: setting({
    name: "JWT_GROUPS_CLAIM",
    section,
    ...text("a claim name"),
    default: "groups",
    help: "jwt: the claim with the caller's groups (an array of strings or a space-separated string).",
    appliesWhen: inMode("jwt"),
  }),
  jwksCooldownSeconds: setting({
    name: "JWT_JWKS_COOLDOWN_SECONDS",
    section,
    ...integer(0, 3_600),
    default: 30,
    help: "jwt with JWT_JWKS_URL: a token with an unknown kid refetches the JWKS at most this often.",
    appliesWhen: withJwksUrl,
  }),
  jwksRefreshSeconds: setting({
    name: "JWT_JWKS_REFRESH_SECONDS",
    section,
    ...integer(10, 86_400),
    default: 600,
    help: "jwt with JWT_JWKS_URL: the JWKS is refetched this often (a removed key stops working within it); a failed fetch keeps the last keys.",
    appliesWhen: withJwksUrl,
  }),
  apiKeysFile: setting({
    name: "API_KEYS_FILE",
    section,
    ...text("path of an API key file", "path"),
    help: 'api-key: lines of "<sha256 hex of the key> <caller id> [groups]" (see docs/security.md, API keys).',
    appliesWhen: inMode("api-key"),
  }),
  rateLimitCalls: setting({
    name: "RATE_LIMIT_CALLS",
    section,
    ...integer(0, 1_000_000, " (0: off)"),
    default: 0,
    help: "Calls each caller may make per RATE_LIMIT_WINDOW_SECONDS; more get RESOURCE_EXHAUSTED. Shared through Redis with IDEMPOTENCY_STORE=redis.",
  }),
  rateLimitWindowSeconds: setting({
    name: "RATE_LIMIT_WINDOW_SECONDS",
    section,
    ...integer(1, 86_400),
    default: 1,
    help: "The window of RATE_LIMIT_CALLS.",
  }),
};

export const AUTH_ENV_HELP: readonly EnvHelp[] = helpOf(Object.values(AUTH_SETTINGS));

export function parseAuthConfig(env: Env, server: { readonly tls: ServerTlsFiles | undefined }): AuthConfig {
  checkApplicability(env, Object.values(AUTH_SETTINGS));
  const mode = read(env, AUTH_SETTINGS.mode);
  return {
    authentication: parseAuthentication(env, mode, server.tls),
    allowUnauthenticated: read(env, AUTH_SETTINGS.allowUnauthenticated),
    reloadIntervalMs: read(env, AUTH_SETTINGS.reloadIntervalMs),
    rateLimit: parseRateLimit(env),
  };
}

function parseAuthentication(env: Env, mode: AuthMode, tls: ServerTlsFiles | undefined): AuthenticationConfig {
  switch (mode) {
    case "none":
      return { mode };
    case "mtls": {
      if (tls === undefined)
        throw new ConfigError(
          "AUTH_MODE",
          "mtls together with TLS_CERT_FILE and TLS_KEY_FILE (mutual TLS needs TLS)",
          mode,
        );
      return {
        mode,
        clientCaFile: readRequired(env, AUTH_SETTINGS.clientCaFile, "required with AUTH_MODE=mtls"),
        identityFrom: read(env, AUTH_SETTINGS.identityFrom),
        ...optionalCrlFile(read(env, AUTH_SETTINGS.crlFile)),
      };
    }
    case "jwt":
      return parseJwt(env);
    case "api-key":
      return { mode, keysFile: readRequired(env, AUTH_SETTINGS.apiKeysFile, "required with AUTH_MODE=api-key") };
  }
}

function parseJwt(env: Env): JwtConfig {
  const requiredWithJwt = "required with AUTH_MODE=jwt";
  return {
    mode: "jwt",
    jwks: readJwksLocation(env),
    issuer: readRequired(env, AUTH_SETTINGS.issuer, requiredWithJwt),
    audience: readRequired(env, AUTH_SETTINGS.audience, requiredWithJwt),
    algorithms: read(env, AUTH_SETTINGS.algorithms),
    clockSkewSeconds: read(env, AUTH_SETTINGS.clockSkewSeconds),
    identityClaim: read(env, AUTH_SETTINGS.identityClaim),
    groupsClaim: read(env, AUTH_SETTINGS.groupsClaim),
  };
}

function readJwksLocation(env: Env): JwksLocation {
  const path = read(env, AUTH_SETTINGS.jwksFile);
  const url = read(env, AUTH_SETTINGS.jwksUrl);
  if (path !== undefined && url !== undefined) {
    throw new ConfigError(
      "JWT_JWKS_FILE+JWT_JWKS_URL",
      "exactly one of JWT_JWKS_FILE or JWT_JWKS_URL",
      `${path} ${url.href}`,
    );
  }
  if (path !== undefined) return { kind: "file", path };
  if (url === undefined)
    throw new ConfigError(
      "JWT_JWKS_FILE",
      "a JWKS file path, or JWT_JWKS_URL (one is required with AUTH_MODE=jwt)",
      "",
    );
  return {
    kind: "url",
    url,
    cooldownMs: read(env, AUTH_SETTINGS.jwksCooldownSeconds) * 1000,
    refreshIntervalMs: read(env, AUTH_SETTINGS.jwksRefreshSeconds) * 1000,
  };
}

function parseRateLimit(env: Env): RateLimitConfig | undefined {
  const calls = read(env, AUTH_SETTINGS.rateLimitCalls);
  const windowSeconds = read(env, AUTH_SETTINGS.rateLimitWindowSeconds);
  return calls === 0 ? undefined : { calls, windowSeconds };
}

function optionalCrlFile(crlFile: string | undefined): { crlFile?: string } {
  return crlFile === undefined ? {} : { crlFile };
}

// Authentication and per-caller rate-limit settings from the environment.
// Pure: main.ts passes its env in. A variable of another AUTH_MODE is an
// error, not ignored: API_KEYS_FILE set without AUTH_MODE=api-key most
// likely means someone believes keys are checked while nothing is.
import type { EnvHelp } from "../config-values.js";
import { ConfigError, readBoolean, readEnum, readInteger, readString, type Env } from "../config-values.js";
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

/** The variables that mean something only in one mode. */
const MODE_VARIABLES: Readonly<Record<Exclude<AuthMode, "none">, readonly string[]>> = {
  mtls: ["TLS_CLIENT_CA_FILE", "MTLS_IDENTITY_FROM", "MTLS_CRL_FILE"],
  jwt: [
    "JWT_JWKS_FILE",
    "JWT_JWKS_URL",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_ALGORITHMS",
    "JWT_CLOCK_SKEW_SECONDS",
    "JWT_IDENTITY_CLAIM",
    "JWT_GROUPS_CLAIM",
    "JWT_JWKS_COOLDOWN_SECONDS",
    "JWT_JWKS_REFRESH_SECONDS",
  ],
  "api-key": ["API_KEYS_FILE"],
};

export const AUTH_ENV_HELP: readonly EnvHelp[] = [
  {
    name: "AUTH_MODE",
    accepted: AUTH_MODES.join(" | "),
    default: "none",
    description: "How callers are authenticated: not at all, mutual TLS, JWT bearer tokens or API keys.",
  },
  {
    name: "ALLOW_UNAUTHENTICATED",
    accepted: "true | false",
    default: "false",
    description:
      "With AUTH_MODE=none, allow a HOST other than loopback (anyone who reaches the port can change permissions).",
  },
  {
    name: "AUTH_RELOAD_INTERVAL_MS",
    accepted: "0..3600000",
    default: "5000",
    description:
      "How often certificates, the client CA, API_KEYS_FILE, JWT_JWKS_FILE and the AUTHZ_POLICIES files are checked for changes; 0: only on SIGHUP.",
  },
  {
    name: "TLS_CLIENT_CA_FILE",
    accepted: "path of a PEM CA bundle",
    default: "(none)",
    description: "mtls: client certificates must chain to one of these CAs. Needs TLS_CERT_FILE and TLS_KEY_FILE.",
  },
  {
    name: "MTLS_CRL_FILE",
    accepted: "path of a PEM file of CRLs",
    default: "(none)",
    description:
      "mtls: certificate revocation lists of the client CAs; a revoked client certificate is UNAUTHENTICATED. Reloaded like TLS_CLIENT_CA_FILE.",
  },
  {
    name: "MTLS_IDENTITY_FROM",
    accepted: "comma-separated, in order: spiffe, dns, cn",
    default: "spiffe,dns,cn",
    description:
      "mtls: which certificate field names the caller, first present wins (SPIFFE URI SAN, DNS SAN, subject CN).",
  },
  {
    name: "JWT_JWKS_FILE",
    accepted: "path of a JWKS JSON file",
    default: "(none)",
    description: "jwt: the public keys tokens are verified with. Set this or JWT_JWKS_URL.",
  },
  {
    name: "JWT_JWKS_URL",
    accepted: "an https:// URL",
    default: "(none)",
    description:
      "jwt: where to fetch the JWKS; refetched on an unknown kid (after the cooldown) and every JWT_JWKS_REFRESH_SECONDS.",
  },
  {
    name: "JWT_ISSUER",
    accepted: "a string (the iss claim)",
    default: "(required with jwt)",
    description: "jwt: the issuer tokens must name.",
  },
  {
    name: "JWT_AUDIENCE",
    accepted: "comma-separated strings",
    default: "(required with jwt)",
    description: "jwt: the token's aud must contain one of these.",
  },
  {
    name: "JWT_ALGORITHMS",
    accepted: `comma-separated, of ${JWT_ALGORITHMS.join(", ")}`,
    default: "RS256,ES256",
    description: "jwt: the signing algorithms accepted (never none).",
  },
  {
    name: "JWT_CLOCK_SKEW_SECONDS",
    accepted: "0..300",
    default: "30",
    description: "jwt: tolerance when checking exp and nbf.",
  },
  {
    name: "JWT_IDENTITY_CLAIM",
    accepted: "a claim name",
    default: "sub",
    description: "jwt: the claim that names the caller (a non-empty string).",
  },
  {
    name: "JWT_GROUPS_CLAIM",
    accepted: "a claim name",
    default: "groups",
    description: "jwt: the claim with the caller's groups (an array of strings or a space-separated string).",
  },
  {
    name: "JWT_JWKS_COOLDOWN_SECONDS",
    accepted: "0..3600",
    default: "30",
    description: "jwt with JWT_JWKS_URL: a token with an unknown kid refetches the JWKS at most this often.",
  },
  {
    name: "JWT_JWKS_REFRESH_SECONDS",
    accepted: "10..86400",
    default: "600",
    description:
      "jwt with JWT_JWKS_URL: the JWKS is refetched this often (a removed key stops working within it); a failed fetch keeps the last keys.",
  },
  {
    name: "API_KEYS_FILE",
    accepted: "path of an API key file",
    default: "(none)",
    description: 'api-key: lines of "<sha256 hex of the key> <caller id> [groups]" (see README, Authentication).',
  },
  {
    name: "RATE_LIMIT_CALLS",
    accepted: "0..1000000",
    default: "0 (off)",
    description:
      "Calls each caller may make per RATE_LIMIT_WINDOW_SECONDS; more get RESOURCE_EXHAUSTED. Shared through Redis with IDEMPOTENCY_STORE=redis.",
  },
  {
    name: "RATE_LIMIT_WINDOW_SECONDS",
    accepted: "1..86400",
    default: "1",
    description: "The window of RATE_LIMIT_CALLS.",
  },
];

export function parseAuthConfig(env: Env, server: { readonly tls: ServerTlsFiles | undefined }): AuthConfig {
  const mode = readEnum(env, "AUTH_MODE", AUTH_MODES, "none");
  for (const [owner, variables] of Object.entries(MODE_VARIABLES)) {
    if (owner === mode) continue;
    for (const variable of variables) {
      const value = readString(env, variable);
      if (value !== undefined)
        throw new ConfigError(variable, `AUTH_MODE=${owner} (it means nothing with AUTH_MODE=${mode})`, value);
    }
  }
  const allowUnauthenticated = readBoolean(env, "ALLOW_UNAUTHENTICATED", false);
  if (allowUnauthenticated && mode !== "none") {
    throw new ConfigError(
      "ALLOW_UNAUTHENTICATED",
      `false or unset: it applies to AUTH_MODE=none only, and AUTH_MODE=${mode}`,
      "true",
    );
  }
  return {
    authentication: parseAuthentication(env, mode, server.tls),
    allowUnauthenticated,
    reloadIntervalMs: readInteger(env, "AUTH_RELOAD_INTERVAL_MS", 0, 3_600_000, 5_000),
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
        clientCaFile: required(
          env,
          "TLS_CLIENT_CA_FILE",
          "path of the PEM bundle of the CAs that issue client certificates",
        ),
        identityFrom: readIdentitySources(env),
        ...optionalCrlFile(env),
      };
    }
    case "jwt":
      return parseJwt(env);
    case "api-key":
      return {
        mode,
        keysFile: required(env, "API_KEYS_FILE", "path of the API key file (required with AUTH_MODE=api-key)"),
      };
  }
}

function parseJwt(env: Env): JwtConfig {
  return {
    mode: "jwt",
    jwks: readJwksLocation(env),
    issuer: required(env, "JWT_ISSUER", "the issuer (iss) tokens must carry (required with AUTH_MODE=jwt)"),
    audience: readAudience(env),
    algorithms: readAlgorithms(env),
    clockSkewSeconds: readInteger(env, "JWT_CLOCK_SKEW_SECONDS", 0, 300, 30),
    identityClaim: readString(env, "JWT_IDENTITY_CLAIM") ?? "sub",
    groupsClaim: readString(env, "JWT_GROUPS_CLAIM") ?? "groups",
  };
}

function readJwksLocation(env: Env): JwksLocation {
  const path = readString(env, "JWT_JWKS_FILE");
  const href = readString(env, "JWT_JWKS_URL");
  if (path !== undefined && href !== undefined) {
    throw new ConfigError(
      "JWT_JWKS_FILE+JWT_JWKS_URL",
      "exactly one of JWT_JWKS_FILE or JWT_JWKS_URL",
      `${path} ${href}`,
    );
  }
  if (path !== undefined) {
    for (const variable of ["JWT_JWKS_COOLDOWN_SECONDS", "JWT_JWKS_REFRESH_SECONDS"]) {
      const value = readString(env, variable);
      if (value !== undefined)
        throw new ConfigError(variable, "unset with JWT_JWKS_FILE (it applies to JWT_JWKS_URL)", value);
    }
    return { kind: "file", path };
  }
  if (href === undefined)
    throw new ConfigError(
      "JWT_JWKS_FILE",
      "a JWKS file path, or JWT_JWKS_URL (one is required with AUTH_MODE=jwt)",
      "",
    );
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    throw new ConfigError("JWT_JWKS_URL", "an https:// URL", href);
  }
  // Keys fetched in the clear could be swapped by anyone on the path.
  if (url.protocol !== "https:") throw new ConfigError("JWT_JWKS_URL", "an https:// URL", href);
  return {
    kind: "url",
    url,
    cooldownMs: readInteger(env, "JWT_JWKS_COOLDOWN_SECONDS", 0, 3_600, 30) * 1000,
    refreshIntervalMs: readInteger(env, "JWT_JWKS_REFRESH_SECONDS", 10, 86_400, 600) * 1000,
  };
}

function readAudience(env: Env): string[] {
  const accepted = "comma-separated audiences, one of which the token's aud must name (required with AUTH_MODE=jwt)";
  const audience = readList(env, "JWT_AUDIENCE", accepted);
  if (audience === undefined) throw new ConfigError("JWT_AUDIENCE", accepted, "");
  return audience;
}

function readAlgorithms(env: Env): string[] {
  const accepted = `comma-separated algorithms of ${JWT_ALGORITHMS.join(", ")} (never none)`;
  const algorithms = readList(env, "JWT_ALGORITHMS", accepted) ?? ["RS256", "ES256"];
  for (const algorithm of algorithms) {
    if (!(JWT_ALGORITHMS as readonly string[]).includes(algorithm))
      throw new ConfigError("JWT_ALGORITHMS", accepted, env["JWT_ALGORITHMS"] ?? "");
  }
  return algorithms;
}

function readIdentitySources(env: Env): MtlsIdentitySource[] {
  const accepted = "a comma-separated order of spiffe, dns, cn (each at most once)";
  const sources = readList(env, "MTLS_IDENTITY_FROM", accepted) ?? [...MTLS_IDENTITY_SOURCES];
  const known = sources.every((s) => (MTLS_IDENTITY_SOURCES as readonly string[]).includes(s));
  if (!known || new Set(sources).size !== sources.length)
    throw new ConfigError("MTLS_IDENTITY_FROM", accepted, env["MTLS_IDENTITY_FROM"] ?? "");
  return sources as MtlsIdentitySource[];
}

function parseRateLimit(env: Env): RateLimitConfig | undefined {
  const calls = readInteger(env, "RATE_LIMIT_CALLS", 0, 1_000_000, 0);
  const windowSeconds = readInteger(env, "RATE_LIMIT_WINDOW_SECONDS", 1, 86_400, 1);
  return calls === 0 ? undefined : { calls, windowSeconds };
}

/** A comma-separated list without empty items; undefined when unset. */
function readList(env: Env, name: string, accepted: string): string[] | undefined {
  const value = readString(env, name);
  if (value === undefined) return undefined;
  const items = value.split(",").map((item) => item.trim());
  if (items.some((item) => item === "")) throw new ConfigError(name, accepted, value);
  return items;
}

function required(env: Env, name: string, accepted: string): string {
  const value = readString(env, name);
  if (value === undefined) throw new ConfigError(name, accepted, "");
  return value;
}

function optionalCrlFile(env: Env): { crlFile?: string } {
  const crlFile = readString(env, "MTLS_CRL_FILE");
  return crlFile === undefined ? {} : { crlFile };
}

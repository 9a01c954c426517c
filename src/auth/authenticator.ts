// The Authenticator port: turns a call's credentials into a CallerIdentity,
// or refuses with a reason the caller can act on. One adapter per AUTH_MODE.
import type { CallerIdentity } from "./identity.js";
import type { PeerInfo } from "./peer.js";

export interface AuthenticationInput {
  readonly header: Headers;
  readonly peer: PeerInfo | undefined;
}

export interface Authenticator {
  /** Resolves to the caller, or rejects with AuthenticationError / AuthenticationUnavailableError. */
  authenticate(input: AuthenticationInput): Promise<CallerIdentity>;
  /** What is wrong with the credential files in force though they apply (lines left out), for readiness; else undefined. */
  credentialWarning?(): string | undefined;
  /** Re-reads credential files (API keys, JWKS) now: the SIGHUP path. Never rejects. */
  reload(): Promise<void>;
  /** Stops watching files and timers. */
  close(): Promise<void>;
}

/** ErrorInfo reasons of UNAUTHENTICATED answers: what was wrong, never the secret. */
export type AuthenticationFailureReason =
  | "CREDENTIALS_MISSING"
  | "CREDENTIALS_MALFORMED"
  | "TOKEN_MALFORMED"
  | "TOKEN_EXPIRED"
  | "TOKEN_NOT_YET_VALID"
  | "TOKEN_ISSUER_MISMATCH"
  | "TOKEN_AUDIENCE_MISMATCH"
  | "TOKEN_CLAIM_INVALID"
  | "TOKEN_ALGORITHM_NOT_ALLOWED"
  | "TOKEN_CRIT_UNSUPPORTED"
  | "TOKEN_KEY_UNKNOWN"
  | "TOKEN_SIGNATURE_INVALID"
  | "API_KEY_UNKNOWN"
  | "CLIENT_CERTIFICATE_MISSING"
  | "CLIENT_CERTIFICATE_UNTRUSTED"
  | "CLIENT_CERTIFICATE_IDENTITY_MISSING"
  | "CLIENT_CERTIFICATE_IDENTITY_INVALID";

/** The caller's credentials are missing or bad: UNAUTHENTICATED. */
export class AuthenticationError extends Error {
  override readonly name = "AuthenticationError" as const;
  constructor(
    readonly reason: AuthenticationFailureReason,
    message: string,
    /** Safe to send: names rules and claims, never credentials. */
    readonly metadata: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** The gateway could not check credentials (e.g. the JWKS URL is down): UNAVAILABLE, not the caller's fault. */
export class AuthenticationUnavailableError extends Error {
  override readonly name = "AuthenticationUnavailableError" as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

// Who is calling: what authentication established, handed to the rest of the
// chain (rate limit, authorization, audit, idempotency scope) as a Connect
// context value.
import { createContextKey } from "@connectrpc/connect";

export type AuthMode = "none" | "mtls" | "jwt" | "api-key";

export interface CallerIdentity {
  /** Scopes idempotency records and rate limits; the Cedar principal. */
  readonly id: string;
  readonly groups: readonly string[];
  readonly authMode: AuthMode;
}

/** Set by the authentication interceptor; undefined means it did not run. */
export const callerContextKey = createContextKey<CallerIdentity | undefined>(undefined, { description: "caller" });

/**
 * With AUTH_MODE=none only: the header a caller names itself in. It is not
 * authentication (anyone can send any value); it keeps callers' idempotency
 * tokens apart, as it did before authentication existed.
 */
export const CALLER_ID_HEADER = "x-caller-id";
export const ANONYMOUS_CALLER = "anonymous";

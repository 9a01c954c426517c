// AUTH_MODE=none: nobody is verified. The caller names itself in
// x-caller-id (default "anonymous"), which only keeps idempotency tokens and
// rate-limit buckets apart; assertListenAllowed keeps this mode on loopback.
import type { Authenticator } from "../authenticator.js";
import { ANONYMOUS_CALLER, CALLER_ID_HEADER, type CallerIdentity } from "../identity.js";

export function createNoAuthenticator(): Authenticator {
  const anonymous: CallerIdentity = { id: ANONYMOUS_CALLER, groups: [], authMode: "none" };
  return {
    authenticate({ header }) {
      const id = header.get(CALLER_ID_HEADER)?.trim();
      return Promise.resolve(id ? { id, groups: [], authMode: "none" } : anonymous);
    },
    reload: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

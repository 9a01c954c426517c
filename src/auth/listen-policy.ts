// Safe defaults: without authentication the gateway serves only this
// machine, unless the operator says in so many words that it may serve
// everyone (ALLOW_UNAUTHENTICATED=true). Either way start-up says so.
import { BlockList, isIPv4, isIPv6 } from "node:net";
import { ConfigError } from "../config-values.js";
import type { AuthMode } from "./identity.js";

export interface ListenPolicyInput {
  /** HOST, as configured. */
  readonly host: string;
  readonly authMode: AuthMode;
  readonly allowUnauthenticated: boolean;
  /** Whether the listener serves TLS (TLS_CERT_FILE and TLS_KEY_FILE). */
  readonly tls: boolean;
}

/**
 * Throws ConfigError when AUTH_MODE=none would listen beyond loopback
 * without ALLOW_UNAUTHENTICATED=true. Returns the warning to log at
 * start-up when authentication is off, or when bearer credentials (JWTs,
 * API keys) would cross a network in clear text; otherwise undefined.
 */
export function assertListenAllowed(input: ListenPolicyInput): string | undefined {
  if (input.authMode === "jwt" || input.authMode === "api-key") {
    // A load balancer that terminates TLS in front is fine, and common: a warning, not a refusal.
    return input.tls || isLoopbackHost(input.host)
      ? undefined
      : `AUTH_MODE=${input.authMode} takes bearer credentials, and HOST=${input.host} is not loopback and serves ` +
          "cleartext (no TLS_CERT_FILE/TLS_KEY_FILE): anyone on the path can read and replay them, " +
          "unless a load balancer in front terminates TLS";
  }
  if (input.authMode !== "none") return undefined;
  const onLoopback = isLoopbackHost(input.host);
  if (!onLoopback && !input.allowUnauthenticated) {
    throw new ConfigError(
      "HOST",
      "a loopback address (127.0.0.1, ::1 or localhost) while AUTH_MODE=none; set AUTH_MODE to mtls, jwt or api-key, " +
        "or ALLOW_UNAUTHENTICATED=true to serve unauthenticated callers on this address",
      input.host,
    );
  }
  return onLoopback
    ? "authentication is off (AUTH_MODE=none): only this machine can call; x-caller-id is trusted as sent"
    : `authentication is off (AUTH_MODE=none) and HOST=${input.host} is not loopback (ALLOW_UNAUTHENTICATED=true): ` +
        "anyone who can reach the port can change permissions";
}

// Built once: 127.0.0.0/8 and ::1; BlockList also matches their other
// spellings (0:0:0:0:0:0:0:1, ::ffff:127.0.0.1).
const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** Loopback addresses and localhost; a wildcard (0.0.0.0, ::) or any other name is not. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const name = bare.toLowerCase().replace(/\.$/, "");
  if (name === "localhost") return true;
  if (isIPv4(name)) return loopback.check(name, "ipv4");
  return isIPv6(name) && loopback.check(name, "ipv6");
}

// The authorizer a configuration asks for. Apart from config.ts, which only
// parses the environment: the Cedar adapter reads its defaults from the
// schema lines there, and importing it from config.ts made a cycle.
import type { Authorizer } from "./authorizer.js";
import type { AuthzConfig } from "./config.js";
import type { Logger } from "../logger.js";

/**
 * The authorizer of a config with AUTHZ_MODE=cedar. cedar-wasm (a 4 MB
 * WebAssembly module) is loaded only here, so a gateway without
 * authorization never pays for it. Throws AuthzPolicyError when a policy is
 * broken: start-up must stop.
 */
export async function createAuthorizer(
  config: Extract<AuthzConfig, { mode: "cedar" }>,
  deps: { readonly logger: Logger; readonly pollIntervalMs?: number },
): Promise<Authorizer> {
  const { createCedarAuthorizer } = await import("./cedar/cedar-authorizer.js");
  return createCedarAuthorizer({
    policies: config.policies,
    logger: deps.logger,
    decisionCacheEntries: config.decisionCacheEntries,
    pollIntervalMs: deps.pollIntervalMs,
  });
}

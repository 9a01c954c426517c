// Authorization settings from the environment. Pure: main.ts passes its env
// in; the policies themselves are read by createAuthorizer, at start-up.
import type { EnvHelp } from "../config-values.js";
import { ConfigError, readEnum, readInteger, readString, type Env } from "../config-values.js";
import type { Authorizer } from "./authorizer.js";
import type { Logger } from "../logger.js";

export type AuthzConfig =
  | {
      readonly mode: "off";
      /** Authorization variables that were set but mean nothing with AUTHZ_MODE=off. */
      readonly ignoredVariables: readonly string[];
      readonly defaultAccount?: string | undefined;
    }
  | {
      readonly mode: "cedar";
      readonly policies: string;
      readonly defaultAccount?: string | undefined;
      /** AUTHZ_DECISION_CACHE_ENTRIES; 0 turns the cache off. */
      readonly decisionCacheEntries: number;
    };

export const AUTHZ_ENV_HELP: readonly EnvHelp[] = [
  {
    name: "AUTHZ_MODE",
    accepted: "off | cedar",
    default: "cedar when AUTHZ_POLICIES is set, else off",
    description:
      "Authorization of every call by Cedar policies (default deny), or none (every caller may call everything).",
  },
  {
    name: "AUTHZ_POLICIES",
    accepted: "path of a .cedar file or of a directory of .cedar files",
    default: "(none)",
    description:
      "The Cedar policies, validated against authz/schema.cedarschema at start-up (a broken one stops it), reloaded when they change (checked every AUTH_RELOAD_INTERVAL_MS) and on SIGHUP.",
  },
  {
    name: "AUTHZ_DECISION_CACHE_ENTRIES",
    accepted: "0..100000 (0: off)",
    default: "10000",
    description:
      "Decisions remembered for requests seen before (same caller and groups, RPC, resource and grant fields), least recently used out first; emptied when policies are reloaded.",
  },
  {
    name: "AUTHZ_DEFAULT_ACCOUNT",
    accepted: "a 12-digit AWS account ID",
    default: "(none)",
    description:
      "The account of calls that name none (bare function names, CreateRamPermission, ListRamPermissions), for policies and audit events; unset, their resource has no account.",
  },
];

export function parseAuthzConfig(env: Env): AuthzConfig {
  const policies = readString(env, "AUTHZ_POLICIES");
  const mode = readEnum(env, "AUTHZ_MODE", ["off", "cedar"] as const, policies === undefined ? "off" : "cedar");
  const defaultAccount = readAccount(env, "AUTHZ_DEFAULT_ACCOUNT");
  if (mode === "off") {
    const ignoredVariables = ["AUTHZ_POLICIES", "AUTHZ_DECISION_CACHE_ENTRIES"].filter(
      (name) => readString(env, name) !== undefined,
    );
    return { mode, ignoredVariables, defaultAccount };
  }
  if (policies === undefined) {
    throw new ConfigError(
      "AUTHZ_POLICIES",
      "a .cedar file or a directory of .cedar files (required with AUTHZ_MODE=cedar)",
      "",
    );
  }
  const decisionCacheEntries = readInteger(env, "AUTHZ_DECISION_CACHE_ENTRIES", 0, 100_000, 10_000);
  return { mode, policies, defaultAccount, decisionCacheEntries };
}

function readAccount(env: Env, name: string): string | undefined {
  const value = readString(env, name);
  if (value === undefined || /^\d{12}$/.test(value)) return value;
  throw new ConfigError(name, "a 12-digit AWS account ID", value);
}

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

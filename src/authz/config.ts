// Authorization settings from the environment. Pure: main.ts passes its env
// in; the policies themselves are read by createAuthorizer (create-authorizer.ts),
// at start-up.
import {
  SECTIONS,
  checkApplicability,
  helpOf,
  integer,
  oneOf,
  read,
  readRequired,
  setting,
  text,
  type Env,
  type EnvHelp,
} from "../config-values.js";

export type AuthzConfig =
  | { readonly mode: "off"; readonly defaultAccount?: string | undefined }
  | {
      readonly mode: "cedar";
      readonly policies: string;
      readonly defaultAccount?: string | undefined;
      /** AUTHZ_DECISION_CACHE_ENTRIES; 0 turns the cache off. */
      readonly decisionCacheEntries: number;
    };

const section = SECTIONS.authorization;

export const AUTHZ_SETTINGS = {
  mode: setting({
    name: "AUTHZ_MODE",
    section,
    ...oneOf(["off", "cedar"] as const),
    defaultText: "cedar when AUTHZ_POLICIES is set, else off",
    help: "Authorization of every call by Cedar policies (default deny), or none (every caller may call everything).",
  }),
  policies: setting({
    name: "AUTHZ_POLICIES",
    section,
    ...text("path of a .cedar file or of a directory of .cedar files", "path"),
    help: "The Cedar policies, validated against authz/schema.cedarschema at start-up (a broken one stops it), reloaded when they change (checked every AUTH_RELOAD_INTERVAL_MS) and on SIGHUP.",
    appliesWhen: [{ variable: "AUTHZ_MODE", notIn: ["off"] }],
  }),
  decisionCacheEntries: setting({
    name: "AUTHZ_DECISION_CACHE_ENTRIES",
    section,
    ...integer(0, 100_000, " (0: off)"),
    default: 10_000,
    help: "Decisions remembered for requests seen before (same caller and groups, RPC, resource and grant fields), least recently used out first; emptied when policies are reloaded.",
    appliesWhen: [{ variable: "AUTHZ_MODE", notIn: ["off"] }, { variable: "AUTHZ_POLICIES" }],
  }),
  defaultAccount: setting({
    name: "AUTHZ_DEFAULT_ACCOUNT",
    section,
    ...text("a 12-digit AWS account ID", "string", (value) => /^\d{12}$/.test(value)),
    help: "The account of calls that name none (bare function names, CreateRamPermission, ListRamPermissions), for policies and audit events; unset, their resource has no account.",
  }),
};

export const AUTHZ_ENV_HELP: readonly EnvHelp[] = helpOf(Object.values(AUTHZ_SETTINGS));

export function parseAuthzConfig(env: Env): AuthzConfig {
  checkApplicability(env, Object.values(AUTHZ_SETTINGS));
  const policies = read(env, AUTHZ_SETTINGS.policies);
  const mode = read(env, AUTHZ_SETTINGS.mode) ?? (policies === undefined ? "off" : "cedar");
  const defaultAccount = read(env, AUTHZ_SETTINGS.defaultAccount);
  if (mode === "off") return { mode, defaultAccount };
  return {
    mode,
    policies: readRequired(env, AUTHZ_SETTINGS.policies, "required with AUTHZ_MODE=cedar"),
    defaultAccount,
    decisionCacheEntries: read(env, AUTHZ_SETTINGS.decisionCacheEntries),
  };
}

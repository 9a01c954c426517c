// Settings of the account registry and the role sessions. Pure: main.ts
// hands in its env. AWS_ENDPOINT_URL_STS is read by the AWS SDK itself and
// has a line only so --help and docs/configuration.md name it.
import { SECTIONS, boolean, integer, read, setting, text, type Env } from "../config-values.js";

export interface AccountsConfig {
  /** AWS_ACCOUNTS_FILE; undefined: one account, the base credentials', and no registry check. */
  readonly file: string | undefined;
  /** Lifetime asked of each AssumeRole session. */
  readonly sessionDurationSeconds: number;
  /** One session per (account, role, caller) with the caller as SourceIdentity; false: one per role. */
  readonly sessionPerCaller: boolean;
  /** The most role sessions kept; the least recently used is dropped first. */
  readonly sessionCacheEntries: number;
  /** The session name when sessions are not per caller, and the prefix of per-caller ones. */
  readonly sessionName: string;
}

const section = SECTIONS.aws;
const withRegistry = [{ variable: "AWS_ACCOUNTS_FILE" }];

export const ACCOUNTS_SETTINGS = {
  file: setting({
    name: "AWS_ACCOUNTS_FILE",
    section,
    ...text('path of a JSON file {"accounts":[{"id","alias?","roleArn","externalId?","regions?"}]}', "path"),
    defaultText: "unset (only the base credentials' account, no registry check)",
    help: "The accounts the gateway manages and the role it assumes in each (docs/accounts.md); an ARN of an unlisted account is FAILED_PRECONDITION ACCOUNT_NOT_MANAGED. Reloaded on SIGHUP and when it changes (checked every AUTH_RELOAD_INTERVAL_MS); a broken file keeps the previous one.",
  }),
  sessionDurationSeconds: setting({
    name: "AWS_ROLE_SESSION_DURATION_SECONDS",
    section,
    ...integer(900, 43_200),
    default: 3600,
    help: "DurationSeconds of each AssumeRole; sessions are renewed 5 minutes before they expire. AWS caps role chaining (base credentials that are themselves a role session) at 3600.",
    appliesWhen: withRegistry,
  }),
  sessionPerCaller: setting({
    name: "AWS_ROLE_SESSION_PER_CALLER",
    section,
    ...boolean,
    default: true,
    help: "One role session per (account, role, caller), with the caller as SourceIdentity in CloudTrail; false: one session per role, named AWS_ROLE_SESSION_NAME, with no SourceIdentity.",
    appliesWhen: withRegistry,
  }),
  sessionCacheEntries: setting({
    name: "AWS_ROLE_SESSION_CACHE_ENTRIES",
    section,
    ...integer(1, 100_000),
    default: 1000,
    help: "Role sessions (and their SDK clients) kept; the least recently used is dropped first and assumed again when needed.",
    appliesWhen: withRegistry,
  }),
  sessionName: setting({
    name: "AWS_ROLE_SESSION_NAME",
    section,
    ...text("2-64 characters of letters, digits and +=,.@-_", "string", (value) => /^[\w+=,.@-]{2,64}$/.test(value)),
    default: "permission-gateway",
    help: "RoleSessionName of sessions that are not per caller; per-caller sessions are named after their SourceIdentity.",
    appliesWhen: withRegistry,
  }),
  endpointSts: setting({
    name: "AWS_ENDPOINT_URL_STS",
    section,
    ...text("a URL", "url"),
    defaultText: "the Region's STS endpoint",
    help: "Read by the AWS SDK itself: sends STS calls (GetCallerIdentity, AssumeRole) there",
  }),
};

export function parseAccountsConfig(env: Env): AccountsConfig {
  return {
    file: read(env, ACCOUNTS_SETTINGS.file),
    sessionDurationSeconds: read(env, ACCOUNTS_SETTINGS.sessionDurationSeconds),
    sessionPerCaller: read(env, ACCOUNTS_SETTINGS.sessionPerCaller),
    sessionCacheEntries: read(env, ACCOUNTS_SETTINGS.sessionCacheEntries),
    sessionName: read(env, ACCOUNTS_SETTINGS.sessionName),
  };
}

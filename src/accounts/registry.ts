// The account registry (AWS_ACCOUNTS_FILE): which AWS accounts the gateway
// manages, the role it assumes in each, and the Regions each allows. Parsing
// is pure and names the broken field; reading and reloading the file is
// registry-source.ts's.
import { roleArnPattern } from "./role-arn.js";

/** One account the gateway may act in. */
export interface ManagedAccount {
  /** The 12-digit account ID. */
  readonly id: string;
  /** A name people know it by ("payments-prod"); policies and audit events see it. */
  readonly alias?: string | undefined;
  /** The role assumed for calls in this account; undefined only for the gateway's own account (base credentials). */
  readonly roleArn?: string | undefined;
  /** Sent with AssumeRole when the role's trust policy asks for one. */
  readonly externalId?: string | undefined;
  /** The Regions calls may go to; undefined: every Region. */
  readonly regions?: readonly string[] | undefined;
}

/** The registry as the gateway uses it: the listed accounts plus its own. */
export interface AccountRegistry {
  /** The account of the base credentials (STS GetCallerIdentity); managed with them unless listed with a role. */
  readonly ownAccount: string;
  readonly accounts: ReadonlyMap<string, ManagedAccount>;
}

/** A registry file that does not hold a valid registry; the message names the field and the rule. */
export class AccountRegistryError extends Error {
  override readonly name = "AccountRegistryError" as const;
}

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
// AssumeRole's ExternalId: 2-1224 characters of [\w+=,.@:/-].
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const ALIAS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const KNOWN_FIELDS = new Set(["id", "alias", "roleArn", "externalId", "regions"]);

/** The accounts of a registry file's text; throws AccountRegistryError naming the first broken field. */
export function parseAccountRegistry(text: string): ManagedAccount[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new AccountRegistryError(`not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isObject(document) || !Array.isArray(document["accounts"]))
    throw new AccountRegistryError('"accounts" must be an array of accounts: {"accounts":[{"id","roleArn",...}]}');
  const seen = new Set<string>();
  const aliases = new Set<string>();
  return document["accounts"].map((entry: unknown, index) => {
    const account = parseAccount(entry, `accounts[${index}]`);
    if (seen.has(account.id)) throw new AccountRegistryError(`accounts[${index}].id: ${account.id} is listed twice`);
    seen.add(account.id);
    if (account.alias !== undefined) {
      if (aliases.has(account.alias))
        throw new AccountRegistryError(`accounts[${index}].alias: "${account.alias}" is used twice`);
      aliases.add(account.alias);
    }
    return account;
  });
}

function parseAccount(entry: unknown, at: string): ManagedAccount {
  if (!isObject(entry)) throw new AccountRegistryError(`${at} must be an object`);
  for (const key of Object.keys(entry))
    if (!KNOWN_FIELDS.has(key))
      throw new AccountRegistryError(
        `${at}.${key} is not a field of an account (id, alias, roleArn, externalId, regions)`,
      );
  const id = entry["id"];
  if (typeof id !== "string" || !ACCOUNT_ID.test(id))
    throw new AccountRegistryError(`${at}.id must be a 12-digit AWS account ID as a string`);
  const alias = optionalString(entry, "alias", at, ALIAS, "1-63 letters, digits, '.', '_' or '-'");
  const roleArn = optionalString(
    entry,
    "roleArn",
    at,
    roleArnPattern,
    "an IAM role ARN, arn:aws:iam::ACCOUNT:role/NAME",
  );
  if (roleArn === undefined)
    throw new AccountRegistryError(`${at}.roleArn is required: the role the gateway assumes in ${id}`);
  const roleAccount = roleArn.split(":")[4];
  if (roleAccount !== id)
    throw new AccountRegistryError(
      `${at}.roleArn must be a role of account ${id}, not of ${roleAccount ?? "no account"}`,
    );
  const externalId = optionalString(
    entry,
    "externalId",
    at,
    EXTERNAL_ID,
    "2-1224 characters of letters, digits and +=,.@:/-_",
  );
  const regions = entry["regions"];
  if (regions !== undefined) {
    if (!Array.isArray(regions) || regions.length === 0)
      throw new AccountRegistryError(
        `${at}.regions must be a non-empty array of Region codes, or left out for every Region`,
      );
    regions.forEach((region: unknown, i) => {
      if (typeof region !== "string" || !REGION.test(region))
        throw new AccountRegistryError(`${at}.regions[${i}] must be a Region code such as us-east-1`);
    });
  }
  return {
    id,
    ...(alias === undefined ? {} : { alias }),
    roleArn,
    ...(externalId === undefined ? {} : { externalId }),
    ...(regions === undefined ? {} : { regions: regions as string[] }),
  };
}

function optionalString(
  entry: Record<string, unknown>,
  field: string,
  at: string,
  pattern: RegExp,
  rule: string,
): string | undefined {
  const value = entry[field];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !pattern.test(value))
    throw new AccountRegistryError(`${at}.${field} must be ${rule}`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The registry of `accounts` around the gateway's own account. */
export function accountRegistryOf(ownAccount: string, accounts: readonly ManagedAccount[]): AccountRegistry {
  return { ownAccount, accounts: new Map(accounts.map((account) => [account.id, account])) };
}

// Which account and Region a call acts in, and whether the registry lets the
// gateway act there. Decided from the RPC row's resource after validation,
// before the idempotency store, authorization and AWS.
import type { RpcResource } from "../authz/resource.js";
import type { AccountRegistry, ManagedAccount } from "./registry.js";

/** Where a call goes and with what identity. */
export interface CallTarget {
  readonly account: string;
  readonly region: string;
  /** The registry's entry; undefined for the gateway's own account when it is not listed (base credentials). */
  readonly managed: ManagedAccount | undefined;
}

/** The call's account is not in the registry. */
export class AccountNotManagedError extends Error {
  override readonly name = "AccountNotManagedError" as const;
  constructor(readonly account: string) {
    super(`account ${account} is not managed by this gateway (not in AWS_ACCOUNTS_FILE)`);
  }
}

/** The call's Region is not one its account allows. */
export class RegionNotManagedError extends Error {
  override readonly name = "RegionNotManagedError" as const;
  constructor(
    readonly account: string,
    readonly region: string,
  ) {
    super(`Region ${region} is not managed for account ${account} (AWS_ACCOUNTS_FILE allows it no calls there)`);
  }
}

/**
 * The call's target. What the resource leaves unsaid is the gateway's own
 * account and `defaultRegion`; an AWS managed RAM permission (account "aws")
 * is read in the own account. Throws AccountNotManagedError or
 * RegionNotManagedError.
 */
export function callTargetOf(resource: RpcResource, registry: AccountRegistry, defaultRegion: string): CallTarget {
  const named = namedPlace(resource);
  const account = named.account === undefined || named.account === "aws" ? registry.ownAccount : named.account;
  const region = named.region === undefined || named.region === "" ? defaultRegion : named.region;
  const managed = registry.accounts.get(account);
  if (managed === undefined && account !== registry.ownAccount) throw new AccountNotManagedError(account);
  if (managed?.regions !== undefined && !managed.regions.includes(region))
    throw new RegionNotManagedError(account, region);
  return { account, region, managed };
}

function namedPlace(resource: RpcResource): { account?: string | undefined; region?: string | undefined } {
  switch (resource.kind) {
    case "lambda-function":
      return { account: resource.function.account, region: resource.function.region };
    case "ram-permission":
      return { account: resource.permission.account, region: resource.permission.region };
    case "new-ram-permission":
    case "ram-permission-catalog":
      return {};
  }
}

// The resource a call acts on, as authorization policies and the audit trail
// see it: the Lambda function or RAM permission with its partition, Region,
// account and name. What a call leaves unsaid comes from where the gateway
// sends it (the default Region, the configured account); what nobody knows
// (the account of a bare function name with no AUTHZ_DEFAULT_ACCOUNT) is left
// out, never guessed, so a policy must test it with `has`.
import { lambdaFunctionArn, ramPermissionArn } from "../aws/arn.js";
import type { LambdaFunctionRef, RamPermissionRef } from "../backend/backend.js";
import { definedOnly } from "../util/defined-only.js";

/** What a call acts on, as its RPC row (src/rpc/rpc-table.ts) says from the validated request. */
export type RpcResource =
  | { readonly kind: "lambda-function"; readonly function: LambdaFunctionRef; readonly qualifier?: string | undefined }
  | { readonly kind: "ram-permission"; readonly permission: RamPermissionRef }
  /** A permission the call creates, by name, in the account and Region the gateway sends to. */
  | { readonly kind: "new-ram-permission"; readonly name: string }
  /** Every permission one account sees in one Region. */
  | { readonly kind: "ram-permission-catalog" };

/** Where calls go when their names say nothing more (a bare function name, CreateRamPermission, ...). */
export interface ResourceDefaults {
  /** The Region the gateway sends such calls to (AWS_REGION). */
  readonly region: string;
  /** The partition of that Region ("aws", "aws-cn", ...). */
  readonly partition: string;
  /** The account such calls act in, when the operator configured it (AUTHZ_DEFAULT_ACCOUNT). */
  readonly account?: string | undefined;
}

/** The Cedar entity types of resources (authz/schema.cedarschema). */
export type ResourceKind = "LambdaFunction" | "RamPermission" | "RamPermissionCatalog";

export type ResourceAttributes = Readonly<Record<string, string | boolean>>;

export interface AuthorizationResource {
  readonly kind: ResourceKind;
  /** The ARN when it is known, else the name as the caller gave it: what refusals and audit events name. */
  readonly id: string;
  /** Exactly the attributes of the schema's entity type; unknown ones are absent. */
  readonly attributes: ResourceAttributes;
}

/** The row's resource as policies and the audit trail see it, with the defaults filled in. */
export function authorizationResourceOf(resource: RpcResource, defaults: ResourceDefaults): AuthorizationResource {
  switch (resource.kind) {
    case "lambda-function":
      return lambdaFunction(resource.function, resource.qualifier, defaults);
    case "ram-permission":
      return ramPermission(resource.permission);
    case "new-ram-permission":
      return newRamPermission(resource.name, defaults);
    case "ram-permission-catalog":
      return ramPermissionCatalog(defaults);
  }
}

function lambdaFunction(
  ref: LambdaFunctionRef,
  qualifier: string | undefined,
  defaults: ResourceDefaults,
): AuthorizationResource {
  const partition = ref.partition ?? defaults.partition;
  const region = ref.region ?? defaults.region;
  const account = ref.account ?? defaults.account;
  const arn =
    account === undefined ? undefined : lambdaFunctionArn({ partition, region, account, name: ref.name, qualifier });
  return {
    kind: "LambdaFunction",
    id: arn ?? (qualifier === undefined ? ref.functionName : `${ref.functionName}:${qualifier}`),
    attributes: definedOnly({ partition, region, account, name: ref.name, qualifier, arn }),
  };
}

function ramPermission(ref: RamPermissionRef): AuthorizationResource {
  return {
    kind: "RamPermission",
    id: ref.arn,
    attributes: definedOnly({
      partition: ref.partition,
      // An AWS managed permission's ARN names no Region: it is the same everywhere.
      region: ref.awsManaged ? undefined : ref.region,
      account: ref.account,
      name: ref.name,
      awsManaged: ref.awsManaged,
      arn: ref.arn,
    }),
  };
}

/** CreateRamPermission: the permission that will exist, in the account and Region the call goes to. */
function newRamPermission(name: string, defaults: ResourceDefaults): AuthorizationResource {
  const { partition, region, account } = defaults;
  const arn = account === undefined ? undefined : ramPermissionArn({ partition, region, account, name });
  return {
    kind: "RamPermission",
    id: arn ?? name,
    attributes: definedOnly({ partition, region, account, name, awsManaged: false, arn }),
  };
}

/** ListRamPermissions reads no single permission: its resource is what one account sees in one Region. */
function ramPermissionCatalog(defaults: ResourceDefaults): AuthorizationResource {
  const { partition, region, account } = defaults;
  return {
    kind: "RamPermissionCatalog",
    id: `arn:${partition}:ram:${region}:${account ?? ""}:permission/*`,
    attributes: definedOnly({ partition, region, account }),
  };
}

/** The account the registry (AWS_ACCOUNTS_FILE) decided a call acts in. */
export interface TargetAccount {
  readonly account: string;
  readonly alias?: string | undefined;
}

/**
 * The resource with the registry's decision: the account where the request
 * named none (an AWS managed permission keeps "aws"), and the account's alias.
 */
export function withTargetAccount(resource: AuthorizationResource, target: TargetAccount): AuthorizationResource {
  const attributes: Record<string, string | boolean> = { ...resource.attributes };
  attributes["account"] ??= target.account;
  if (target.alias !== undefined) attributes["accountAlias"] = target.alias;
  return { ...resource, attributes };
}

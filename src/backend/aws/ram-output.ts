// RAM's wire shapes -> the port's RamPermission. RAM sends versions as
// strings and enums as open strings; the port wants numbers and closed unions,
// so anything outside them is a contract break reported as such.
import type { RamPermission, RamPermissionStatus, RamPermissionType } from "../backend.js";

/** The fields RAM's ResourceSharePermissionSummary and ...Detail share (Detail adds `permission`). */
export interface RamPermissionShape {
  readonly arn?: string | undefined;
  readonly name?: string | undefined;
  readonly version?: string | undefined;
  readonly defaultVersion?: boolean | undefined;
  readonly resourceType?: string | undefined;
  readonly status?: string | undefined;
  readonly permissionType?: string | undefined;
  readonly creationTime?: Date | undefined;
  readonly lastUpdatedTime?: Date | undefined;
  readonly tags?: readonly { readonly key?: string | undefined; readonly value?: string | undefined }[] | undefined;
}

const statuses: readonly RamPermissionStatus[] = ["ATTACHABLE", "UNATTACHABLE", "DELETING", "DELETED"];
const permissionTypes: readonly RamPermissionType[] = ["AWS_MANAGED", "CUSTOMER_MANAGED"];

/** A reply that does not fit the documented shape; the gateway reports it as INTERNAL. */
export class UnexpectedAwsResponseError extends Error {
  override readonly name = "UnexpectedAwsResponseError" as const;
}

/**
 * `policyTemplate` comes separately: GetPermission returns it in `permission`,
 * CreatePermission and ListPermissions return summaries without it.
 */
export function toRamPermission(shape: RamPermissionShape, policyTemplate: string): RamPermission {
  return {
    arn: required(shape.arn, "arn"),
    name: required(shape.name, "name"),
    version: toVersion(shape.version),
    defaultVersion: shape.defaultVersion ?? false,
    resourceType: shape.resourceType ?? "",
    status: toStatus(shape.status),
    permissionType: toPermissionType(shape.permissionType),
    policyTemplate,
    creationTime: shape.creationTime ?? new Date(0),
    lastUpdatedTime: shape.lastUpdatedTime ?? shape.creationTime ?? new Date(0),
    ...tagsOf(shape.tags),
  };
}

/** RAM's tag list as the port's record; none when RAM sent no tags. */
function tagsOf(tags: RamPermissionShape["tags"]): { tags?: Record<string, string> } {
  const entries = (tags ?? []).flatMap((tag) => (tag.key === undefined ? [] : [[tag.key, tag.value ?? ""] as const]));
  return entries.length === 0 ? {} : { tags: Object.fromEntries(entries) };
}

export function toStatus(value: string | undefined): RamPermissionStatus {
  if (value !== undefined && (statuses as readonly string[]).includes(value)) return value as RamPermissionStatus;
  throw new UnexpectedAwsResponseError(`RAM returned an unknown permission status ${JSON.stringify(value)}`);
}

function toPermissionType(value: string | undefined): RamPermissionType {
  if (value !== undefined && (permissionTypes as readonly string[]).includes(value)) return value as RamPermissionType;
  throw new UnexpectedAwsResponseError(`RAM returned an unknown permission type ${JSON.stringify(value)}`);
}

function toVersion(value: string | undefined): number {
  if (value !== undefined && /^\d{1,9}$/.test(value)) return Number(value);
  throw new UnexpectedAwsResponseError(
    `RAM returned a permission version that is not a number: ${JSON.stringify(value)}`,
  );
}

function required(value: string | undefined, field: string): string {
  if (value !== undefined && value !== "") return value;
  throw new UnexpectedAwsResponseError(`RAM returned a permission without ${field}`);
}

// RAM's DeletePermission, CreatePermission, GetPermission and
// ListPermissions on the wire: request members -> the backend's domain
// input, domain output -> the response body. Constraints are the service
// model's (botocore ram/2018-01-04); RAM reports them with its own modelled
// exceptions.
import { randomUUID } from "node:crypto";
import { parseRamPermissionArn } from "../aws/arn.js";
import { brokenConstraint, ramFieldRules } from "../aws/field-rules.js";
import type { RamPermission, RamPermissionRef, RamPermissionType } from "../backend/backend.js";
import type { RamOperation } from "../backend/fake/operations.js";
import type { WireCall, WireOperations, WireSuccess } from "./operations.js";
import { wireError } from "./wire-errors.js";
import { arrayMember, integerMember, queryParam, stringMember, type JsonObject } from "./wire-input.js";

/** RAM documents only "a value specific to the operation" as the default page size; this is the fake's. */
export const RAM_DEFAULT_MAX_RESULTS = 50;
/** The prefix of the AWS managed permissions RAM attaches by default for a resource type. */
const DEFAULT_PERMISSION_PREFIX = "AWSRAMDefaultPermission";

function missing(member: string): never {
  throw wireError(
    "ram",
    "MissingRequiredParameterException",
    `The request is missing the required parameter ${member}.`,
  );
}

function invalid(message: string): never {
  throw wireError("ram", "InvalidParameterException", message);
}

function permissionRef(arn: string | undefined): RamPermissionRef {
  if (arn === undefined) missing("permissionArn");
  const ref = parseRamPermissionArn(arn);
  if (ref === undefined) {
    throw wireError("ram", "MalformedArnException", `The permission ARN ${JSON.stringify(arn)} is not a valid ARN.`);
  }
  return ref;
}

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

type WireTag = { key: string; value: string };

/** A ResourceSharePermissionSummary; `version` is a string on the wire, tags a list. */
function permissionSummary(permission: RamPermission): Record<string, unknown> {
  const tags = Object.entries(permission.tags ?? {}).map(([key, value]) => ({ key, value }));
  return {
    arn: permission.arn,
    version: String(permission.version),
    defaultVersion: permission.defaultVersion,
    name: permission.name,
    resourceType: permission.resourceType,
    status: permission.status,
    creationTime: epochSeconds(permission.creationTime),
    lastUpdatedTime: epochSeconds(permission.lastUpdatedTime),
    isResourceTypeDefault:
      permission.permissionType === "AWS_MANAGED" && permission.name.startsWith(DEFAULT_PERMISSION_PREFIX),
    permissionType: permission.permissionType,
    featureSet: "STANDARD",
    ...(tags.length === 0 ? {} : { tags }),
  };
}

/** A ResourceSharePermissionDetail: the summary plus the policy template text. */
function permissionDetail(permission: RamPermission): Record<string, unknown> {
  return { ...permissionSummary(permission), permission: permission.policyTemplate };
}

function readTags(body: JsonObject): WireTag[] {
  const list = arrayMember("ram", body, "tags") ?? [];
  return list.map((item, index) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) invalid(`tags[${index}] must be an object.`);
    const { key, value } = item as Record<string, unknown>;
    if (typeof key !== "string" || key === "") invalid(`tags[${index}].key must be a non-empty string.`);
    if (value !== undefined && value !== null && typeof value !== "string")
      invalid(`tags[${index}].value must be a string.`);
    return { key, value: typeof value === "string" ? value : "" };
  });
}

export async function deletePermission(call: WireCall): Promise<WireSuccess> {
  const permission = permissionRef(queryParam(call.query, "permissionArn"));
  // RAM generates a token when the caller sends none, and returns it.
  const clientToken = queryParam(call.query, "clientToken") ?? randomUUID();
  const output = await call.backend.deleteRamPermission({ permission, clientToken }, call.options);
  return {
    status: 200,
    body: {
      returnValue: output.returnValue,
      clientToken: output.clientToken,
      permissionStatus: output.permissionStatus,
    },
    requestId: output.awsRequestId,
  };
}

export async function createPermission(call: WireCall): Promise<WireSuccess> {
  const name = stringMember("ram", call.body, "name") ?? missing("name");
  const resourceType = stringMember("ram", call.body, "resourceType") ?? missing("resourceType");
  const policyTemplate = stringMember("ram", call.body, "policyTemplate") ?? missing("policyTemplate");
  const clientToken = stringMember("ram", call.body, "clientToken") ?? randomUUID();
  const tags = readTags(call.body);
  const nameRule = ramFieldRules.permissionName;
  if (brokenConstraint(name, nameRule) !== undefined) {
    invalid(
      `The name ${JSON.stringify(name)} must be ${nameRule.min} to ${nameRule.max} characters matching ${nameRule.pattern}.`,
    );
  }
  const output = await call.backend.createRamPermission(
    {
      name,
      resourceType,
      policyTemplate,
      clientToken,
      tags: Object.fromEntries(tags.map((tag) => [tag.key, tag.value])),
    },
    call.options,
  );
  return {
    status: 200,
    body: { permission: permissionSummary(output.permission), clientToken: output.clientToken },
    requestId: output.awsRequestId,
  };
}

export async function getPermission(call: WireCall): Promise<WireSuccess> {
  const permission = permissionRef(stringMember("ram", call.body, "permissionArn"));
  const permissionVersion = integerMember("ram", call.body, "permissionVersion");
  if (permissionVersion !== undefined && permissionVersion < 1) {
    invalid(`The permissionVersion ${permissionVersion} must be 1 or greater.`);
  }
  const output = await call.backend.getRamPermission({ permission, permissionVersion }, call.options);
  return { status: 200, body: { permission: permissionDetail(output) }, requestId: output.awsRequestId };
}

export async function listPermissions(call: WireCall): Promise<WireSuccess> {
  const resourceType = stringMember("ram", call.body, "resourceType");
  const nextToken = stringMember("ram", call.body, "nextToken");
  const maxResults = integerMember("ram", call.body, "maxResults") ?? RAM_DEFAULT_MAX_RESULTS;
  const permissionTypeFilter = stringMember("ram", call.body, "permissionType") ?? "ALL";
  const { maxResults: limits, permissionType: filters } = ramFieldRules;
  if (maxResults < limits.min || maxResults > limits.max) {
    invalid(`The maxResults ${maxResults} must be from ${limits.min} to ${limits.max}.`);
  }
  if (!(filters.values as readonly string[]).includes(permissionTypeFilter)) {
    invalid(`The permissionType ${JSON.stringify(permissionTypeFilter)} must be one of ${filters.values.join(", ")}.`);
  }
  const permissionType = permissionTypeFilter === "ALL" ? undefined : (permissionTypeFilter as RamPermissionType);
  const output = await call.backend.listRamPermissions(
    { resourceType, permissionType, maxResults, nextToken },
    call.options,
  );
  return {
    status: 200,
    body: {
      permissions: output.permissions.map((permission) => permissionSummary(permission)),
      ...(output.nextToken === undefined ? {} : { nextToken: output.nextToken }),
    },
    requestId: output.awsRequestId,
  };
}

export const ramOperations = {
  DeletePermission: { route: { method: "DELETE", path: "/deletepermission" }, handler: deletePermission },
  CreatePermission: { route: { method: "POST", path: "/createpermission" }, handler: createPermission },
  GetPermission: { route: { method: "POST", path: "/getpermission" }, handler: getPermission },
  ListPermissions: { route: { method: "POST", path: "/listpermissions" }, handler: listPermissions },
} satisfies WireOperations<RamOperation>;

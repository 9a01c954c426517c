// The field rules of the AWS API references (README, "The API"), checked
// before a request reaches the idempotency store or the backend. Each parser
// turns a request message into the backend's input, or throws
// RequestValidationError naming every broken field (one violation per field)
// in AWS's own words. The constraints AWS defines come from the shared table
// (src/aws/field-rules.ts); the gateway's own (tokens, RAM's undocumented
// bounds) are below. src/errors.ts turns the error into a google.rpc.BadRequest.
import type { DescEnum, Message, UnknownField } from "@bufbuild/protobuf";
import {
  FUNCTION_NAME_PATTERN,
  matchesFunctionNamePattern,
  parseFunctionName,
  parseRamPermissionArn,
} from "./aws/arn.js";
import { brokenConstraint, lambdaFieldRules, longerThan, ramFieldRules, type FieldRule } from "./aws/field-rules.js";
import { AWS_PARTITIONS, awsPartition, describeRegionsOf, isRegionOfPartition } from "./aws/partitions.js";
import type {
  AddLambdaPermissionInput,
  FunctionUrlAuthType,
  GetLambdaPolicyInput,
  GetRamPermissionInput,
  LambdaFunctionRef,
  ListRamPermissionsInput,
  RamPermissionRef,
  RamPermissionType,
  RemoveLambdaPermissionInput,
} from "./backend/backend.js";
import {
  FunctionUrlAuthType as FunctionUrlAuthTypeEnum,
  FunctionUrlAuthTypeSchema,
  PermissionType as PermissionTypeEnum,
  PermissionTypeSchema,
} from "../gen/permission/v1/permission_pb.js";
import type {
  AddLambdaPermissionRequest,
  CreateRamPermissionRequest,
  DeleteRamPermissionRequest,
  GetLambdaPolicyRequest,
  GetRamPermissionRequest,
  ListRamPermissionsRequest,
  RemoveLambdaPermissionRequest,
} from "../gen/permission/v1/permission_pb.js";
import { definedOnly } from "./util/defined-only.js";

export interface FieldViolation {
  /** The field's path in the request's JSON form, e.g. "statementId" or `tags["env"]`. */
  readonly field: string;
  readonly description: string;
}

export class RequestValidationError extends Error {
  override readonly name = "RequestValidationError" as const;
  readonly violations: FieldViolation[];

  constructor(violations: FieldViolation[]) {
    const count = violations.length;
    super(
      `${count} validation error${count === 1 ? "" : "s"} detected: ` +
        violations.map((violation) => violation.description).join("; "),
    );
    this.violations = violations;
  }
}

export function isRequestValidationError(value: unknown): value is RequestValidationError {
  return value instanceof RequestValidationError;
}

// ---------------------------------------------------------------------------
// Rules: AWS's from the shared table, the gateway's own here

const {
  removeStatementId: REMOVE_STATEMENT_ID,
  addStatementId: ADD_STATEMENT_ID,
  qualifier: QUALIFIER,
} = lambdaFieldRules;
const { action: ACTION, principal: PRINCIPAL, sourceArn: SOURCE_ARN, sourceAccount: SOURCE_ACCOUNT } = lambdaFieldRules;
const { eventSourceToken: EVENT_SOURCE_TOKEN, principalOrgId: PRINCIPAL_ORG_ID } = lambdaFieldRules;
const FUNCTION_NAME_MAX = lambdaFieldRules.functionName.max;
const FUNCTION_BARE_NAME_MAX = lambdaFieldRules.bareFunctionName.max;
const RAM_PERMISSION_NAME = ramFieldRules.permissionName;
const PAGE_SIZE_MAX = ramFieldRules.maxResults.max;

// The references give RevisionId no constraint; an empty one can only be a mistake.
const REVISION_ID: FieldRule = { min: 1 };
// client_token and idempotency_key: docs/idempotency.md, "Token rules".
const TOKEN: FieldRule = { min: 1, max: 64, pattern: "[\\x21-\\x7E]+" };
// RAM documents "<service-code>:<resource-type>" (case-insensitive) but no
// pattern or length; this keeps obvious garbage away from the backend.
const RESOURCE_TYPE: FieldRule = { min: 1, max: 256, pattern: "[a-zA-Z0-9-]+:[a-zA-Z0-9-]+" };
const POLICY_TEMPLATE: FieldRule = { min: 1 };
const PERMISSION_ARN_MAX = 2048;
// RAM documents no bound for nextToken; this one is far above what RAM hands out.
const PAGE_TOKEN: FieldRule = { max: 8192 };

const TAG_KEY_MAX = 128;
const TAG_VALUE_MAX = 256;
const TAGS_MAX = 50;

const PAGE_SIZE_DEFAULT = 50;

// ---------------------------------------------------------------------------
// Checking

type Violations = FieldViolation[];

function violate(violations: Violations, field: string, constraint: string): void {
  violations.push({ field, description: `Value at '${field}' failed to satisfy constraint: ${constraint}` });
}

/**
 * A proto3 enum field as the domain's value. proto3 enums are open: a number
 * the enum does not have can arrive on the wire, and is refused naming the
 * values it accepts.
 */
function enumValueOf<E extends number, T>(
  violations: Violations,
  field: string,
  schema: DescEnum,
  value: E,
  domain: Readonly<Record<E, T>>,
): T | undefined {
  if (Object.hasOwn(domain, value)) return domain[value];
  violate(violations, field, `Member must satisfy enum value set: [${schema.values.map((v) => v.name).join(", ")}]`);
  return undefined;
}

/**
 * A required string: the empty string (proto3's default) counts as missing.
 * Returns whether the value passed, so callers can go on to parse it.
 */
function checkRequired(violations: Violations, field: string, value: string, rule: FieldRule): boolean {
  if (value === "") {
    violate(violations, field, "Member must not be null");
    return false;
  }
  const broken = brokenConstraint(value, rule);
  if (broken !== undefined) violate(violations, field, broken);
  return broken === undefined;
}

/**
 * An optional (proto3 `optional`) string: undefined is absent; anything else,
 * the empty string included, was set by the caller and must be valid.
 */
function checkOptional(
  violations: Violations,
  field: string,
  value: string | undefined,
  rule: FieldRule,
): string | undefined {
  if (value === undefined) return undefined;
  const broken = brokenConstraint(value, rule);
  if (broken !== undefined) violate(violations, field, broken);
  return value;
}

function checkFunctionName(violations: Violations, field: string, value: string): ReturnType<typeof parseFunctionName> {
  if (!checkRequired(violations, field, value, { max: FUNCTION_NAME_MAX })) return undefined;
  const parsed = parseFunctionName(value);
  if (parsed === undefined) {
    violate(
      violations,
      field,
      matchesFunctionNamePattern(value)
        ? 'Member must be a function name ("my-function"), a partial ARN ("123456789012:function:my-function") ' +
            'or a function ARN, optionally followed by ":<version or alias>"'
        : `Member must satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN}`,
    );
    return undefined;
  }
  if (longerThan(parsed.name, FUNCTION_BARE_NAME_MAX)) {
    violate(violations, field, `Function name must have length less than or equal to ${FUNCTION_BARE_NAME_MAX}`);
    return undefined;
  }
  // The pattern lets a ":<qualifier>" suffix of any length through; it obeys
  // the Qualifier field's rules all the same.
  const qualifierBroken = parsed.qualifier === undefined ? undefined : brokenConstraint(parsed.qualifier, QUALIFIER);
  if (qualifierBroken !== undefined) {
    violate(violations, field, qualifierBroken.replace(/^Member/, "Qualifier"));
    return undefined;
  }
  return placementIsKnown(violations, field, parsed.partition, parsed.region) ? parsed : undefined;
}

/**
 * A partition AWS has, and a Region of that partition. Anything else could
 * never be answered, and would only grow what the gateway keeps per Region.
 * Returns whether the placement is fine (nothing given is fine).
 */
function placementIsKnown(
  violations: Violations,
  field: string,
  partition: string | undefined,
  region: string | undefined,
): boolean {
  if (partition === undefined) return true;
  if (awsPartition(partition) === undefined) {
    violate(
      violations,
      field,
      `Member must name a partition AWS has (${AWS_PARTITIONS.map((p) => p.id).join(", ")}), not ${partition}`,
    );
    return false;
  }
  if (region === undefined || region === "" || isRegionOfPartition(region, partition)) return true;
  violate(
    violations,
    field,
    `Member must name a Region of partition ${partition} (${describeRegionsOf(partition)}), not ${region}`,
  );
  return false;
}

interface FunctionAndQualifier {
  readonly function: LambdaFunctionRef | undefined;
  /** The effective qualifier: from the name's suffix or the field, which must agree. */
  readonly qualifier: string | undefined;
}

function checkFunctionAndQualifier(
  violations: Violations,
  functionName: string,
  qualifierField: string | undefined,
): FunctionAndQualifier {
  const parsed = checkFunctionName(violations, "functionName", functionName);
  const before = violations.length;
  const qualifier = checkOptional(violations, "qualifier", qualifierField, QUALIFIER);
  const qualifierValid = violations.length === before;
  if (parsed === undefined) return { function: undefined, qualifier };

  const { qualifier: suffix, ...ref } = parsed;
  if (suffix !== undefined && qualifier !== undefined && qualifierValid && suffix !== qualifier) {
    // Lambda's own words for this case (InvalidParameterValueException).
    violations.push({
      field: "qualifier",
      description: "The derived qualifier from the function name does not match the specified qualifier.",
    });
  }
  return { function: ref, qualifier: qualifier ?? suffix };
}

function checkPermissionArn(violations: Violations, value: string): RamPermissionRef | undefined {
  const field = "permissionArn";
  if (!checkRequired(violations, field, value, { max: PERMISSION_ARN_MAX })) return undefined;
  const parsed = parseRamPermissionArn(value);
  if (parsed === undefined) {
    violate(
      violations,
      field,
      "Member must be a permission ARN: arn:<partition>:ram:<region>:<account>:permission/<name>, " +
        "or arn:<partition>:ram::aws:permission/<name> for an AWS managed permission",
    );
    return undefined;
  }
  return placementIsKnown(violations, field, parsed.partition, parsed.region) ? parsed : undefined;
}

/**
 * Fields the message does not define. The JSON form refuses them while
 * decoding; the binary forms (gRPC, gRPC-Web, Connect with protobuf) keep
 * them aside, and dropping them silently could drop a condition the caller
 * meant to set, which widens a grant. They are named by field number, the
 * only name they have on the wire.
 */
function checkUnknownFields(violations: Violations, message: Message): void {
  const numbers = new Set((message.$unknown ?? []).map((field: UnknownField) => field.no));
  for (const no of [...numbers].sort((a, b) => a - b)) {
    violations.push({
      field: `field ${no}`,
      description: `Field number ${no} is not a field of ${message.$typeName}; fields the gateway does not know are refused, never dropped`,
    });
  }
}

function checkTags(violations: Violations, tags: Readonly<Record<string, string>>): Record<string, string> {
  const entries = Object.entries(tags);
  if (entries.length > TAGS_MAX) {
    violate(violations, "tags", `Member must have length less than or equal to ${TAGS_MAX}`);
  }
  for (const [key, value] of entries) {
    const field = `tags[${JSON.stringify(key)}]`;
    if (key === "") {
      violate(violations, field, "Tag key must have length greater than or equal to 1");
    } else if (longerThan(key, TAG_KEY_MAX)) {
      violate(violations, field, `Tag key must have length less than or equal to ${TAG_KEY_MAX}`);
    } else if (longerThan(value, TAG_VALUE_MAX)) {
      violate(violations, field, `Tag value must have length less than or equal to ${TAG_VALUE_MAX}`);
    }
  }
  return Object.fromEntries(entries);
}

function throwIfAny(violations: Violations): void {
  if (violations.length > 0) throw new RequestValidationError(violations);
}

// ---------------------------------------------------------------------------
// Parsers, one per RPC

export interface ParsedRemoveLambdaPermissionRequest {
  readonly input: RemoveLambdaPermissionInput;
  readonly idempotencyKey?: string | undefined;
  readonly allowMissing: boolean;
}

export function parseRemoveLambdaPermissionRequest(
  req: RemoveLambdaPermissionRequest,
): ParsedRemoveLambdaPermissionRequest {
  const violations: Violations = [];
  checkUnknownFields(violations, req);
  const target = checkFunctionAndQualifier(violations, req.functionName, req.qualifier);
  checkRequired(violations, "statementId", req.statementId, REMOVE_STATEMENT_ID);
  const revisionId = checkOptional(violations, "revisionId", req.revisionId, REVISION_ID);
  const idempotencyKey = checkOptional(violations, "idempotencyKey", req.idempotencyKey, TOKEN);
  throwIfAny(violations);
  if (target.function === undefined) throw new RequestValidationError(violations);

  return definedOnly({
    input: definedOnly({
      function: target.function,
      statementId: req.statementId,
      qualifier: target.qualifier,
      revisionId,
    }),
    idempotencyKey,
    allowMissing: req.allowMissing,
  });
}

export interface ParsedAddLambdaPermissionRequest {
  readonly input: AddLambdaPermissionInput;
  readonly idempotencyKey?: string | undefined;
}

const functionUrlAuthTypes: Readonly<Record<FunctionUrlAuthTypeEnum, FunctionUrlAuthType | undefined>> = {
  [FunctionUrlAuthTypeEnum.UNSPECIFIED]: undefined,
  [FunctionUrlAuthTypeEnum.NONE]: "NONE",
  [FunctionUrlAuthTypeEnum.AWS_IAM]: "AWS_IAM",
};

export function parseAddLambdaPermissionRequest(req: AddLambdaPermissionRequest): ParsedAddLambdaPermissionRequest {
  const violations: Violations = [];
  checkUnknownFields(violations, req);
  const target = checkFunctionAndQualifier(violations, req.functionName, req.qualifier);
  checkRequired(violations, "statementId", req.statementId, ADD_STATEMENT_ID);
  checkRequired(violations, "action", req.action, ACTION);
  checkRequired(violations, "principal", req.principal, PRINCIPAL);
  const sourceArn = checkOptional(violations, "sourceArn", req.sourceArn, SOURCE_ARN);
  const sourceAccount = checkOptional(violations, "sourceAccount", req.sourceAccount, SOURCE_ACCOUNT);
  const eventSourceToken = checkOptional(violations, "eventSourceToken", req.eventSourceToken, EVENT_SOURCE_TOKEN);
  const revisionId = checkOptional(violations, "revisionId", req.revisionId, REVISION_ID);
  const principalOrgId = checkOptional(violations, "principalOrgId", req.principalOrgId, PRINCIPAL_ORG_ID);
  const functionUrlAuthType = enumValueOf(
    violations,
    "functionUrlAuthType",
    FunctionUrlAuthTypeSchema,
    req.functionUrlAuthType,
    functionUrlAuthTypes,
  );
  const idempotencyKey = checkOptional(violations, "idempotencyKey", req.idempotencyKey, TOKEN);
  throwIfAny(violations);
  if (target.function === undefined) throw new RequestValidationError(violations);

  return definedOnly({
    input: definedOnly({
      function: target.function,
      statementId: req.statementId,
      action: req.action,
      principal: req.principal,
      sourceArn,
      sourceAccount,
      eventSourceToken,
      qualifier: target.qualifier,
      revisionId,
      principalOrgId,
      functionUrlAuthType,
      invokedViaFunctionUrl: req.invokedViaFunctionUrl,
    }),
    idempotencyKey,
  });
}

export function parseGetLambdaPolicyRequest(req: GetLambdaPolicyRequest): GetLambdaPolicyInput {
  const violations: Violations = [];
  checkUnknownFields(violations, req);
  const target = checkFunctionAndQualifier(violations, req.functionName, req.qualifier);
  throwIfAny(violations);
  if (target.function === undefined) throw new RequestValidationError(violations);
  return definedOnly({ function: target.function, qualifier: target.qualifier });
}

export interface ParsedDeleteRamPermissionRequest {
  readonly permission: RamPermissionRef;
  readonly clientToken?: string | undefined;
}

/**
 * AWS managed ARNs pass here on purpose: deleting one is RAM's
 * OperationNotPermittedException (FAILED_PRECONDITION, docs/errors.md),
 * which the backend answers, not an invalid argument.
 */
export function parseDeleteRamPermissionRequest(req: DeleteRamPermissionRequest): ParsedDeleteRamPermissionRequest {
  const violations: Violations = [];
  checkUnknownFields(violations, req);
  const permission = checkPermissionArn(violations, req.permissionArn);
  const clientToken = checkOptional(violations, "clientToken", req.clientToken, TOKEN);
  throwIfAny(violations);
  if (permission === undefined) throw new RequestValidationError(violations);
  return definedOnly({ permission, clientToken });
}

export interface ParsedCreateRamPermissionRequest {
  readonly name: string;
  readonly resourceType: string;
  readonly policyTemplate: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly clientToken?: string | undefined;
}

/** Whether the template is meaningful JSON is the backend's call (MalformedPolicyTemplate). */
export function parseCreateRamPermissionRequest(req: CreateRamPermissionRequest): ParsedCreateRamPermissionRequest {
  const violations: Violations = [];
  checkUnknownFields(violations, req);
  checkRequired(violations, "name", req.name, RAM_PERMISSION_NAME);
  checkRequired(violations, "resourceType", req.resourceType, RESOURCE_TYPE);
  checkRequired(violations, "policyTemplate", req.policyTemplate, POLICY_TEMPLATE);
  const clientToken = checkOptional(violations, "clientToken", req.clientToken, TOKEN);
  const tags = checkTags(violations, req.tags);
  throwIfAny(violations);
  return definedOnly({
    name: req.name,
    resourceType: req.resourceType,
    policyTemplate: req.policyTemplate,
    tags,
    clientToken,
  });
}

export function parseGetRamPermissionRequest(req: GetRamPermissionRequest): GetRamPermissionInput {
  const violations: Violations = [];
  checkUnknownFields(violations, req);
  const permission = checkPermissionArn(violations, req.permissionArn);
  const permissionVersion = req.permissionVersion;
  if (permissionVersion !== undefined && permissionVersion < 1) {
    violate(violations, "permissionVersion", "Member must have value greater than or equal to 1");
  }
  throwIfAny(violations);
  if (permission === undefined) throw new RequestValidationError(violations);
  return definedOnly({ permission, permissionVersion });
}

const permissionTypes: Readonly<Record<PermissionTypeEnum, RamPermissionType | undefined>> = {
  [PermissionTypeEnum.UNSPECIFIED]: undefined,
  [PermissionTypeEnum.AWS_MANAGED]: "AWS_MANAGED",
  [PermissionTypeEnum.CUSTOMER_MANAGED]: "CUSTOMER_MANAGED",
};

export function parseListRamPermissionsRequest(req: ListRamPermissionsRequest): ListRamPermissionsInput {
  const violations: Violations = [];
  checkUnknownFields(violations, req);
  // Plain proto3 strings: empty means "no filter" / "first page".
  const resourceType =
    req.resourceType === "" ? undefined : checkOptional(violations, "resourceType", req.resourceType, RESOURCE_TYPE);
  const permissionType = enumValueOf(
    violations,
    "permissionType",
    PermissionTypeSchema,
    req.permissionType,
    permissionTypes,
  );
  let maxResults = req.pageSize;
  if (req.pageSize === 0) {
    maxResults = PAGE_SIZE_DEFAULT;
  } else if (req.pageSize < 1) {
    violate(violations, "pageSize", "Member must have value greater than or equal to 1");
  } else if (req.pageSize > PAGE_SIZE_MAX) {
    violate(violations, "pageSize", `Member must have value less than or equal to ${PAGE_SIZE_MAX}`);
  }
  const nextToken =
    req.pageToken === "" ? undefined : checkOptional(violations, "pageToken", req.pageToken, PAGE_TOKEN);
  throwIfAny(violations);
  return definedOnly({ resourceType, permissionType, maxResults, nextToken });
}

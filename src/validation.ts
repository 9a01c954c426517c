// The field rules of the AWS API references (DESIGN.md section 3), checked
// before a request reaches the idempotency store or the backend. Each parser
// turns a request message into the backend's input, or throws
// RequestValidationError naming every broken field (one violation per field)
// in AWS's own words. src/errors.ts turns that into a google.rpc.BadRequest.
import { FUNCTION_NAME_PATTERN, matchesFunctionNamePattern, parseFunctionName, parseRamPermissionArn } from "./arn.js";
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
  PermissionType as PermissionTypeEnum,
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
// Rules

interface StringRule {
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
  /** The pattern as the API reference prints it, for the description. */
  readonly patternText?: string;
}

const FUNCTION_NAME_MAX = 256;
const FUNCTION_BARE_NAME_MAX = 64;

const REMOVE_STATEMENT_ID: StringRule = {
  min: 1,
  max: 100,
  pattern: /^[a-zA-Z0-9_.-]+$/,
  patternText: "[a-zA-Z0-9-_.]+",
};
// AddPermission's StatementId has no dot, unlike RemovePermission's.
const ADD_STATEMENT_ID: StringRule = {
  min: 1,
  max: 100,
  pattern: /^[a-zA-Z0-9_-]+$/,
  patternText: "[a-zA-Z0-9-_]+",
};
const QUALIFIER: StringRule = {
  min: 1,
  max: 128,
  pattern: /^(\$LATEST\.PUBLISHED|[a-zA-Z0-9$_-]+)$/,
  patternText: "(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9$_-]+)",
};
const ACTION: StringRule = {
  pattern: /^(lambda:[*]|lambda:[a-zA-Z]+|[*])$/,
  patternText: "(lambda:[*]|lambda:[a-zA-Z]+|[*])",
};
const PRINCIPAL: StringRule = { pattern: /^[^\s]+$/, patternText: "[^\\s]+" };
const SOURCE_ARN: StringRule = {
  pattern: /^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)$/,
  patternText: "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)",
};
const SOURCE_ACCOUNT: StringRule = { max: 12, pattern: /^\d{12}$/, patternText: "\\d{12}" };
const EVENT_SOURCE_TOKEN: StringRule = {
  min: 0,
  max: 256,
  pattern: /^[a-zA-Z0-9._-]+$/,
  patternText: "[a-zA-Z0-9._\\-]+",
};
const PRINCIPAL_ORG_ID: StringRule = {
  min: 12,
  max: 34,
  pattern: /^o-[a-z0-9]{10,32}$/,
  patternText: "^o-[a-z0-9]{10,32}$",
};
// The references give RevisionId no constraint; an empty one can only be a mistake.
const REVISION_ID: StringRule = { min: 1 };
// client_token and idempotency_key: DESIGN.md section 3.
const TOKEN: StringRule = { min: 1, max: 64, pattern: /^[\x21-\x7E]+$/, patternText: "[\\x21-\\x7E]+" };
const RAM_PERMISSION_NAME: StringRule = { min: 1, max: 36, pattern: /^[\w.-]+$/, patternText: "[\\w.-]+" };
// RAM documents "<service-code>:<resource-type>" (case-insensitive) but no
// pattern or length; this keeps obvious garbage away from the backend.
const RESOURCE_TYPE: StringRule = {
  min: 1,
  max: 256,
  pattern: /^[a-zA-Z0-9-]+:[a-zA-Z0-9-]+$/,
  patternText: "[a-zA-Z0-9-]+:[a-zA-Z0-9-]+",
};
const POLICY_TEMPLATE: StringRule = { min: 1 };
const PERMISSION_ARN_MAX = 2048;
// RAM documents no bound for nextToken; this one is far above what RAM hands out.
const PAGE_TOKEN: StringRule = { max: 8192 };

const TAG_KEY_MAX = 128;
const TAG_VALUE_MAX = 256;
const TAGS_MAX = 50;

const PAGE_SIZE_DEFAULT = 50;
const PAGE_SIZE_MAX = 500;

// ---------------------------------------------------------------------------
// Checking

type Violations = FieldViolation[];

function violate(violations: Violations, field: string, constraint: string): void {
  violations.push({ field, description: `Value at '${field}' failed to satisfy constraint: ${constraint}` });
}

/**
 * The length in characters (code points, as AWS counts them, not UTF-16
 * units), counted only as far as `limit + 1`: enough to compare with the
 * limit. A value longer than twice the limit in UTF-16 units has more than
 * `limit` code points (each takes one or two units) and is not walked at all,
 * so a huge value costs O(limit), not O(length).
 */
function lengthUpTo(value: string, limit: number): number {
  if (value.length > 2 * limit) return limit + 1;
  let count = 0;
  for (let i = 0; i < value.length && count <= limit; count++) {
    // A high surrogate followed by a low one is one character.
    i += isSurrogatePair(value, i) ? 2 : 1;
  }
  return count;
}

function isSurrogatePair(value: string, index: number): boolean {
  const high = value.charCodeAt(index);
  const low = value.charCodeAt(index + 1);
  return high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff;
}

function longerThan(value: string, max: number): boolean {
  return lengthUpTo(value, max) > max;
}

function shorterThan(value: string, min: number): boolean {
  return lengthUpTo(value, min) < min;
}

/** The first rule the value breaks, in AWS's words, or undefined. */
function brokenRule(value: string, rule: StringRule): string | undefined {
  if (rule.min !== undefined && shorterThan(value, rule.min)) {
    return `Member must have length greater than or equal to ${rule.min}`;
  }
  if (rule.max !== undefined && longerThan(value, rule.max)) {
    return `Member must have length less than or equal to ${rule.max}`;
  }
  if (rule.pattern !== undefined && !rule.pattern.test(value)) {
    return `Member must satisfy regular expression pattern: ${rule.patternText ?? rule.pattern.source}`;
  }
  return undefined;
}

/**
 * A required string: the empty string (proto3's default) counts as missing.
 * Returns whether the value passed, so callers can go on to parse it.
 */
function checkRequired(violations: Violations, field: string, value: string, rule: StringRule): boolean {
  if (value === "") {
    violate(violations, field, "Member must not be null");
    return false;
  }
  const broken = brokenRule(value, rule);
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
  rule: StringRule,
): string | undefined {
  if (value === undefined) return undefined;
  const broken = brokenRule(value, rule);
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
  const qualifierBroken = parsed.qualifier === undefined ? undefined : brokenRule(parsed.qualifier, QUALIFIER);
  if (qualifierBroken !== undefined) {
    violate(violations, field, qualifierBroken.replace(/^Member/, "Qualifier"));
    return undefined;
  }
  return parsed;
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

function checkPermissionArn(
  violations: Violations,
  value: string,
): RamPermissionRef | undefined {
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
  }
  return parsed;
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

// Drops properties whose value is undefined, so that "absent" has one shape
// for deep comparisons and canonical forms downstream.
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
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
  const target = checkFunctionAndQualifier(violations, req.functionName, req.qualifier);
  checkRequired(violations, "statementId", req.statementId, REMOVE_STATEMENT_ID);
  const revisionId = checkOptional(violations, "revisionId", req.revisionId, REVISION_ID);
  const idempotencyKey = checkOptional(violations, "idempotencyKey", req.idempotencyKey, TOKEN);
  throwIfAny(violations);
  if (target.function === undefined) throw new RequestValidationError(violations);

  return compact({
    input: compact({
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

function functionUrlAuthTypeOf(
  violations: Violations,
  value: FunctionUrlAuthTypeEnum,
): FunctionUrlAuthType | undefined {
  switch (value) {
    case FunctionUrlAuthTypeEnum.UNSPECIFIED:
      return undefined;
    case FunctionUrlAuthTypeEnum.NONE:
      return "NONE";
    case FunctionUrlAuthTypeEnum.AWS_IAM:
      return "AWS_IAM";
    default:
      // proto3 enums are open: an unknown number can arrive on the wire.
      violate(
        violations,
        "functionUrlAuthType",
        "Member must satisfy enum value set: [FUNCTION_URL_AUTH_TYPE_UNSPECIFIED, FUNCTION_URL_AUTH_TYPE_NONE, FUNCTION_URL_AUTH_TYPE_AWS_IAM]",
      );
      return undefined;
  }
}

export function parseAddLambdaPermissionRequest(req: AddLambdaPermissionRequest): ParsedAddLambdaPermissionRequest {
  const violations: Violations = [];
  const target = checkFunctionAndQualifier(violations, req.functionName, req.qualifier);
  checkRequired(violations, "statementId", req.statementId, ADD_STATEMENT_ID);
  checkRequired(violations, "action", req.action, ACTION);
  checkRequired(violations, "principal", req.principal, PRINCIPAL);
  const sourceArn = checkOptional(violations, "sourceArn", req.sourceArn, SOURCE_ARN);
  const sourceAccount = checkOptional(violations, "sourceAccount", req.sourceAccount, SOURCE_ACCOUNT);
  const eventSourceToken = checkOptional(violations, "eventSourceToken", req.eventSourceToken, EVENT_SOURCE_TOKEN);
  const revisionId = checkOptional(violations, "revisionId", req.revisionId, REVISION_ID);
  const principalOrgId = checkOptional(violations, "principalOrgId", req.principalOrgId, PRINCIPAL_ORG_ID);
  const functionUrlAuthType = functionUrlAuthTypeOf(violations, req.functionUrlAuthType);
  const idempotencyKey = checkOptional(violations, "idempotencyKey", req.idempotencyKey, TOKEN);
  throwIfAny(violations);
  if (target.function === undefined) throw new RequestValidationError(violations);

  return compact({
    input: compact({
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
    }),
    idempotencyKey,
  });
}

export function parseGetLambdaPolicyRequest(req: GetLambdaPolicyRequest): GetLambdaPolicyInput {
  const violations: Violations = [];
  const target = checkFunctionAndQualifier(violations, req.functionName, req.qualifier);
  throwIfAny(violations);
  if (target.function === undefined) throw new RequestValidationError(violations);
  return compact({ function: target.function, qualifier: target.qualifier });
}

export interface ParsedDeleteRamPermissionRequest {
  readonly permission: RamPermissionRef;
  readonly clientToken?: string | undefined;
}

/**
 * AWS managed ARNs pass here on purpose: deleting one is RAM's
 * OperationNotPermittedException (FAILED_PRECONDITION, DESIGN.md section 5),
 * which the backend answers, not an invalid argument.
 */
export function parseDeleteRamPermissionRequest(req: DeleteRamPermissionRequest): ParsedDeleteRamPermissionRequest {
  const violations: Violations = [];
  const permission = checkPermissionArn(violations, req.permissionArn);
  const clientToken = checkOptional(violations, "clientToken", req.clientToken, TOKEN);
  throwIfAny(violations);
  if (permission === undefined) throw new RequestValidationError(violations);
  return compact({ permission, clientToken });
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
  checkRequired(violations, "name", req.name, RAM_PERMISSION_NAME);
  checkRequired(violations, "resourceType", req.resourceType, RESOURCE_TYPE);
  checkRequired(violations, "policyTemplate", req.policyTemplate, POLICY_TEMPLATE);
  const clientToken = checkOptional(violations, "clientToken", req.clientToken, TOKEN);
  const tags = checkTags(violations, req.tags);
  throwIfAny(violations);
  return compact({
    name: req.name,
    resourceType: req.resourceType,
    policyTemplate: req.policyTemplate,
    tags,
    clientToken,
  });
}

export function parseGetRamPermissionRequest(req: GetRamPermissionRequest): GetRamPermissionInput {
  const violations: Violations = [];
  const permission = checkPermissionArn(violations, req.permissionArn);
  const permissionVersion = req.permissionVersion;
  if (permissionVersion !== undefined && permissionVersion < 1) {
    violate(violations, "permissionVersion", "Member must have value greater than or equal to 1");
  }
  throwIfAny(violations);
  if (permission === undefined) throw new RequestValidationError(violations);
  return compact({ permission, permissionVersion });
}

function permissionTypeOf(violations: Violations, value: PermissionTypeEnum): RamPermissionType | undefined {
  switch (value) {
    case PermissionTypeEnum.UNSPECIFIED:
      return undefined;
    case PermissionTypeEnum.AWS_MANAGED:
      return "AWS_MANAGED";
    case PermissionTypeEnum.CUSTOMER_MANAGED:
      return "CUSTOMER_MANAGED";
    default:
      violate(
        violations,
        "permissionType",
        "Member must satisfy enum value set: [PERMISSION_TYPE_UNSPECIFIED, PERMISSION_TYPE_AWS_MANAGED, PERMISSION_TYPE_CUSTOMER_MANAGED]",
      );
      return undefined;
  }
}

export function parseListRamPermissionsRequest(req: ListRamPermissionsRequest): ListRamPermissionsInput {
  const violations: Violations = [];
  // Plain proto3 strings: empty means "no filter" / "first page".
  const resourceType =
    req.resourceType === "" ? undefined : checkOptional(violations, "resourceType", req.resourceType, RESOURCE_TYPE);
  const permissionType = permissionTypeOf(violations, req.permissionType);
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
  return compact({ resourceType, permissionType, maxResults, nextToken });
}

// The constraints the service models put on the request members of the
// seven operations (botocore lambda/2015-03-31 and ram/2018-01-04: `min`,
// `max`, `pattern`, `enum` of each member's shape), with patterns kept as the
// models print them, because AWS quotes them verbatim when a value breaks
// one. The gateway's validation and the fakes' checks read this one table.
import { FUNCTION_NAME_PATTERN } from "./arn.js";

export interface FieldRule {
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  /** The model's pattern; AWS matches it against the whole value. */
  readonly pattern?: string | undefined;
  readonly values?: readonly string[] | undefined;
}

export const lambdaFieldRules = {
  /** NamespacedFunctionName. "If you specify only the function name, it is limited to 64 characters." */
  functionName: { min: 1, max: 256, pattern: FUNCTION_NAME_PATTERN },
  /** AddPermission's StatementId: no dot. */
  addStatementId: { min: 1, max: 100, pattern: "([a-zA-Z0-9-_]+)" },
  /** RemovePermission's NamespacedStatementId: dots allowed. */
  removeStatementId: { min: 1, max: 100, pattern: "([a-zA-Z0-9-_.]+)" },
  action: { min: 0, max: 10000, pattern: "(lambda:[*]|lambda:[a-zA-Z]+|[*])" },
  principal: { min: 0, max: 2048, pattern: "[^\\s]+" },
  sourceArn: {
    min: 0,
    max: 10000,
    pattern:
      "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)",
  },
  sourceAccount: { min: 0, max: 12, pattern: "\\d{12}" },
  eventSourceToken: { min: 0, max: 256, pattern: "[a-zA-Z0-9._\\-]+" },
  /** NumericLatestPublishedOrAliasQualifier. */
  qualifier: { min: 1, max: 128, pattern: "\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+" },
  principalOrgId: { min: 12, max: 34, pattern: "o-[a-z0-9]{10,32}" },
  functionUrlAuthType: { values: ["NONE", "AWS_IAM"] },
  /** The name part of a function name: the pattern's name group, and the model's documented 64 characters. */
  bareFunctionName: { min: 1, max: 64, pattern: "[a-zA-Z0-9-_\\.]+" },
  /** An alias name: never all digits, which would read as a version. */
  alias: { min: 1, max: 128, pattern: "(?!^[0-9]+$)([a-zA-Z0-9-_]+)" },
  version: { min: 1, max: 1024, pattern: "(\\$LATEST|[0-9]+)" },
} as const satisfies Record<string, FieldRule>;

export const ramFieldRules = {
  /** PermissionName. */
  permissionName: { min: 1, max: 36, pattern: "[\\w.-]*" },
  /** MaxResults (an integer: min and max bound its value). */
  maxResults: { min: 1, max: 500 },
  /** PermissionTypeFilter. */
  permissionType: { values: ["ALL", "AWS_MANAGED", "CUSTOMER_MANAGED"] },
} as const satisfies Record<string, FieldRule>;

const compiled = new Map<string, RegExp>();

/** Whether `value` matches the model pattern as a whole, as AWS matches it. */
export function matchesPattern(value: string, pattern: string): boolean {
  let regex = compiled.get(pattern);
  if (regex === undefined) {
    regex = new RegExp(`^(?:${pattern})$`);
    compiled.set(pattern, regex);
  }
  return regex.test(value);
}

/**
 * The length in characters (code points, not UTF-16 units), counted only as
 * far as `limit + 1`: enough to compare with the limit. A value longer than
 * twice the limit in UTF-16 units has more than `limit` code points (each
 * takes one or two units) and is not walked at all, so a huge value costs
 * O(limit), not O(length).
 */
export function lengthUpTo(value: string, limit: number): number {
  if (value.length > 2 * limit) return limit + 1;
  let count = 0;
  for (let i = 0; i < value.length && count <= limit; count++) {
    i += isSurrogatePair(value, i) ? 2 : 1;
  }
  return count;
}

function isSurrogatePair(value: string, index: number): boolean {
  const high = value.charCodeAt(index);
  const low = value.charCodeAt(index + 1);
  return high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff;
}

/** The first constraint `value` breaks, in AWS's words ("Member must ..."), or undefined. */
/**
 * Whether the value has more than `max` characters. No more UTF-16 units
 * than `max` means no more characters either, which settles the common case
 * without walking the string.
 */
export function longerThan(value: string, max: number): boolean {
  return value.length > max && lengthUpTo(value, max) > max;
}

/** Whether the value has fewer than `min` characters; at least 2 x min units always have enough. */
export function shorterThan(value: string, min: number): boolean {
  return value.length < 2 * min && lengthUpTo(value, min) < min;
}

export function brokenConstraint(value: string, rule: FieldRule): string | undefined {
  if (rule.min !== undefined && rule.min > 0 && shorterThan(value, rule.min)) {
    return `Member must have length greater than or equal to ${rule.min}`;
  }
  if (rule.max !== undefined && longerThan(value, rule.max)) {
    return `Member must have length less than or equal to ${rule.max}`;
  }
  if (rule.values !== undefined && !rule.values.includes(value)) {
    return `Member must satisfy enum value set: [${rule.values.join(", ")}]`;
  }
  if (rule.pattern !== undefined && !matchesPattern(value, rule.pattern)) {
    return `Member must satisfy regular expression pattern: ${rule.pattern}`;
  }
  return undefined;
}

/**
 * One broken constraint as AWS's front end words it, or undefined when the
 * value is fine: "Value '<value>' at '<member>' failed to satisfy constraint:
 * Member must ...". A required member that is absent is "Value null at ...".
 */
export function constraintViolation(
  member: string,
  value: string | undefined,
  rule: FieldRule,
  required = false,
): string | undefined {
  const at = `at '${member}' failed to satisfy constraint`;
  if (value === undefined) return required ? `Value null ${at}: Member must not be null` : undefined;
  const broken = brokenConstraint(value, rule);
  return broken === undefined ? undefined : `Value '${value}' ${at}: ${broken}`;
}

/** The message of Lambda's ValidationException: every broken constraint, counted. */
export function validationExceptionMessage(violations: readonly string[]): string {
  const count =
    violations.length === 1 ? "1 validation error detected" : `${violations.length} validation errors detected`;
  return `${count}: ${violations.join("; ")}`;
}

/** The members of the three Lambda operations, as strings off the wire. */
export interface LambdaPermissionMembers {
  readonly functionName?: string | undefined;
  readonly statementId?: string | undefined;
  readonly action?: string | undefined;
  readonly principal?: string | undefined;
  readonly sourceArn?: string | undefined;
  readonly sourceAccount?: string | undefined;
  readonly eventSourceToken?: string | undefined;
  readonly qualifier?: string | undefined;
  readonly principalOrgId?: string | undefined;
  readonly functionUrlAuthType?: string | undefined;
}

type LambdaOperation = "AddPermission" | "RemovePermission" | "GetPolicy";

/**
 * Every constraint the members break, in the words of Lambda's
 * ValidationException (member names as Lambda spells them there), required
 * members included.
 */
export function lambdaConstraintViolations(operation: LambdaOperation, m: LambdaPermissionMembers): string[] {
  const r = lambdaFieldRules;
  const checks: [string, string | undefined, FieldRule, boolean][] = [
    ["functionName", m.functionName, r.functionName, true],
  ];
  if (operation === "AddPermission") {
    checks.push(
      ["statementId", m.statementId, r.addStatementId, true],
      ["action", m.action, r.action, true],
      ["principal", m.principal, r.principal, true],
      ["sourceArn", m.sourceArn, r.sourceArn, false],
      ["sourceAccount", m.sourceAccount, r.sourceAccount, false],
      ["eventSourceToken", m.eventSourceToken, r.eventSourceToken, false],
    );
  }
  if (operation === "RemovePermission") checks.push(["statementId", m.statementId, r.removeStatementId, true]);
  checks.push(["qualifier", m.qualifier, r.qualifier, false]);
  if (operation === "AddPermission") {
    checks.push(
      ["principalOrgID", m.principalOrgId, r.principalOrgId, false],
      ["functionUrlAuthType", m.functionUrlAuthType, r.functionUrlAuthType, false],
    );
  }
  return checks.flatMap(([member, value, rule, required]) => constraintViolation(member, value, rule, required) ?? []);
}

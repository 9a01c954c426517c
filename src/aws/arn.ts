// Parsing and building of the identifiers the AWS API references define for
// Lambda functions and RAM permissions. Pure functions: they answer "what is
// this" or undefined; src/validation.ts decides what a caller is told, and
// whether a Region exists in its partition is partitions.ts's question.
import type { LambdaFunctionRef, RamPermissionRef } from "../backend/backend.js";

/**
 * The FunctionName pattern of the current Lambda model (botocore
 * lambda/2015-03-31, shape NamespacedFunctionName: it knows `aws-eusc`'s
 * `eusc-` Regions, `$LATEST.PUBLISHED` and dotted names), quoted verbatim in
 * violations, as Lambda quotes it.
 */
export const FUNCTION_NAME_PATTERN =
  "(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:|(((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?))(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";

// AWS matches the whole value, not a substring.
const FUNCTION_NAME_RE = new RegExp(`^(?:${FUNCTION_NAME_PATTERN})$`);

const LAMBDA_PARTITION_RE = /^aws[a-zA-Z-]*$/;
const LAMBDA_REGION_RE = /^(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d$/;
const ACCOUNT_RE = /^\d{12}$/;
const FUNCTION_BARE_NAME_RE = /^[a-zA-Z0-9_.-]+$/;
const FUNCTION_NAME_QUALIFIER_RE = /^(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9_-]+)$/;

/** A function reference plus the ":qualifier" suffix the caller appended, if any. */
export type ParsedFunctionName = LambdaFunctionRef & { readonly qualifier?: string | undefined };

/** Whether the value matches the model's FunctionName pattern as a whole. */
export function matchesFunctionNamePattern(value: string): boolean {
  return FUNCTION_NAME_RE.test(value);
}

/**
 * Parses a Lambda FunctionName in one of the documented forms: a name
 * ("my-fn"), a partial ARN ("123456789012:my-fn",
 * "123456789012:function:my-fn") or a full ARN
 * ("arn:aws:lambda:us-west-2:123456789012:function:my-fn"), each optionally
 * followed by ":<version or alias>". Undefined when the value does not match
 * the pattern or is not one of those forms.
 *
 * The regular expression alone cannot be used to split the value: it is
 * ambiguous ("my-fn-1:live" would read as region "my-fn-1" plus name
 * "live"), so the parts are taken by position once the pattern matched.
 */
export function parseFunctionName(value: string): ParsedFunctionName | undefined {
  return parse(value, false);
}

/**
 * Lambda's own reading of its pattern, for the fake AWS endpoint: besides the
 * documented forms, a full ARN whose resource part lacks "function:" names
 * the function by what follows the account, so
 * "arn:aws:lambda:us-east-1:123456789012:function" is the function named
 * "function" (Lambda looks it up and answers not found, it does not refuse it).
 */
export function parseFunctionNameAsLambda(value: string): ParsedFunctionName | undefined {
  return parse(value, true);
}

function parse(value: string, lambdaReading: boolean): ParsedFunctionName | undefined {
  if (!FUNCTION_NAME_RE.test(value)) return undefined;
  const parts = value.split(":");
  const first = parts[0] ?? "";
  if (first === "arn") return parseFullArn(parts, lambdaReading);

  if (ACCOUNT_RE.test(first) && parts.length >= 2) {
    // <account>:function:<name>[:<qualifier>] wins over <account>:<name>[:<qualifier>]
    // whenever the second part is literally "function", as the pattern's
    // greedy "(function:)?" group does.
    if (parts[1] === "function" && (parts.length === 3 || parts.length === 4)) {
      return buildParsed(parts.slice(0, 3).join(":"), parts[2] ?? "", parts[3], { account: first });
    }
    if (parts.length === 2 || parts.length === 3) {
      return buildParsed(parts.slice(0, 2).join(":"), parts[1] ?? "", parts[2], { account: first });
    }
    return undefined;
  }

  if (parts.length === 1 || parts.length === 2) {
    return buildParsed(first, first, parts[1], {});
  }
  return undefined;
}

/** arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>] */
function parseFullArn(parts: readonly string[], lambdaReading: boolean): ParsedFunctionName | undefined {
  const [, partition = "", service, region = "", account = "", ...resource] = parts;
  if (service !== "lambda") return undefined;
  if (!LAMBDA_PARTITION_RE.test(partition) || !LAMBDA_REGION_RE.test(region) || !ACCOUNT_RE.test(account)) {
    return undefined;
  }
  const origin = { account, region, partition };
  const base = parts.slice(0, 5).join(":");
  if (resource[0] === "function" && (resource.length === 2 || resource.length === 3)) {
    return buildParsed(`${base}:function:${resource[1] ?? ""}`, resource[1] ?? "", resource[2], origin);
  }
  if (lambdaReading && (resource.length === 1 || resource.length === 2)) {
    return buildParsed(`${base}:${resource[0] ?? ""}`, resource[0] ?? "", resource[1], origin);
  }
  return undefined;
}

function buildParsed(
  functionName: string,
  name: string,
  qualifier: string | undefined,
  origin: { account?: string; region?: string; partition?: string },
): ParsedFunctionName | undefined {
  if (!FUNCTION_BARE_NAME_RE.test(name)) return undefined;
  if (qualifier !== undefined && !FUNCTION_NAME_QUALIFIER_RE.test(qualifier)) return undefined;
  return {
    functionName,
    name,
    ...(origin.account === undefined ? {} : { account: origin.account }),
    ...(origin.region === undefined ? {} : { region: origin.region }),
    ...(origin.partition === undefined ? {} : { partition: origin.partition }),
    ...(qualifier === undefined ? {} : { qualifier }),
  };
}

export interface LambdaFunctionArnParts {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly name: string;
  readonly qualifier?: string | undefined;
}

/** arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>] */
export function lambdaFunctionArn(parts: LambdaFunctionArnParts): string {
  const base = `arn:${parts.partition}:lambda:${parts.region}:${parts.account}:function:${parts.name}`;
  return parts.qualifier === undefined ? base : `${base}:${parts.qualifier}`;
}

// RAM permission ARNs. The partition and region shapes are looser than
// Lambda's FunctionName pattern on purpose: RAM documents no pattern; whether
// the Region exists in the partition is checked against partitions.ts.
const RAM_PERMISSION_ARN_RE = /^arn:(aws(?:-[a-z]+)*):ram:([^:]*):([^:]*):permission\/([\w.-]+)$/;
const RAM_REGION_RE = /^[a-z]{2,}(-[a-z]+)+-\d+$/;
const AWS_MANAGED_ACCOUNT = "aws";

/**
 * Parses a RAM permission ARN: customer managed
 * `arn:<partition>:ram:<region>:<12-digit account>:permission/<name>` or AWS
 * managed `arn:<partition>:ram::aws:permission/<name>`.
 */
export function parseRamPermissionArn(value: string): RamPermissionRef | undefined {
  const match = RAM_PERMISSION_ARN_RE.exec(value);
  if (match === null) return undefined;
  const [, partition = "", region = "", account = "", name = ""] = match;
  if (region === "" && account === AWS_MANAGED_ACCOUNT) {
    return { arn: value, partition, region, account, name, awsManaged: true };
  }
  if (RAM_REGION_RE.test(region) && ACCOUNT_RE.test(account)) {
    return { arn: value, partition, region, account, name, awsManaged: false };
  }
  return undefined;
}

export type RamPermissionArnParts = Pick<RamPermissionRef, "partition" | "region" | "account" | "name">;

/** arn:<partition>:ram:<region>:<account>:permission/<name> ("ram::aws:" when AWS managed). */
export function ramPermissionArn(parts: RamPermissionArnParts): string {
  return `arn:${parts.partition}:ram:${parts.region}:${parts.account}:permission/${parts.name}`;
}

/** The ARN of an AWS managed permission, e.g. AWSRAMDefaultPermissionEC2Subnet. */
export function awsManagedRamPermissionArn(name: string, partition = "aws"): string {
  return ramPermissionArn({ partition, region: "", account: AWS_MANAGED_ACCOUNT, name });
}

// The policy statement Lambda writes for an AddPermission request, exactly as
// it writes it (recorded statements: test/fixtures/aws-recorded-answers.json):
// member order Sid, Effect, Principal, Action, Resource, Condition; an
// account becomes its root ARN, a service a Service principal; the optional
// parameters become conditions, StringEquals (AWS:SourceAccount,
// lambda:FunctionUrlAuthType, aws:PrincipalOrgID, in that recorded order)
// before ArnLike (AWS:SourceArn). The fake renders statements with it, and
// reconciliation compares what GetPolicy shows against it.
import type { AddLambdaPermissionInput, LambdaFunctionRef } from "../backend/backend.js";
import { parseFunctionName } from "./arn.js";
import { AWS_PARTITIONS } from "./partitions.js";

/** The members of AddPermission that shape the statement. */
export type StatementRequest = Pick<
  AddLambdaPermissionInput,
  | "statementId"
  | "action"
  | "principal"
  | "sourceArn"
  | "sourceAccount"
  | "eventSourceToken"
  | "principalOrgId"
  | "functionUrlAuthType"
  | "invokedViaFunctionUrl"
>;

export type StatementPrincipal = "*" | { readonly AWS: string } | { readonly Service: string };

export interface LambdaStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Principal: StatementPrincipal;
  readonly Action: string;
  readonly Resource: string;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

const ACCOUNT_RE = /^\d{12}$/;
const IDENTITY_ARN_RE = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:\S+$/;
const SERVICE_NAME_RE = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$/;
/**
 * Lambda checks a service principal against the services it knows (it
 * refuses "invalid.nonaws.com"). That list is not published; the domains of
 * AWS's service principals stand in for it: each partition's own, and
 * amazon.com, where the Alexa principals live (alexa-appkit.amazon.com).
 */
const SERVICE_DOMAINS = [...new Set(["amazon.com", ...AWS_PARTITIONS.map((partition) => partition.dnsSuffix)])];

/** Whether Lambda accepts `principal`: "*", an account ID, an IAM or STS ARN, or a service principal. */
export function isValidLambdaPrincipal(principal: string): boolean {
  if (principal === "*" || ACCOUNT_RE.test(principal) || IDENTITY_ARN_RE.test(principal)) return true;
  return SERVICE_NAME_RE.test(principal) && SERVICE_DOMAINS.some((domain) => principal.endsWith(`.${domain}`));
}

function principalOf(principal: string, partition: string): StatementPrincipal {
  if (principal === "*") return "*";
  if (ACCOUNT_RE.test(principal)) return { AWS: `arn:${partition}:iam::${principal}:root` };
  if (principal.startsWith("arn:")) return { AWS: principal };
  return { Service: principal };
}

/** The statement AddPermission adds to the policy of `resourceArn` (qualified when a qualifier was given). */
export function renderLambdaStatement(
  request: StatementRequest,
  resourceArn: string,
  partition: string,
): LambdaStatement {
  const stringEquals: Record<string, string> = {};
  if (request.sourceAccount !== undefined) stringEquals["AWS:SourceAccount"] = request.sourceAccount;
  if (request.functionUrlAuthType !== undefined)
    stringEquals["lambda:FunctionUrlAuthType"] = request.functionUrlAuthType;
  if (request.principalOrgId !== undefined) stringEquals["aws:PrincipalOrgID"] = request.principalOrgId;
  // Recorded only on its own; Lambda refuses it together with a source.
  if (request.eventSourceToken !== undefined) stringEquals["lambda:EventSourceToken"] = request.eventSourceToken;
  const condition: Record<string, Record<string, string>> = {};
  if (Object.keys(stringEquals).length > 0) condition["StringEquals"] = stringEquals;
  if (request.sourceArn !== undefined) condition["ArnLike"] = { "AWS:SourceArn": request.sourceArn };
  // A Bool condition key (the Lambda documentation's form); its place after ArnLike is not recorded.
  if (request.invokedViaFunctionUrl !== undefined) {
    condition["Bool"] = { "lambda:InvokedViaFunctionUrl": String(request.invokedViaFunctionUrl) };
  }
  return {
    Sid: request.statementId,
    Effect: "Allow",
    Principal: principalOf(request.principal, partition),
    Action: request.action,
    Resource: resourceArn,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}

/** Where the statement must point: the function as the request named it, and its qualifier. */
export type StatementTarget = Pick<LambdaFunctionRef, "name" | "account" | "region" | "partition"> & {
  readonly qualifier?: string | undefined;
};

/**
 * Whether `actual` (a statement as GetPolicy shows it) is the one `request`
 * would have added to `target`: the same members and values in any order.
 * The request may name its function without account or Region; then the
 * statement's own Resource supplies them, as long as it names the same
 * function and qualifier.
 */
export function statementMatchesRequest(actual: unknown, request: StatementRequest, target: StatementTarget): boolean {
  if (!isRecord(actual) || typeof actual["Resource"] !== "string") return false;
  const resource = parseFunctionName(actual["Resource"]);
  if (resource?.partition === undefined) return false;
  const sameTarget =
    resource.name === target.name &&
    resource.qualifier === (target.qualifier === "$LATEST" ? undefined : target.qualifier) &&
    (target.account === undefined || target.account === resource.account) &&
    (target.region === undefined || target.region === resource.region) &&
    (target.partition === undefined || target.partition === resource.partition);
  return sameTarget && sameJson(actual, renderLambdaStatement(request, actual["Resource"], resource.partition));
}

/** Deep equality of JSON values, ignoring member order; a one-element list equals its element, as IAM reads it. */
function sameJson(a: unknown, b: unknown): boolean {
  const left = Array.isArray(a) && a.length === 1 ? (a[0] as unknown) : a;
  const right = Array.isArray(b) && b.length === 1 ? (b[0] as unknown) : b;
  if (Array.isArray(left) || Array.isArray(right)) {
    return (
      Array.isArray(left) &&
      Array.isArray(right) &&
      left.length === right.length &&
      left.every((item, i) => sameJson(item, right[i]))
    );
  }
  if (isRecord(left) && isRecord(right)) {
    const keys = Object.keys(left);
    return (
      keys.length === Object.keys(right).length &&
      keys.every((key) => Object.hasOwn(right, key) && sameJson(left[key], right[key]))
    );
  }
  return left === right;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

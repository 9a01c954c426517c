// Lambda's answers in its own words, as recorded against real Lambda
// (test/fixtures/aws-recorded-answers.json gives each one's source). The fake
// builds its messages here, and the AWS adapter reads real answers with the
// same table, so the two cannot drift apart. Lambda answers
// ResourceNotFoundException for a missing function, version, alias, policy
// or statement alike; only the message tells them apart, and only some
// messages tell it with certainty.
import type { MissingResource } from "../backend/errors.js";

export const lambdaMessages = {
  /** AddPermission on an unknown function (unqualified ARN) or version (qualified ARN). */
  functionNotFound: (arn: string) => `Function not found: ${arn}`,
  /** AddPermission or RemovePermission naming an alias that does not exist. */
  aliasNotFound: (qualifiedArn: string) => `Cannot find alias arn: ${qualifiedArn}`,
  /** RemovePermission on an unknown function. */
  noPolicyFound: (arn: string) => `No policy found for: ${arn}`,
  /** RemovePermission on a function (or version, alias) that exists and has no policy. */
  noPolicy: "No policy is associated with the given resource.",
  /** GetPolicy on an unknown function or version, and on one without a policy: the same words. */
  resourceNotFound: "The resource you requested does not exist.",
  /** RemovePermission of a statement ID the policy does not have. */
  statementNotFound: (statementId: string) => `Statement ${statementId} is not found in resource policy.`,
  duplicateStatement: (statementId: string) =>
    `The statement id (${statementId}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
  revisionMismatch:
    "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id",
  latestNotSupported: "We currently do not support adding policies for $LATEST.",
  qualifierMismatch: "The derived qualifier from the function name does not match the specified qualifier.",
  invalidPrincipal: "The provided principal was invalid. Please check the principal and try again.",
} as const;

/**
 * What a Lambda ResourceNotFoundException says is missing, only where its
 * message says so with certainty; anything else is undefined, which the
 * gateway answers as NOT_FOUND even with allow_missing. In particular
 * "No policy found for: <ARN>" (RemovePermission on an unknown function) and
 * "The resource you requested does not exist." (GetPolicy, function or
 * policy alike) never count as a gone statement.
 */
export function missingResourceOfLambdaMessage(message: string): MissingResource | undefined {
  const functionArn = /^Function not found: (\S+)$/.exec(message)?.[1];
  if (functionArn !== undefined) return /:function:[^:]+:[^:]+$/.test(functionArn) ? "qualifier" : "function";
  if (/^Cannot find alias arn: \S+$/.test(message)) return "qualifier";
  if (message === lambdaMessages.noPolicy) return "policy";
  if (/^Statement \S+ is not found in resource policy\.$/.test(message)) return "statement";
  return undefined;
}

/**
 * Lambda answers ResourceConflictException both for a duplicate statement ID
 * and for an operation in progress ("An update is in progress for resource:
 * ..."). Only the recorded duplicate wording is a definitive ALREADY_EXISTS;
 * anything else (the model's own summary "already exists, or another
 * operation is in progress" included) must stay retryable.
 */
export function isDuplicateStatementConflict(message: string): boolean {
  return /^The statement id \(.+\) provided already exists\./.test(message);
}

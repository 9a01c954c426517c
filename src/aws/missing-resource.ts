// What a not-found answer says is missing: one rule, read by the AWS adapter
// for real answers and by the fake backend for its own, so that a missing
// function, qualifier, policy, statement or permission answers alike from
// both. Unclassified unless certain, which the service treats as a plain
// NOT_FOUND even with allow_missing. Lambda tells only by its message
// (lambda-answers.ts); RAM's answers only inform, and nothing turns a missing
// permission into success.
import type { AwsService, MissingResource } from "../backend/errors.js";
import { LAMBDA_ERRORS, RAM_ERRORS } from "./error-catalogue.js";
import { missingResourceOfLambdaMessage } from "./lambda-answers.js";

/** `permissionVersion`: GetPermission with an explicit version, where a missing resource may be that version. */
export function missingResourceOf(
  service: AwsService,
  code: string,
  message: string,
  permissionVersion?: number,
): MissingResource | undefined {
  if (service === "ram") {
    if (code !== RAM_ERRORS.UnknownResourceException) return undefined;
    return permissionVersion !== undefined && /\bversion\b/i.test(message) ? "permission-version" : "permission";
  }
  return code === LAMBDA_ERRORS.ResourceNotFoundException ? missingResourceOfLambdaMessage(message) : undefined;
}

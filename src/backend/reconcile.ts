// A decorator of any PermissionBackend that settles unknown outcomes of the
// Lambda mutations by reading the actual policy, instead of answering a
// failure for work that succeeded. Two cases need it:
// - an attempt may have taken effect and no certain answer came: no answer
//   at all, or a 5xx, which AWS may give after making the change (the AWS
//   adapter throws UpstreamOutcomeUnknownError, also when a later SDK retry
//   then met the change as "already exists" or "not found"; the fake answers
//   the 5xx itself);
// - the call took over the token of an earlier attempt that may have reached
//   AWS (CallOptions.afterTakeover), and got an answer that earlier attempt's
//   own effect would explain: a duplicate statement ID, a changed RevisionId,
//   a statement already gone.
// AddLambdaPermission that finds its own statement (same Sid, same content)
// succeeds with it; RemoveLambdaPermission that finds the statement gone
// succeeds; a different statement under the Sid stays ALREADY_EXISTS; when
// the read cannot settle it, the caller is told the outcome is unknown, so
// its retry reconciles again. RAM is left alone: its clientToken already
// makes a retry safe.
import type {
  AddLambdaPermissionInput,
  AddLambdaPermissionOutput,
  CallOptions,
  LambdaFunctionRef,
  PermissionBackend,
  RemoveLambdaPermissionInput,
  RemoveLambdaPermissionOutput,
} from "./backend.js";
import { abortReasonOf } from "./abort.js";
import { decorateBackend } from "./decorate.js";
import { AwsApiError, isAwsApiError, isUpstreamOutcomeUnknownError, UpstreamOutcomeUnknownError } from "./errors.js";
import { awsErrorSpec, LAMBDA_ERRORS } from "../aws/error-catalogue.js";
import { isDuplicateStatementConflict, lambdaMessages } from "../aws/lambda-answers.js";
import { statementMatchesRequest } from "../aws/lambda-statement.js";
import { systemClock, type Clock } from "../clock.js";
import type { Logger } from "../logger.js";

export interface ReconcilingBackendOptions {
  readonly logger: Logger;
  /** Tells a caller's deadline from its cancellation. Default: the system clock. */
  readonly clock?: Clock | undefined;
}

type Rpc = "AddLambdaPermission" | "RemoveLambdaPermission";

/** What GetPolicy showed: the statement under the Sid, none, or nothing readable. */
type PolicyRead =
  | { readonly kind: "statement"; readonly statement: unknown; readonly awsRequestId?: string | undefined }
  | { readonly kind: "no-statement"; readonly awsRequestId?: string | undefined }
  | { readonly kind: "no-policy" }
  | { readonly kind: "unreadable"; readonly error: unknown };

export function createReconcilingBackend(
  inner: PermissionBackend,
  options: ReconcilingBackendOptions,
): PermissionBackend {
  const { logger } = options;
  const clock = options.clock ?? systemClock;

  const logged = (rpc: Rpc, why: string, outcome: string): void =>
    logger.info("reconciled an uncertain mutation", { rpc, why, outcome });

  async function readStatement(
    fn: LambdaFunctionRef,
    qualifier: string | undefined,
    statementId: string,
    call: CallOptions,
  ): Promise<PolicyRead> {
    try {
      const output = await inner.getLambdaPolicy({ function: fn, qualifier }, call);
      const document = JSON.parse(output.policy) as { Statement?: unknown };
      const statements = Array.isArray(document.Statement) ? (document.Statement as unknown[]) : [];
      const statement = statements.find(
        (s) => typeof s === "object" && s !== null && (s as { Sid?: unknown }).Sid === statementId,
      );
      return statement === undefined
        ? { kind: "no-statement", awsRequestId: output.awsRequestId }
        : { kind: "statement", statement, awsRequestId: output.awsRequestId };
    } catch (error) {
      // Also what GetPolicy says for a function that is gone: never read as "gone statement" alone.
      if (isAwsApiError(error) && error.code === LAMBDA_ERRORS.ResourceNotFoundException) return { kind: "no-policy" };
      return { kind: "unreadable", error };
    }
  }

  /** The caller is told the effect could not be confirmed; its retry reconciles again. */
  function unconfirmed(
    rpc: Rpc,
    why: string,
    detail: string,
    cause: unknown,
    call: CallOptions,
  ): UpstreamOutcomeUnknownError {
    logged(rpc, why, "unknown");
    return new UpstreamOutcomeUnknownError(
      "lambda",
      `${rpc} may have taken effect and its effect could not be confirmed: ${detail}`,
      {
        cause,
        abort: call.signal.aborted ? abortReasonOf(call, clock.now()) : undefined,
      },
    );
  }

  async function reconcileAdd(
    input: AddLambdaPermissionInput,
    call: CallOptions,
    original: unknown,
    why: string,
  ): Promise<AddLambdaPermissionOutput> {
    const rpc = "AddLambdaPermission";
    const read = await readStatement(input.function, input.qualifier, input.statementId, call);
    if (read.kind === "statement") {
      if (statementMatchesRequest(read.statement, input, { ...input.function, qualifier: input.qualifier })) {
        logged(rpc, why, "success: its own statement is in the policy");
        return { statement: JSON.stringify(read.statement), reconciled: true, awsRequestId: read.awsRequestId };
      }
      logged(rpc, why, "already exists: another statement holds the Sid");
      throw isAwsApiError(original) && original.code === LAMBDA_ERRORS.ResourceConflictException
        ? original
        : duplicateStatement(input.statementId, read.awsRequestId);
    }
    if (read.kind === "unreadable") throw unconfirmed(rpc, why, "the policy could not be read", read.error, call);
    // Its statement is not there: a changed RevisionId was not its own doing.
    if (isAwsApiError(original) && original.code === LAMBDA_ERRORS.PreconditionFailedException) {
      logged(rpc, why, "precondition failed: the statement is not there");
      throw original;
    }
    throw unconfirmed(rpc, why, `the policy has no statement ${input.statementId}`, original, call);
  }

  async function reconcileRemove(
    input: RemoveLambdaPermissionInput,
    call: CallOptions,
    original: unknown,
    why: string,
  ): Promise<RemoveLambdaPermissionOutput> {
    const rpc = "RemoveLambdaPermission";
    const read = await readStatement(input.function, input.qualifier, input.statementId, call);
    const revisionChanged = isAwsApiError(original) && original.code === LAMBDA_ERRORS.PreconditionFailedException;
    // The RevisionId check found the function, so no policy at all means no statement.
    if (read.kind === "no-statement" || (read.kind === "no-policy" && revisionChanged)) {
      logged(rpc, why, "success: the statement is gone");
      return { reconciled: true, ...(read.kind === "no-statement" ? { awsRequestId: read.awsRequestId } : {}) };
    }
    if (read.kind === "statement" && revisionChanged) {
      logged(rpc, why, "precondition failed: the statement is still there");
      throw original;
    }
    if (read.kind === "unreadable") throw unconfirmed(rpc, why, "the policy could not be read", read.error, call);
    const detail = read.kind === "statement" ? `statement ${input.statementId} is still there` : "no policy was found";
    throw unconfirmed(rpc, why, detail, original, call);
  }

  // Only the Lambda mutations; every other operation is the inner one.
  return decorateBackend(inner, undefined, {
    async addLambdaPermission(input, call) {
      try {
        return await inner.addLambdaPermission(input, call);
      } catch (error) {
        const why = reasonToReconcile(error, call, ["duplicate", "revision"]);
        if (why === undefined) throw error;
        return reconcileAdd(input, call, error, why);
      }
    },

    async removeLambdaPermission(input, call) {
      try {
        return await inner.removeLambdaPermission(input, call);
      } catch (error) {
        // Lambda's own answer proves the function exists and the statement is gone.
        if (
          call.afterTakeover === true &&
          isAwsApiError(error) &&
          (error.missing === "statement" || error.missing === "policy")
        ) {
          logged(
            "RemoveLambdaPermission",
            "a takeover found the statement already gone",
            "success: the statement is gone",
          );
          return { reconciled: true, awsRequestId: error.requestId };
        }
        const why = reasonToReconcile(error, call, ["revision"]);
        if (why === undefined) throw error;
        return reconcileRemove(input, call, error, why);
      }
    },
  });
}

/**
 * Why `error` may hide the call's own effect, or undefined when it is a plain
 * answer. A caller that is already gone has no time left to read anything.
 */
function reasonToReconcile(
  error: unknown,
  call: CallOptions,
  takeoverAnswers: readonly ("duplicate" | "revision")[],
): string | undefined {
  if (call.signal.aborted) return undefined;
  if (isUpstreamOutcomeUnknownError(error) && error.service === "lambda") return "the answer was lost";
  // AWS may answer 500 after it made the change: not a promise that nothing happened.
  if (isAwsApiError(error) && error.service === "lambda" && (error.httpStatus ?? 0) >= 500)
    return "AWS answered a server error, after which the change may have been made";
  if (call.afterTakeover !== true || !isAwsApiError(error) || error.service !== "lambda") return undefined;
  if (
    takeoverAnswers.includes("duplicate") &&
    error.code === LAMBDA_ERRORS.ResourceConflictException &&
    isDuplicateStatementConflict(error.message)
  ) {
    return "a takeover found the statement ID taken";
  }
  if (takeoverAnswers.includes("revision") && error.code === LAMBDA_ERRORS.PreconditionFailedException)
    return "a takeover found the RevisionId changed";
  return undefined;
}

function duplicateStatement(statementId: string, requestId: string | undefined): AwsApiError {
  return new AwsApiError({
    service: "lambda",
    code: LAMBDA_ERRORS.ResourceConflictException,
    message: lambdaMessages.duplicateStatement(statementId),
    httpStatus: awsErrorSpec("lambda", LAMBDA_ERRORS.ResourceConflictException)?.httpStatus,
    requestId,
  });
}

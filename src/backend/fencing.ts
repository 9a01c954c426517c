// Strict fencing of the Lambda mutations by RevisionId (LAMBDA_REVISION_FENCING,
// off by default): a decorator of any PermissionBackend that reads the
// policy's RevisionId (GetPolicy) right before each AddPermission and
// RemovePermission the caller did not fence itself, and sends it with the
// write. Lambda applies such a write only while the policy is unchanged, so
// a write that arrives late (a replica paused between its lease check and
// the wire, a request held in a network queue) fails with
// PreconditionFailedException once the token's new owner, or anyone else,
// has changed the policy, instead of undoing their work.
//
// Cost: one GetPolicy per fenced mutation, and GetPolicy has a request-rate
// quota of its own at Lambda. A write refused because the policy changed
// between the read and the write is not retried here (a blind re-read and
// retry would let a late write through after all): the caller gets a
// retryable conflict, and its retry, under a live lease, reads afresh.
// A function without a policy has no RevisionId to read: its first
// statement is written unfenced.
import type { CallOptions, LambdaFunctionRef, PermissionBackend } from "./backend.js";
import { decorateBackend } from "./decorate.js";
import { AwsApiError, isAwsApiError } from "./errors.js";
import { awsErrorSpec } from "../aws/error-catalogue.js";
import type { Logger } from "../logger.js";

export interface FencingBackendOptions {
  readonly logger: Logger;
}

/**
 * `inner` with its Lambda mutations fenced by the RevisionId read just
 * before; every other operation, and a mutation that carries the caller's
 * own RevisionId, is the inner one.
 */
export function createFencingBackend(inner: PermissionBackend, options: FencingBackendOptions): PermissionBackend {
  const { logger } = options;

  /** The policy's RevisionId now; undefined when the function has no policy (or is gone: the write will say). */
  async function currentRevision(
    fn: LambdaFunctionRef,
    qualifier: string | undefined,
    call: CallOptions,
  ): Promise<string | undefined> {
    try {
      const { revisionId } = await inner.getLambdaPolicy({ function: fn, qualifier }, call);
      return revisionId === "" ? undefined : revisionId;
    } catch (error) {
      if (isAwsApiError(error) && error.code === "ResourceNotFoundException") return undefined;
      throw error;
    }
  }

  async function fenced<
    I extends { function: LambdaFunctionRef; qualifier?: string | undefined; revisionId?: string | undefined },
    O,
  >(rpc: string, input: I, call: CallOptions, write: (input: I, call: CallOptions) => Promise<O>): Promise<O> {
    if (input.revisionId !== undefined) return write(input, call);
    const revisionId = await currentRevision(input.function, input.qualifier, call);
    try {
      return await write(revisionId === undefined ? input : { ...input, revisionId }, call);
    } catch (error) {
      if (revisionId === undefined || !isAwsApiError(error) || error.code !== "PreconditionFailedException")
        throw error;
      logger.info("a fenced write found the policy changed since its read; nothing was changed", { rpc });
      throw policyChanged(rpc, error);
    }
  }

  return decorateBackend(inner, undefined, {
    addLambdaPermission: (input, call) =>
      fenced("AddLambdaPermission", input, call, (i, c) => inner.addLambdaPermission(i, c)),
    removeLambdaPermission: (input, call) =>
      fenced("RemoveLambdaPermission", input, call, (i, c) => inner.removeLambdaPermission(i, c)),
  });
}

/**
 * Lambda's own word for "another change is in progress" (ABORTED, to be
 * retried), not its PreconditionFailedException: the caller gave no
 * RevisionId, and its retry will read the policy again.
 */
function policyChanged(rpc: string, cause: AwsApiError): AwsApiError {
  return new AwsApiError({
    service: "lambda",
    code: "ResourceConflictException",
    message: `${rpc}: the policy changed between the gateway's read of its RevisionId and the write; nothing was changed, retry`,
    httpStatus: awsErrorSpec("lambda", "ResourceConflictException")?.httpStatus,
    requestId: cause.requestId,
    cause,
  });
}

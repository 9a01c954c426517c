// The Authorizer port: one decision per call, from policies loaded once and
// replaced whole on reload. Adapters: cedar/ (the only one today).
import type { AuthorizationRequest } from "./request.js";

export interface AuthorizationDecision {
  readonly allowed: boolean;
  /** IDs of the policies that decided: the permits that allowed, or the forbids that denied; empty for the default deny. */
  readonly determiningPolicies: readonly string[];
  /** Policies skipped because they failed to evaluate ("<policy id>: <message>"); for the operator's log, never the caller. */
  readonly errors: readonly string[];
}

export type ReloadResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

export interface Authorizer {
  /**
   * Synchronous on purpose: a reload swaps the policy set between two calls
   * of this function, so no decision ever mixes an old and a new set.
   * Throws AuthorizationEvaluationError when the request cannot be evaluated
   * at all (a bug of the gateway, not of the caller).
   */
  authorize(request: AuthorizationRequest): AuthorizationDecision;
  /** Reads and validates the policies again; on any problem the policies in force stay. */
  reload(): Promise<ReloadResult>;
  /** IDs of the policies in force, in file order. */
  policyIds(): readonly string[];
  /** Stops looking for changes of the policy files. */
  close(): void;
}

/** The policies (or the schema) cannot be used: start-up stops, a reload keeps the old set. */
export class AuthzPolicyError extends Error {
  override readonly name = "AuthzPolicyError" as const;
  constructor(
    /** The policy file or directory (AUTHZ_POLICIES), or the schema file. */
    readonly source: string,
    /** One line each: "<file>:<line>:<column>: policy \"<id>\": <what is wrong>". */
    readonly problems: readonly string[],
  ) {
    super(
      problems.length === 1
        ? `authorization policies ${source}: ${problems[0]}`
        : `authorization policies ${source} (${problems.length} problems):\n  ${problems.join("\n  ")}`,
    );
  }
}

/** Cedar refused the request itself (it does not match the schema): the gateway built it wrong. */
export class AuthorizationEvaluationError extends Error {
  override readonly name = "AuthorizationEvaluationError" as const;
  constructor(
    readonly action: string,
    readonly problems: readonly string[],
  ) {
    super(`the authorization request of ${action} could not be evaluated: ${problems.join("; ")}`);
  }
}

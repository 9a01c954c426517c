// Authorization as a Connect interceptor: every PermissionService call is
// decided before its handler runs. The decision is left in the call's
// context values (authorizationDecisionKey) before the call goes on or is
// refused, so the audit interceptor around this one can record it.
import { Code, createContextKey, type Interceptor, type UnaryRequest } from "@connectrpc/connect";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { gatewayError, toConnectError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Authorizer } from "./authorizer.js";
import type { AuthorizationRequest } from "./request.js";

export const CALLER_NOT_ALLOWED_REASON = "CALLER_NOT_ALLOWED";

/** What the audit trail records of a decision; "error": the request could not be evaluated (INTERNAL). */
export interface RecordedDecision {
  readonly decision: "allow" | "deny" | "error";
  readonly determiningPolicies: readonly string[];
}

export const authorizationDecisionKey = createContextKey<RecordedDecision | undefined>(undefined, {
  description: "permission-gateway authorization decision",
});

export interface AuthorizationInterceptorOptions {
  readonly authorizer: Pick<Authorizer, "authorize">;
  /**
   * The authorization request of a PermissionService call, from its message
   * after validation (authorizationRequestFor). Throws what validation
   * throws (RequestValidationError, or a ConnectError): the call then fails
   * with that error, mapped by src/errors.ts.
   */
  readonly resolve: (req: UnaryRequest) => AuthorizationRequest;
  readonly logger: Logger;
}

/** No subject: only a validation error (which names its fields) or an unexpected failure is mapped here. */
const noSubject = { resourceType: "", resourceName: "" };

export function createAuthorizationInterceptor(options: AuthorizationInterceptorOptions): Interceptor {
  const { authorizer, resolve, logger } = options;
  return (next) => async (req) => {
    // Health, reflection and the like are not permission APIs.
    if (req.service.typeName !== PermissionService.typeName) return next(req);
    if (req.stream) {
      // Every PermissionService RPC is unary; a streaming one would need its own resolve. Fail closed.
      throw gatewayError(Code.Internal, "internal error", "INTERNAL", []);
    }
    let request: AuthorizationRequest;
    let decided: ReturnType<Authorizer["authorize"]>;
    try {
      request = resolve(req);
    } catch (error) {
      throw toConnectError(error, noSubject, logger);
    }
    try {
      decided = authorizer.authorize(request);
    } catch (error) {
      req.contextValues.set(authorizationDecisionKey, { decision: "error", determiningPolicies: [] });
      throw toConnectError(error, noSubject, logger);
    }
    const { allowed, determiningPolicies, errors } = decided;
    req.contextValues.set(authorizationDecisionKey, { decision: allowed ? "allow" : "deny", determiningPolicies });
    if (errors.length > 0) logger.warn("authorization policies failed to evaluate", { action: request.action, errors });
    if (allowed) return next(req);
    // The log names the policies; the caller learns only what was refused.
    logger.info("call not allowed", {
      caller: request.caller.id,
      action: request.action,
      resource: request.resource.id,
      determiningPolicies,
    });
    throw gatewayError(
      Code.PermissionDenied,
      `the caller is not allowed to call ${request.action} on ${request.resource.id}`,
      CALLER_NOT_ALLOWED_REASON,
      [],
      { action: request.action, resource: request.resource.id },
    );
  };
}

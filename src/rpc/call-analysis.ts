// What authorization, the audit trail and the access log see of a call, read
// from its call context (src/rpc/call-context.ts): the very request, resource
// and token the service runs, never worked out again.
import type { UnaryRequest } from "@connectrpc/connect";
import { callTargetFrom, type DecidedTarget } from "../accounts/interceptor.js";
import { callerContextKey } from "../auth/identity.js";
import type { AuditDescription, AuditDetails } from "../audit/interceptor.js";
import { auditSubjectFor, type AuditTarget } from "../audit/event.js";
import { authorizationRequestFor, type AuthorizationRequest } from "../authz/request.js";
import type { ResourceDefaults } from "../authz/resource.js";
import { awsRequestIdOf, callContextOf, type CallContext } from "./call-context.js";

function requireCallContext(req: UnaryRequest): CallContext {
  const context = callContextOf(req.contextValues);
  if (context === undefined) throw new Error(`${req.method.name} reached its interceptors without a call context`);
  return context;
}

/** The call's token as the audit trail records it: a generated one only once the caller was sent it. */
function auditedTokens(context: CallContext): Record<string, string> {
  const token = context.call?.token;
  if (token === undefined || (token.generated && context.progress.tokenSent !== true)) return {};
  return { [token.field]: token.value };
}

/** The audit event's `target`: the account (and its alias), role and session the call acts as. */
function auditTargetOf(target: DecidedTarget | undefined): AuditTarget | undefined {
  if (target === undefined) return undefined;
  return {
    account: target.account,
    accountAlias: target.managed?.alias,
    roleArn: target.role?.roleArn,
    sessionName: target.sessionName,
  };
}

// Arrow properties, not methods: the interceptors take them detached.
export function createCallAnalysis(defaults: ResourceDefaults) {
  return {
    /** For the authorization interceptor; throws the request's validation error. */
    authorizationRequest: (req: UnaryRequest): AuthorizationRequest => {
      const caller = req.contextValues.get(callerContextKey);
      if (caller === undefined) throw new Error("authorization ran before authentication");
      const context = requireCallContext(req);
      if (context.call === undefined) throw context.invalid;
      const target = callTargetFrom(req.contextValues);
      return authorizationRequestFor(
        context.call,
        caller,
        defaults,
        target === undefined ? undefined : { account: target.account, alias: target.managed?.alias },
      );
    },

    /** For the audit interceptor, before the call runs: who, and what about (when the request validates). */
    auditDescription: (req: UnaryRequest): AuditDescription => {
      const caller = req.contextValues.get(callerContextKey);
      const { call } = requireCallContext(req);
      return {
        caller: caller === undefined ? undefined : { id: caller.id, authMode: caller.authMode, groups: caller.groups },
        // Recorded without a subject when the request does not validate; the call is refused with INVALID_ARGUMENT.
        subject: call === undefined ? undefined : auditSubjectFor(call, defaults),
      };
    },

    /** For the audit interceptor, once the call has ended: what the service learned. */
    auditDetails: (req: UnaryRequest): AuditDetails => {
      const context = requireCallContext(req);
      return {
        tokens: auditedTokens(context),
        awsRequestId: awsRequestIdOf(context),
        removedStatement: context.progress.output?.removedStatement,
        replayed: context.progress.replayed,
        target: auditTargetOf(callTargetFrom(req.contextValues)),
      };
    },
  };
}

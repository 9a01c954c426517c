// The registry's decision for every PermissionService call: after
// validation (the call context holds the validated resource), before
// authorization, the idempotency store and AWS. A call in an account or
// Region the registry does not manage ends here; any other call carries its
// target (account, role, caller) on to the service, which hands the role to
// the backend.
import { createContextKey, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { ANONYMOUS_CALLER, callerContextKey } from "../auth/identity.js";
import type { RoleTarget } from "../backend/backend.js";
import { toConnectError } from "../errors.js";
import type { Logger } from "../logger.js";
import { callContextOf } from "../rpc/call-context.js";
import type { AccountRegistry } from "./registry.js";
import { sourceIdentityOf } from "./source-identity.js";
import { callTargetOf, type CallTarget } from "./target.js";

/** The decided target with the caller and role it acts as. */
export interface DecidedTarget extends CallTarget {
  readonly role: RoleTarget | undefined;
  /** The role session's name (the access line names it); undefined with the base credentials. */
  readonly sessionName: string | undefined;
}

const callTargetKey = createContextKey<DecidedTarget | undefined>(undefined, { description: "call target" });

/** The call's decided target; undefined without a registry or before the decision. */
export function callTargetFrom(values: ContextValues): DecidedTarget | undefined {
  return values.get(callTargetKey);
}

export interface AccountInterceptorOptions {
  readonly registry: () => AccountRegistry;
  readonly defaultRegion: string;
  /** AWS_ROLE_SESSION_PER_CALLER and AWS_ROLE_SESSION_NAME: how sessions are named. */
  readonly sessionPerCaller: boolean;
  readonly sessionName: string;
  readonly logger: Logger;
}

export function createAccountInterceptor(options: AccountInterceptorOptions): Interceptor {
  return (next) => (req) => {
    const context = callContextOf(req.contextValues);
    const call = context?.call;
    if (call === undefined || req.stream) return next(req);
    let target: CallTarget;
    try {
      target = callTargetOf(call.resource, options.registry(), options.defaultRegion);
    } catch (error) {
      throw toConnectError(error, call.row.subject(req.message), options.logger);
    }
    const caller = req.contextValues.get(callerContextKey)?.id ?? ANONYMOUS_CALLER;
    const roleArn = target.managed?.roleArn;
    const role: RoleTarget | undefined =
      roleArn === undefined
        ? undefined
        : { account: target.account, roleArn, externalId: target.managed?.externalId, caller };
    const sessionName =
      role === undefined ? undefined : options.sessionPerCaller ? sourceIdentityOf(caller) : options.sessionName;
    req.contextValues.set(callTargetKey, { ...target, role, sessionName });
    return next(req);
  };
}

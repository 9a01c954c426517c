// The authorization request of a call: who (the caller and its groups), what
// (the RPC), on what (the resource) and how (the request's grant fields,
// under their request names). Built from the request after validation, so
// policies only ever see well-formed values.
import type { ParsedCall } from "../rpc/call-context.js";
import type { AuthorizationContext, RpcName } from "../rpc/rpc-table.js";
import {
  authorizationResourceOf,
  withTargetAccount,
  type AuthorizationResource,
  type ResourceDefaults,
  type TargetAccount,
} from "./resource.js";

/** The authenticated caller, as authorization needs it (authentication's identity has these fields and more). */
export interface Caller {
  readonly id: string;
  readonly groups: readonly string[];
}

export interface AuthorizationRequest {
  readonly caller: Caller;
  /** The RPC name, which is the Cedar action. */
  readonly action: RpcName;
  readonly resource: AuthorizationResource;
  /** Exactly the attributes of the action's context in the schema (the row's `authorization`); unknown ones are absent. */
  readonly context: AuthorizationContext;
}

/** Everything comes from the call's RPC row: its resource, and what it shows policies of the request. */
export function authorizationRequestFor(
  call: ParsedCall,
  caller: Caller,
  defaults: ResourceDefaults,
  target?: TargetAccount,
): AuthorizationRequest {
  const resource = authorizationResourceOf(call.resource, defaults);
  return {
    caller,
    action: call.rpc,
    resource: target === undefined ? resource : withTargetAccount(resource, target),
    context: call.row.authorization(call.parsed),
  };
}

// The authorization request of a call: who (the caller and its groups), what
// (the RPC), on what (the resource) and how (the request's grant fields,
// under their request names). Built from the request after validation, so
// policies only ever see well-formed values.
import { definedOnly, resourceOf, type AuthorizationResource } from "./resource.js";
import type { ResourceDefaults, RpcCall, RpcInputs, RpcName } from "./rpc-inputs.js";

/** The authenticated caller, as authorization needs it (authentication's identity has these fields and more). */
export interface Caller {
  readonly id: string;
  readonly groups: readonly string[];
}

export type ContextValue = string | boolean | number | readonly string[];
export type AuthorizationContext = Readonly<Record<string, ContextValue>>;

export interface AuthorizationRequest {
  readonly caller: Caller;
  /** The RPC name, which is the Cedar action. */
  readonly action: RpcName;
  readonly resource: AuthorizationResource;
  /** Exactly the attributes of the action's context in the schema; unknown ones are absent. */
  readonly context: AuthorizationContext;
}

export function authorizationRequestFor<R extends RpcName>(
  rpc: R,
  parsedInput: RpcInputs[R],
  caller: Caller,
  defaults: ResourceDefaults,
): AuthorizationRequest {
  // TypeScript cannot correlate R with the input's type; the pair is one RpcCall by construction.
  const call = { rpc, input: parsedInput } as RpcCall;
  return { caller, action: rpc, resource: resourceOf(call, defaults), context: authorizationContextOf(call) };
}

/** The request fields a policy may look at, per RPC (the `context` of each action in the schema). */
export function authorizationContextOf(call: RpcCall): AuthorizationContext {
  switch (call.rpc) {
    case "AddLambdaPermission": {
      const input = call.input;
      return definedOnly({
        statementId: input.statementId,
        action: input.action,
        principal: input.principal,
        sourceArn: input.sourceArn,
        sourceAccount: input.sourceAccount,
        principalOrgId: input.principalOrgId,
        functionUrlAuthType: input.functionUrlAuthType,
        // Whether there is one, never its value: the token is a secret of the event source.
        hasEventSourceToken: input.eventSourceToken !== undefined,
        invokedViaFunctionUrl: input.invokedViaFunctionUrl,
        revisionId: input.revisionId,
      });
    }
    case "RemoveLambdaPermission":
      return definedOnly({ statementId: call.input.statementId, revisionId: call.input.revisionId });
    case "CreateRamPermission":
      return { resourceType: call.input.resourceType, tagKeys: Object.keys(call.input.tags) };
    case "GetRamPermission":
      return definedOnly({ permissionVersion: call.input.permissionVersion });
    case "ListRamPermissions":
      return definedOnly({ resourceType: call.input.resourceType, permissionType: call.input.permissionType });
    case "GetLambdaPolicy":
    case "DeleteRamPermission":
      return {};
  }
}

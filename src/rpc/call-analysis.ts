// What authorization and the audit trail need to know of a call, worked out
// from the RPC table and the call record, so they see the very request the
// service runs (parsed once, whichever asks first) and never re-derive it.
import type { UnaryRequest } from "@connectrpc/connect";
import { callerContextKey } from "../auth/identity.js";
import type { AuditDescription, AuditDetails } from "../audit/interceptor.js";
import { auditSubjectFor } from "../audit/event.js";
import { authorizationRequestFor, type AuthorizationRequest } from "../authz/request.js";
import type { ResourceDefaults, RpcInputs, RpcName } from "../authz/rpc-inputs.js";
import { isRequestValidationError } from "../validation.js";
import { callRecordOf, parsedRequestOf } from "./call-record.js";
import { rowOf } from "./rpc-table.js";

interface AnalysedCall {
  readonly rpc: RpcName;
  readonly input: RpcInputs[RpcName];
}

/** The RPC and its validated input; throws RequestValidationError for a request that does not validate. */
function analyse(req: UnaryRequest): AnalysedCall {
  const row = rowOf(req.method.localName);
  if (row === undefined) throw new Error(`no RPC row for ${req.method.name}`);
  const parsed = parsedRequestOf(row, req.message, callRecordOf(req.contextValues));
  return { rpc: req.method.name as RpcName, input: row.authorizationInput(parsed) as RpcInputs[RpcName] };
}

// Arrow properties, not methods: the interceptors take them detached.
export function createCallAnalysis(defaults: ResourceDefaults) {
  return {
    /** For the authorization interceptor. */
    authorizationRequest: (req: UnaryRequest): AuthorizationRequest => {
      const caller = req.contextValues.get(callerContextKey);
      if (caller === undefined) throw new Error("authorization ran before authentication");
      const { rpc, input } = analyse(req);
      return authorizationRequestFor(rpc, input, caller, defaults);
    },

    /** For the audit interceptor, before the call runs: who, and what about (when the request validates). */
    auditDescription: (req: UnaryRequest): AuditDescription => {
      const caller = req.contextValues.get(callerContextKey);
      let subject: AuditDescription["subject"];
      try {
        const { rpc, input } = analyse(req);
        subject = auditSubjectFor(rpc, input, defaults);
      } catch (error) {
        // Recorded without a subject; the call itself is refused with INVALID_ARGUMENT.
        if (!isRequestValidationError(error)) throw error;
      }
      return {
        caller: caller === undefined ? undefined : { id: caller.id, authMode: caller.authMode, groups: caller.groups },
        subject,
      };
    },

    /** For the audit interceptor, once the call has ended: what the service learned. */
    auditDetails: (req: UnaryRequest): AuditDetails => {
      const record = callRecordOf(req.contextValues);
      return {
        awsRequestId: record.awsRequestId,
        removedStatement: record.removedStatement,
        replayed: record.replayed,
      };
    },
  };
}

// What one call learned on its way through the gateway, kept in a Connect
// context value so that the steps that look at a call from outside (access
// log, metrics, authorization, audit) read the same facts the service used,
// instead of working them out again.
import type { Message } from "@bufbuild/protobuf";
import { createContextKey, type ContextValues } from "@connectrpc/connect";
import type { IdempotencyOutcomeKind } from "../idempotency/guard-port.js";
import type { AnyRpcRow, CallToken, RpcResource } from "./rpc-table.js";

export interface CallRecord {
  /** The validated request (the row's parse result), once parsed. */
  parsed?: unknown;
  resource?: RpcResource | undefined;
  token?: CallToken | undefined;
  /** AWS's request ID of the backend call, from its output or its error. */
  awsRequestId?: string | undefined;
  /** The backend confirmed an uncertain outcome by reading the actual state. */
  reconciled?: boolean | undefined;
  /** RemoveLambdaPermission: the statement that was removed, when the backend knows it. */
  removedStatement?: string | undefined;
  /** The idempotency guard answered from a stored outcome. */
  replayed?: boolean | undefined;
  /** How the idempotency guard decided the call, for calls with a token that reached the store. */
  idempotencyOutcome?: IdempotencyOutcomeKind | undefined;
}

export const callRecordKey = createContextKey<CallRecord | undefined>(undefined, { description: "call record" });

/** The call's record, created on first use. */
export function callRecordOf(values: ContextValues): CallRecord {
  let record = values.get(callRecordKey);
  if (record === undefined) {
    record = {};
    values.set(callRecordKey, record);
  }
  return record;
}

/** Validates a request once per call: whichever step needs it first (authorization, audit, the service) parses it. */
export function parsedRequestOf(row: AnyRpcRow, request: Message, record: CallRecord): unknown {
  if (record.parsed === undefined) {
    record.parsed = row.parse(request);
    record.resource = row.resource(record.parsed);
  }
  return record.parsed;
}

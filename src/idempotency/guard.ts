// The seam between the service and idempotency: the service wraps every
// mutating backend call in `guard.run(...)`. Whether a token is remembered,
// replayed, waited on or refused is decided here, never in the service.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

export interface IdempotentCall<I extends DescMessage, O extends DescMessage> {
  /** Full RPC name, e.g. "permission.v1.PermissionService/DeleteRamPermission". */
  readonly rpc: string;
  /** The caller's token (client_token or idempotency_key), already validated. */
  readonly token: string;
  readonly requestSchema: I;
  /** The request as received; `tokenField` is left out of its fingerprint. */
  readonly request: MessageShape<I>;
  /** Local (camelCase) name of the token field, e.g. "clientToken". */
  readonly tokenField: string;
  readonly responseSchema: O;
  /** For the caller's identity, deadline, signal and the replay header. */
  readonly context: HandlerContext;
}

export interface IdempotencyGuard {
  /**
   * Runs `execute` at most once per (caller, rpc, token) and fingerprint.
   * `execute` resolves with the response or rejects with a ConnectError that
   * is already mapped for the wire.
   */
  run<I extends DescMessage, O extends DescMessage>(
    call: IdempotentCall<I, O>,
    execute: () => Promise<MessageShape<O>>,
  ): Promise<MessageShape<O>>;
}

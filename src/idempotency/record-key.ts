// Where a record lives. The caller, the RPC and the token are hashed into one
// Redis Cluster hash tag, so every key of a record lands in one slot (Lua
// scripts may only touch keys of one slot) and raw tokens never appear in
// Redis. Header values and tokens cannot contain "\n", so the joined form is
// unambiguous.
import { createHash } from "node:crypto";

export const IDEMPOTENCY_KEY_PREFIX = "pg:idem:";

export interface IdempotencyScope {
  readonly callerId: string;
  /** Full RPC name, e.g. "permission.v1.PermissionService/DeleteRamPermission". */
  readonly rpc: string;
  readonly token: string;
}

/** The hex SHA-256 that forms the record's hash tag. */
export function idempotencyScopeHash(scope: IdempotencyScope): string {
  return createHash("sha256").update(`${scope.callerId}\n${scope.rpc}\n${scope.token}`, "utf8").digest("hex");
}

/** `pg:idem:{<sha256 hex>}` */
export function idempotencyRecordKey(scope: IdempotencyScope): string {
  return `${IDEMPOTENCY_KEY_PREFIX}{${idempotencyScopeHash(scope)}}`;
}

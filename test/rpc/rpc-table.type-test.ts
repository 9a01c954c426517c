// Checked by `npm run typecheck` (tsc), not run: the RPC table's type
// requires exactly one row per method of the generated PermissionService.
// Each `@ts-expect-error` below fails the typecheck if its line ever
// compiles, i.e. if a missing or an extra row stopped being an error.
// test/rpc/rpc-table.test.ts runs tsc on this file and checks the same at run time.
import { rpcTable, type RpcName, type RpcTable } from "../../src/rpc/rpc-table.js";

const { getRamPermission, ...withoutGetRamPermission } = rpcTable;

// @ts-expect-error -- getRamPermission has no row
export const missingRow: RpcTable = withoutGetRamPermission;

export const extraRow = {
  ...rpcTable,
  // @ts-expect-error -- no method of PermissionService is called shareLambdaPermission
  shareLambdaPermission: getRamPermission,
} satisfies RpcTable;

// @ts-expect-error -- a row must be for its own method: this is GetRamPermission's row under another name
export const wrongMethod: RpcTable = { ...rpcTable, listRamPermissions: getRamPermission };

// RpcName comes from the proto: a name no method has is not one.
// @ts-expect-error -- PermissionService has no RPC "ShareLambdaPermission"
export const unknownRpc: RpcName = "ShareLambdaPermission";

export const complete: RpcTable = rpcTable;

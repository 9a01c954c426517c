// What authorization and the audit trail read of each RPC: its validated
// input in the backend port's types (src/backend/backend.ts). Narrowed with
// Pick where the RPC's parser returns more, so the parsed requests of
// src/validation.ts fit as they are.
import type {
  AddLambdaPermissionInput,
  CreateRamPermissionInput,
  DeleteRamPermissionInput,
  GetLambdaPolicyInput,
  GetRamPermissionInput,
  ListRamPermissionsInput,
  RemoveLambdaPermissionInput,
} from "../backend/backend.js";

export interface RpcInputs {
  readonly RemoveLambdaPermission: RemoveLambdaPermissionInput;
  /** `invokedViaFunctionUrl` is read when the input carries it. */
  readonly AddLambdaPermission: AddLambdaPermissionInput & { readonly invokedViaFunctionUrl?: boolean | undefined };
  readonly GetLambdaPolicy: GetLambdaPolicyInput;
  /** The client token is left out: a generated one is not known yet when the call is authorized. */
  readonly DeleteRamPermission: Pick<DeleteRamPermissionInput, "permission">;
  readonly CreateRamPermission: Pick<CreateRamPermissionInput, "name" | "resourceType" | "policyTemplate" | "tags">;
  readonly GetRamPermission: GetRamPermissionInput;
  readonly ListRamPermissions: ListRamPermissionsInput;
}

/** The RPC names of permission.v1.PermissionService, which are also the Cedar action IDs. */
export type RpcName = keyof RpcInputs;

/** One RPC and its input, as one value a switch can narrow. */
export type RpcCall = { [R in RpcName]: { readonly rpc: R; readonly input: RpcInputs[R] } }[RpcName];

/** Where calls go when their names say nothing more (a bare function name, CreateRamPermission, ...). */
export interface ResourceDefaults {
  /** The Region the gateway sends such calls to (AWS_REGION). */
  readonly region: string;
  /** The partition of that Region ("aws", "aws-cn", ...). */
  readonly partition: string;
  /** The account such calls act in, when the operator configured it (AUTHZ_DEFAULT_ACCOUNT). */
  readonly account?: string | undefined;
}

// A backend acting as one identity, as AWS does: a resource of the
// identity's own account is served; a resource of another account is
// refused with AccessDeniedException in AWS's words, naming the principal,
// the action and the resource; a bare function name means the identity's
// account. CreatePermission and ListPermissions act in the fake's own
// default account (the RAM model keeps no per-call account).
import type { LambdaFunctionRef, PermissionBackend, RamPermissionRef } from "../backend.js";
import { lambdaFunctionArn } from "../../aws/arn.js";
import { createAwsError } from "./aws-errors.js";
import { decorateBackend } from "../decorate.js";
import type { FakeIdentity } from "./identities.js";

export interface ActingAccountOptions {
  readonly defaultRegion: string;
  readonly defaultPartition: string;
}

export function actingAs(
  backend: PermissionBackend,
  identity: FakeIdentity,
  options: ActingAccountOptions,
): PermissionBackend {
  const lambdaTarget = (ref: LambdaFunctionRef, action: string): LambdaFunctionRef => {
    const account = ref.account ?? identity.account;
    if (account !== identity.account) {
      const resource = lambdaFunctionArn({
        partition: ref.partition ?? options.defaultPartition,
        region: ref.region ?? options.defaultRegion,
        account,
        name: ref.name,
        qualifier: undefined,
      });
      throw createAwsError("lambda", "AccessDeniedException", {
        message: `User: ${identity.arn} is not authorized to perform: lambda:${action} on resource: ${resource} because no resource-based policy allows the lambda:${action} action`,
      });
    }
    return { ...ref, account };
  };
  const ramTarget = (ref: RamPermissionRef, action: string): void => {
    if (ref.awsManaged || ref.account === identity.account) return;
    throw createAwsError("ram", "AccessDeniedException", {
      message: `User: ${identity.arn} is not authorized to perform: ram:${action} on resource: ${ref.arn}`,
    });
  };
  return decorateBackend(backend, undefined, {
    addLambdaPermission: (input, call) =>
      backend.addLambdaPermission({ ...input, function: lambdaTarget(input.function, "AddPermission") }, call),
    removeLambdaPermission: (input, call) =>
      backend.removeLambdaPermission({ ...input, function: lambdaTarget(input.function, "RemovePermission") }, call),
    getLambdaPolicy: (input, call) =>
      backend.getLambdaPolicy({ ...input, function: lambdaTarget(input.function, "GetPolicy") }, call),
    getRamPermission: (input, call) => {
      ramTarget(input.permission, "GetPermission");
      return backend.getRamPermission(input, call);
    },
    deleteRamPermission: (input, call) => {
      ramTarget(input.permission, "DeletePermission");
      return backend.deleteRamPermission(input, call);
    },
  });
}

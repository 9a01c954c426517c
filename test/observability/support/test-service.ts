// Four PermissionService RPCs over a PermissionBackend, for the tests of
// the interceptors: what they observe is real calls on real protocols, and
// the backend under them is the fake one (through instrumentBackend where a
// test wants backend metrics and spans). Not the gateway's service: this
// keeps the tests about observation, independent of the service's wiring.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AddLambdaPermissionResponseSchema,
  GetLambdaPolicyResponseSchema,
  GetRamPermissionResponseSchema,
  RemoveLambdaPermissionResponseSchema,
  type PermissionService,
} from "../../../gen/permission/v1/permission_pb.js";
import { parseRamPermissionArn } from "../../../src/aws/arn.js";
import type { PermissionBackend } from "../../../src/backend/backend.js";
import { isAwsApiError } from "../../../src/backend/errors.js";

export interface TestServiceOptions {
  /** Called while a GetLambdaPolicy for function "slow" runs; the call finishes when it resolves. */
  readonly slow?: () => Promise<void>;
}

export function createTestPermissionService(
  backend: PermissionBackend,
  options: TestServiceOptions = {},
): Partial<ServiceImpl<typeof PermissionService>> {
  const fn = (name: string) => {
    if (name === "")
      throw new ConnectError("functionName: Member must have length greater than or equal to 1", Code.InvalidArgument);
    return { functionName: name, name };
  };
  const mapped = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (isAwsApiError(error) && error.code === "ResourceNotFoundException")
        throw new ConnectError(error.message, Code.NotFound);
      throw error;
    }
  };
  return {
    async getLambdaPolicy(request, context) {
      if (request.functionName === "slow") await options.slow?.();
      const target = fn(request.functionName === "slow" ? "demo" : request.functionName);
      const output = await mapped(() => backend.getLambdaPolicy({ function: target }, { signal: context.signal }));
      return create(GetLambdaPolicyResponseSchema, output);
    },
    async addLambdaPermission(request, context) {
      const input = {
        function: fn(request.functionName),
        statementId: request.statementId,
        action: request.action,
        principal: request.principal,
      };
      const output = await mapped(() => backend.addLambdaPermission(input, { signal: context.signal }));
      return create(AddLambdaPermissionResponseSchema, output);
    },
    async removeLambdaPermission(request, context) {
      const input = { function: fn(request.functionName), statementId: request.statementId };
      await mapped(() => backend.removeLambdaPermission(input, { signal: context.signal }));
      return create(RemoveLambdaPermissionResponseSchema);
    },
    async getRamPermission(request, context) {
      const permission = parseRamPermissionArn(request.permissionArn);
      if (permission === undefined)
        throw new ConnectError("permissionArn: not a RAM permission ARN", Code.InvalidArgument);
      const found = await mapped(() => backend.getRamPermission({ permission }, { signal: context.signal }));
      // Enough fields to see that the answer came through; the gateway's service maps them all.
      return create(GetRamPermissionResponseSchema, {
        permission: {
          arn: found.arn,
          name: found.name,
          version: found.version,
          resourceType: found.resourceType,
          creationTime: timestampFromDate(found.creationTime),
        },
      });
    },
  };
}

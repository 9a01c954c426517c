// The AWS operations the fake serves, named as the API references name them,
// and the service each belongs to (which decides the errors it can answer).
import type { AwsService } from "../errors.js";

export type LambdaOperation = "RemovePermission" | "AddPermission" | "GetPolicy";
export type RamOperation = "DeletePermission" | "CreatePermission" | "GetPermission" | "ListPermissions";
export type FakeOperation = LambdaOperation | RamOperation;

export const operationService: Readonly<Record<FakeOperation, AwsService>> = {
  RemovePermission: "lambda",
  AddPermission: "lambda",
  GetPolicy: "lambda",
  DeletePermission: "ram",
  CreatePermission: "ram",
  GetPermission: "ram",
  ListPermissions: "ram",
};

export const fakeOperations = Object.keys(operationService) as readonly FakeOperation[];

export function isFakeOperation(value: unknown): value is FakeOperation {
  return typeof value === "string" && Object.hasOwn(operationService, value);
}

const mutations: ReadonlySet<FakeOperation> = new Set([
  "RemovePermission",
  "AddPermission",
  "DeletePermission",
  "CreatePermission",
]);

/** Whether the operation changes state (and so has an effect that can outlive a lost answer). */
export function isMutation(operation: FakeOperation): boolean {
  return mutations.has(operation);
}

// The AWS operations the fake serves, named as the API references name them,
// and the service each belongs to (which decides the errors it can answer).
import { BACKEND_OPERATIONS, type AwsOperationName } from "../backend.js";
import type { AwsService } from "../errors.js";

type Operation = (typeof BACKEND_OPERATIONS)[keyof typeof BACKEND_OPERATIONS];
export type LambdaOperation = Extract<Operation, { readonly service: "lambda" }>["name"];
export type RamOperation = Extract<Operation, { readonly service: "ram" }>["name"];
export type FakeOperation = AwsOperationName;

/** Derived from the port's BACKEND_OPERATIONS: an operation of the port is one of the fake's. */
export const operationService: Readonly<Record<FakeOperation, AwsService>> = Object.fromEntries(
  Object.values(BACKEND_OPERATIONS).map((operation) => [operation.name, operation.service]),
) as Record<FakeOperation, AwsService>;

export const fakeOperations = Object.keys(operationService) as readonly FakeOperation[];

export function isFakeOperation(value: unknown): value is FakeOperation {
  return typeof value === "string" && Object.hasOwn(operationService, value);
}

const mutations: ReadonlySet<FakeOperation> = new Set(
  Object.values(BACKEND_OPERATIONS)
    .filter((operation) => operation.mutation)
    .map((operation) => operation.name),
);

/** Whether the operation changes state (and so has an effect that can outlive a lost answer). */
export function isMutation(operation: FakeOperation): boolean {
  return mutations.has(operation);
}

// The fake adapter of the PermissionBackend port: an in-memory model of
// Lambda policies and RAM permissions that answers as AWS does, for
// development (`npm start`), tests and chaos drills. Every call is counted,
// then passes the fault injector, then runs against the model; its output
// carries a request ID of the fake's own, as AWS's outputs carry AWS's.
import { randomUUID } from "node:crypto";
import type { AwsCallMetadata, CallOptions, PermissionBackend } from "../backend.js";
import { systemClock } from "../../clock.js";
import type { Clock } from "../../clock.js";
import { FAKE_DEFAULT_ACCOUNT, FAKE_DEFAULT_PARTITION, FAKE_DEFAULT_REGION } from "./defaults.js";
import { demoSeed } from "./demo-seed.js";
import { createFaultInjector } from "./faults.js";
import type { FakeFaults } from "./faults.js";
import { createLambdaModel } from "./lambda-model.js";
import { fakeOperations, operationService } from "./operations.js";
import { UpstreamTimeoutError } from "../errors.js";
import type { FakeOperation } from "./operations.js";
import { createRamModel } from "./ram-model.js";
import { parseFakeSeed } from "./seed.js";
import type { FakeSeed } from "./seed.js";

export type { FakeFaults } from "./faults.js";
export { validateFakeFaults } from "./faults.js";
export type { FakeOperation } from "./operations.js";
export { fakeOperations } from "./operations.js";
export { demoSeed } from "./demo-seed.js";
export { FakeSeedError, loadFakeSeedFile, parseFakeSeed } from "./seed.js";
export type {
  FakeSeed,
  FakeSeedFunction,
  FakeSeedLambda,
  FakeSeedPolicyTemplate,
  FakeSeedRam,
  FakeSeedRamPermission,
  FakeSeedRamPermissionVersion,
  FakeSeedStatement,
} from "./seed.js";

export interface FakeBackendOptions {
  /** Default: the demo seed. */
  readonly seed?: FakeSeed | undefined;
  /** Timestamps and deadlines. Default: the system clock. */
  readonly clock?: Clock | undefined;
  /** Decides injected errors; returns [0, 1). Default: Math.random. */
  readonly random?: (() => number) | undefined;
  readonly faults?: FakeFaults | undefined;
  /** The caller's account, Region and partition where a request names none. */
  readonly defaultAccount?: string | undefined;
  readonly defaultRegion?: string | undefined;
  readonly defaultPartition?: string | undefined;
  readonly limits?: FakeLimits | undefined;
  /** What RAM's DeletePermission reports: DELETED (default) or DELETING, which RAM may answer as it deletes asynchronously. */
  readonly ramDeletionStatus?: "DELETED" | "DELETING" | undefined;
}

export interface FakeLimits {
  /** Lambda's limit on a function policy: 20480 bytes. */
  readonly lambdaPolicyBytes?: number | undefined;
  /** RAM customer managed permissions per account and Region. Default 1000. */
  readonly ramCustomerManagedPermissions?: number | undefined;
  /** How long RAM client tokens are remembered. Default 24 hours. */
  readonly clientTokenTtlMs?: number | undefined;
  /** How many RAM client tokens are remembered at most. Default 10000. */
  readonly maxClientTokens?: number | undefined;
  /** Retry-After, in seconds, of throttling errors. Default 1. */
  readonly retryAfterSeconds?: number | undefined;
}

export interface FakeBackend extends PermissionBackend {
  /** Calls of one operation, or of all when none is given; faulted calls count. */
  callCount(operation?: FakeOperation): number;
  resetCallCounts(): void;
  /** Replaces the faults; throws an Error on settings that are not valid. */
  setFaults(faults: FakeFaults): void;
}

export function createFakeBackend(options: FakeBackendOptions = {}): FakeBackend {
  const clock = options.clock ?? systemClock;
  const seed = parseFakeSeed(options.seed ?? demoSeed);
  const defaults = {
    partition: options.defaultPartition ?? FAKE_DEFAULT_PARTITION,
    region: options.defaultRegion ?? FAKE_DEFAULT_REGION,
    account: options.defaultAccount ?? FAKE_DEFAULT_ACCOUNT,
  };
  const limits = options.limits ?? {};
  const lambda = createLambdaModel(seed.lambda?.functions ?? [], {
    ...defaults,
    policyLimitBytes: limits.lambdaPolicyBytes ?? 20480,
  });
  const ram = createRamModel(seed.ram?.permissions ?? [], {
    ...defaults,
    clock,
    permissionLimit: limits.ramCustomerManagedPermissions ?? 1000,
    clientTokenTtlMs: limits.clientTokenTtlMs ?? 24 * 60 * 60 * 1000,
    maxClientTokens: limits.maxClientTokens ?? 10_000,
    deletionStatus: options.ramDeletionStatus ?? "DELETED",
  });
  const faults = createFaultInjector({
    clock,
    random: options.random ?? Math.random,
    retryAfterSeconds: limits.retryAfterSeconds ?? 1,
  });
  if (options.faults !== undefined) faults.set(options.faults);

  const counts = new Map<FakeOperation, number>();

  const call = async <T extends object>(
    operation: FakeOperation,
    callOptions: CallOptions,
    run: () => T,
  ): Promise<T & AwsCallMetadata> => {
    // As the AWS adapter does before each attempt: a call whose lease ran out sends nothing.
    if (callOptions.leaseHeld?.() === false) {
      const service = operationService[operation];
      throw new UpstreamTimeoutError(
        service,
        `the call's idempotency lease ran out; nothing was sent to ${service}`,
        false,
      );
    }
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    await faults.apply(operation, callOptions);
    const output = run();
    faults.afterEffect(operation);
    return { ...output, awsRequestId: randomUUID() };
  };

  return {
    removeLambdaPermission: (input, callOptions) =>
      call("RemovePermission", callOptions, () => lambda.removePermission(input)),
    addLambdaPermission: (input, callOptions) => call("AddPermission", callOptions, () => lambda.addPermission(input)),
    getLambdaPolicy: (input, callOptions) => call("GetPolicy", callOptions, () => lambda.getPolicy(input)),
    deleteRamPermission: (input, callOptions) =>
      call("DeletePermission", callOptions, () => ram.deletePermission(input)),
    createRamPermission: (input, callOptions) =>
      call("CreatePermission", callOptions, () => ram.createPermission(input)),
    getRamPermission: (input, callOptions) => call("GetPermission", callOptions, () => ram.getPermission(input)),
    listRamPermissions: (input, callOptions) => call("ListPermissions", callOptions, () => ram.listPermissions(input)),

    callCount(operation) {
      if (operation !== undefined) return counts.get(operation) ?? 0;
      return fakeOperations.reduce((total, op) => total + (counts.get(op) ?? 0), 0);
    },
    resetCallCounts() {
      counts.clear();
    },
    setFaults(next) {
      faults.set(next);
    },
    close() {
      faults.close();
      return Promise.resolve();
    },
  };
}

// Shared by the guard's test files: a guard on the memory store (or on a
// store with some operations replaced), handler contexts, the
// DeleteRamPermission call, and assertions on the gateway's errors. Guards
// and contexts made here are ended by cleanUpGuards() after each test.
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createHandlerContext } from "@connectrpc/connect";
import type { HandlerContext } from "@connectrpc/connect";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  DeleteRamPermissionRequestSchema,
  DeleteRamPermissionResponseSchema,
  PermissionService,
} from "../../gen/permission/v1/permission_pb.js";
import { systemClock } from "../../src/clock.js";
import type { CallOptions } from "../../src/backend/backend.js";
import type { IdempotencyOutcomeKind, IdempotentCall } from "../../src/idempotency/guard-port.js";
import { createIdempotencyGuard } from "../../src/idempotency/guard-machine.js";
import type { IdempotencyGuardOptions, SettlingIdempotencyGuard } from "../../src/idempotency/guard-machine.js";
import { createMemoryIdempotencyStore } from "../../src/idempotency/memory-store.js";
import type { MemoryIdempotencyEntry } from "../../src/idempotency/memory-store.js";
import { idempotencyRecordKey } from "../../src/idempotency/record-key.js";
import type { IdempotencyStore } from "../../src/idempotency/store.js";
import { mutatingRequests } from "./requests.js";
import type { MutatingRequest } from "./requests.js";
import { createRecordingLogger } from "../support/recording-logger.js";

const openGuards: SettlingIdempotencyGuard[] = [];

export function setup(overrides: Partial<IdempotencyGuardOptions> = {}) {
  const logger = createRecordingLogger();
  const entries = new Map<string, MemoryIdempotencyEntry>();
  const store = overrides.store ?? createMemoryIdempotencyStore({ clock: systemClock, entries });
  const guard = createIdempotencyGuard({
    store,
    clock: systemClock,
    logger,
    ttlMs: 86_400_000,
    leaseMs: 30_000,
    maxWaitMs: 2_000,
    pollMinMs: 5,
    pollMaxMs: 20,
    ...overrides,
  });
  openGuards.push(guard);
  return { guard, store, logger, entries };
}

/** A memory store with some operations replaced, for failures of the store itself. */
export function storeWith(
  overrides: Partial<IdempotencyStore>,
  entries = new Map<string, MemoryIdempotencyEntry>(),
): IdempotencyStore {
  return { ...createMemoryIdempotencyStore({ clock: systemClock, entries }), ...overrides };
}

// Contexts with a timeout hold a deadline timer, and guards may still retry
// a write in the background; end them after each test.
const openContexts: ReturnType<typeof createHandlerContext>[] = [];
export async function cleanUpGuards(): Promise<void> {
  for (const context of openContexts.splice(0)) context.abort();
  await Promise.all(openGuards.splice(0).map((guard) => guard.settle(0)));
}

export interface ContextOptions {
  callerId?: string;
  timeoutMs?: number;
  /** Aborting it is the caller going away. */
  signal?: AbortSignal;
}

export function contextFor(method: MutatingRequest["method"], options: ContextOptions = {}): HandlerContext {
  const context = createHandlerContext({
    service: PermissionService,
    method,
    protocolName: "connect",
    requestMethod: "POST",
    url: `http://127.0.0.1/${PermissionService.typeName}/${method.name}`,
    requestHeader: options.callerId === undefined ? {} : { "x-caller-id": options.callerId },
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.signal === undefined ? {} : { requestSignal: options.signal }),
  });
  openContexts.push(context);
  return context;
}

export function callOf<I extends DescMessage, O extends DescMessage>(
  spec: MutatingRequest,
  request: MessageShape<I>,
  options: ContextOptions & { token?: string } = {},
): IdempotentCall<I, O> {
  return {
    rpc: `${PermissionService.typeName}/${spec.method.name}`,
    token: options.token ?? "token-1",
    requestSchema: spec.schema as I,
    request,
    tokenField: spec.tokenField,
    responseSchema: spec.responseSchema as O,
    context: contextFor(spec.method, options),
  };
}

export const deleteSpec = mutatingRequests.find((r) => r.name === "DeleteRamPermission") as MutatingRequest;
export const deleteRequest = create(DeleteRamPermissionRequestSchema, {
  permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/demo-permission",
  clientToken: "token-1",
});
export const deleteResponse = create(DeleteRamPermissionResponseSchema, {
  returnValue: true,
  clientToken: "token-1",
  permissionStatus: 3,
});
export type DeleteIn = typeof DeleteRamPermissionRequestSchema;
export type DeleteOut = typeof DeleteRamPermissionResponseSchema;

export function deleteCall(options: ContextOptions & { token?: string } = {}) {
  return callOf<DeleteIn, DeleteOut>(deleteSpec, deleteRequest, options);
}

export function recordKey(token = "token-1"): string {
  return idempotencyRecordKey({
    callerId: "anonymous",
    rpc: `${PermissionService.typeName}/DeleteRamPermission`,
    token,
  });
}

/** An execute that counts its runs and answers with `answer` (a response, or an error to throw). */
export function counted<T>(answer: () => Promise<T>) {
  let runs = 0;
  return {
    runs: () => runs,
    execute: async () => {
      runs += 1;
      return answer();
    },
  };
}

export function errorInfoOf(error: unknown) {
  assert.ok(error instanceof ConnectError, `expected a ConnectError, got ${String(error)}`);
  const infos = error.findDetails(ErrorInfoSchema);
  assert.equal(infos.length, 1, "exactly one ErrorInfo");
  return infos[0]!;
}

export function assertGatewayError(error: unknown, code: Code, reason: string, withRetryInfo: boolean): true {
  assert.ok(error instanceof ConnectError);
  assert.equal(error.code, code, error.message);
  const info = errorInfoOf(error);
  assert.equal(info.reason, reason);
  assert.equal(info.domain, "permission-gateway");
  const retry = error.findDetails(RetryInfoSchema);
  if (withRetryInfo) {
    assert.equal(retry.length, 1);
    assert.ok(retry[0]?.retryDelay !== undefined && durationMs(retry[0].retryDelay) > 0);
  } else {
    assert.equal(retry.length, 0);
  }
  return true;
}

/** Counts every operation that reaches `store`, by name. */
export function countingStore(store: IdempotencyStore): {
  store: IdempotencyStore;
  counts: Record<string, number>;
  total(): number;
} {
  const counts: Record<string, number> = {};
  const count =
    <A extends unknown[], R>(name: string, operation: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      counts[name] = (counts[name] ?? 0) + 1;
      return operation(...args);
    };
  return {
    counts,
    total: () => Object.values(counts).reduce((sum, n) => sum + n, 0),
    store: {
      claim: count("claim", (input) => store.claim(input)),
      renew: count("renew", (input) => store.renew(input)),
      complete: count("complete", (input) => store.complete(input)),
      release: count("release", (input) => store.release(input)),
      abandon: count("abandon", (input) => store.abandon(input)),
      read: count("read", (key) => store.read(key)),
    },
  };
}

/** An observer that keeps what it was told. */
export function recordingObserver() {
  const outcomes: IdempotencyOutcomeKind[] = [];
  const commands: { operation: string; ms: number; failed: boolean }[] = [];
  return {
    outcomes,
    commands,
    observer: {
      onOutcome: (kind: IdempotencyOutcomeKind) => void outcomes.push(kind),
      onStoreCommand: (operation: string, ms: number, failed: boolean) => void commands.push({ operation, ms, failed }),
    },
  };
}

/** An execute that runs until its signal aborts, then rejects the way a backend reads a deadline. */
export function untilAborted(seen: CallOptions[] = []) {
  return (options: CallOptions): Promise<MessageShape<DeleteOut>> => {
    seen.push(options);
    return new Promise((_, reject) => {
      const fail = () => reject(new ConnectError("cut", Code.DeadlineExceeded));
      if (options.signal.aborted) fail();
      else options.signal.addEventListener("abort", fail, { once: true });
    });
  };
}

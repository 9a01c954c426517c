// A PermissionBackend around another one, built from BACKEND_OPERATIONS: a
// decorator (reconciliation, instrumentation) states only what it changes,
// and a new port method is passed through (or wrapped) without a line here.
import { backendOperations, type BackendOperation, type CallOptions, type PermissionBackend } from "./backend.js";

/** Any port method, seen without its own input and output types. */
export type BackendCall = (input: never, options: CallOptions) => Promise<unknown>;

type Operations = Pick<PermissionBackend, BackendOperation>;

/**
 * `inner` with every operation replaced by `wrap(operation, call)` (the
 * identity when `wrap` is left out) and then by `overrides`; readiness and
 * close are the inner backend's.
 */
export function decorateBackend(
  inner: PermissionBackend,
  wrap: (operation: BackendOperation, call: BackendCall) => BackendCall = (_operation, call) => call,
  overrides: Partial<Operations> = {},
): PermissionBackend {
  const operations: Partial<Record<BackendOperation, BackendCall>> = {};
  for (const operation of backendOperations) {
    operations[operation] = wrap(operation, inner[operation].bind(inner));
  }
  return {
    ...(operations as Operations),
    ...overrides,
    ...(inner.checkReady === undefined ? {} : { checkReady: inner.checkReady.bind(inner) }),
    close: () => inner.close(),
  };
}

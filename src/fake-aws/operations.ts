// The seven operations the endpoint serves and their REST bindings, as the
// service models define them (`http` traits of @aws-sdk/client-lambda and
// @aws-sdk/client-ram): method, path and path labels.
import type { CallOptions, PermissionBackend } from "../backend/backend.js";
import type { AwsService } from "../backend/errors.js";
import type { JsonObject } from "./wire-input.js";

// The same seven operations the fake backend counts and injects faults into.
export {
  fakeOperations as FAKE_AWS_OPERATIONS,
  isFakeOperation as isFakeAwsOperation,
  operationService as serviceOfOperation,
  type FakeOperation as FakeAwsOperation,
} from "../backend/fake/operations.js";
import type { FakeOperation as FakeAwsOperation } from "../backend/fake/operations.js";

export interface RoutedRequest {
  readonly operation: FakeAwsOperation;
  /** Decoded path labels, in the order of the URI template. */
  readonly labels: readonly string[];
}

export const LAMBDA_API_VERSION = "2015-03-31";

/**
 * The operation a request addresses. `segments` are the path's segments,
 * still percent-encoded: a label is decoded only once it is known to be one,
 * so an encoded "/" inside a function name cannot split the path.
 * Undefined when nothing matches; throws URIError for a malformed escape.
 */
export function routeRequest(method: string, segments: readonly string[]): RoutedRequest | undefined {
  const [first, second, functionName, policy, statementId] = segments;
  if (
    first === LAMBDA_API_VERSION &&
    second === "functions" &&
    functionName !== undefined &&
    functionName !== "" &&
    policy === "policy"
  ) {
    if (segments.length === 4) {
      if (method === "POST") return { operation: "AddPermission", labels: [decodeURIComponent(functionName)] };
      if (method === "GET") return { operation: "GetPolicy", labels: [decodeURIComponent(functionName)] };
      return undefined;
    }
    if (segments.length === 5 && method === "DELETE" && statementId !== undefined && statementId !== "") {
      return {
        operation: "RemovePermission",
        labels: [decodeURIComponent(functionName), decodeURIComponent(statementId)],
      };
    }
    return undefined;
  }
  if (segments.length !== 1) return undefined;
  if (first === "deletepermission" && method === "DELETE") return { operation: "DeletePermission", labels: [] };
  if (method !== "POST") return undefined;
  if (first === "createpermission") return { operation: "CreatePermission", labels: [] };
  if (first === "getpermission") return { operation: "GetPermission", labels: [] };
  if (first === "listpermissions") return { operation: "ListPermissions", labels: [] };
  return undefined;
}

/** Which service a path belongs to, for the error an unknown route gets. */
export function serviceOfPath(segments: readonly string[]): AwsService {
  return /^\d{4}-\d{2}-\d{2}$/.test(segments[0] ?? "") ? "lambda" : "ram";
}

/** One decoded request, handed to an operation's handler. */
export interface WireCall {
  readonly labels: readonly string[];
  readonly query: URLSearchParams;
  /** The JSON body; empty for operations without one. */
  readonly body: JsonObject;
  readonly backend: PermissionBackend;
  readonly options: CallOptions;
}

export interface WireSuccess {
  readonly status: number;
  /** The JSON body; undefined for an empty body. */
  readonly body?: unknown;
  /** The backend's request ID, sent as x-amzn-RequestId; a fresh one when it has none. */
  readonly requestId?: string | undefined;
}

export type OperationHandler = (call: WireCall) => Promise<WireSuccess>;

// How the endpoint serves an operation: its REST binding, as the service
// models define it (`http` traits of @aws-sdk/client-lambda and
// @aws-sdk/client-ram), and its handler. Each service's file
// (lambda-operations.ts, ram-operations.ts) holds one line per operation;
// routing here reads those lines, so a new operation needs no edit here.
import type { CallOptions, PermissionBackend } from "../backend/backend.js";
import type { AwsService } from "../backend/errors.js";
import type { JsonObject } from "./wire-input.js";

// The same operations the fake backend counts and injects faults into.
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

/** An operation's HTTP method and path; a "{Label}" segment is a path label. */
export interface OperationRoute {
  readonly method: string;
  readonly path: string;
}

export interface WireOperation {
  readonly route: OperationRoute;
  readonly handler: OperationHandler;
}

/** One line per operation of a service (or of all): its route and its handler. */
export type WireOperations<O extends FakeAwsOperation> = { readonly [K in O]: WireOperation };

/** `segments` against a route: the still-encoded labels, or undefined when it does not match. */
function matchRoute(route: OperationRoute, method: string, segments: readonly string[]): string[] | undefined {
  if (route.method !== method) return undefined;
  const template = route.path.split("/").slice(1);
  if (template.length !== segments.length) return undefined;
  const labels: string[] = [];
  for (const [index, part] of template.entries()) {
    const segment = segments[index] ?? "";
    if (part.startsWith("{")) {
      if (segment === "") return undefined;
      labels.push(segment);
    } else if (part !== segment) {
      return undefined;
    }
  }
  return labels;
}

/**
 * The operation a request addresses. `segments` are the path's segments,
 * still percent-encoded: a label is decoded only once it is known to be one,
 * so an encoded "/" inside a function name cannot split the path.
 * Undefined when nothing matches; throws URIError for a malformed escape.
 */
export function routeRequest(
  operations: WireOperations<FakeAwsOperation>,
  method: string,
  segments: readonly string[],
): RoutedRequest | undefined {
  for (const operation of Object.keys(operations) as FakeAwsOperation[]) {
    const labels = matchRoute(operations[operation].route, method, segments);
    if (labels !== undefined) return { operation, labels: labels.map((label) => decodeURIComponent(label)) };
  }
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

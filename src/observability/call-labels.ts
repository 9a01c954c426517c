// What the metrics, the access log and the spans call an RPC, a protocol and
// a status code. Every value comes from a fixed set (the served methods, three
// protocols, seventeen codes), so no label can grow without bound.
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

export type Protocol = "connect" | "grpc" | "grpc_web";
export const PROTOCOLS: readonly Protocol[] = ["connect", "grpc", "grpc_web"];

/** The protocol of a call, from its content type (Connect GET requests have none). */
export function protocolOf(header: Headers): Protocol {
  const contentType = header.get("content-type");
  if (contentType === null || !contentType.startsWith("application/grpc")) return "connect";
  return contentType.startsWith("application/grpc-web") ? "grpc_web" : "grpc";
}

/** gRPC's names of the status codes, as the error table of docs/errors.md writes them. */
const codeNames: readonly string[] = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

export const CODE_COUNT = codeNames.length;

/** 0 (OK) for no error. */
export type StatusCode = 0 | Code;

export function codeName(code: StatusCode): string {
  return codeNames[code] ?? "UNKNOWN";
}

/** The status code a call ended with: OK without an error, as the wire will say otherwise. */
export function codeOf(error: unknown): StatusCode {
  if (error === undefined) return 0;
  return error instanceof ConnectError ? error.code : ConnectError.from(error).code;
}

/** "permission.v1.PermissionService/GetLambdaPolicy". */
export function rpcName(method: DescMethod): string {
  return `${method.parent.typeName}/${method.name}`;
}

/**
 * A per-instance cache of what an interceptor derives from a method (its
 * labels, its metric children), so a call does the work only the first time.
 */
export function createMethodCache<T>(build: (method: DescMethod) => T): (method: DescMethod) => T {
  const cache = new WeakMap<DescMethod, T>();
  return (method) => {
    let value = cache.get(method);
    if (value === undefined) {
      value = build(method);
      cache.set(method, value);
    }
    return value;
  };
}

/** Whether a code means the server failed (OpenTelemetry's rule for gRPC server spans). */
export function isServerFault(code: StatusCode): boolean {
  return (
    code === Code.Unknown ||
    code === Code.DeadlineExceeded ||
    code === Code.Unimplemented ||
    code === Code.Internal ||
    code === Code.Unavailable ||
    code === Code.DataLoss
  );
}

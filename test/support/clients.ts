// Four independent ways to call the gateway, behind one shape so a scenario
// table can run through each: the Connect protocol (JSON over HTTP/1.1), gRPC
// (connect-node over h2c), gRPC-Web (connect-node over HTTP/1.1) and
// @grpc/grpc-js with @grpc/proto-loader reading the .proto file (a separate
// implementation that shares no code with the server).
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { fromBinary, fromJson, toJson, type DescMessage, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import type { Code } from "@connectrpc/connect";
import { ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { BadRequestSchema, ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";

export type MethodName = keyof typeof PermissionService.method;

/** A failure, reduced to what tests assert on, whichever client saw it. */
export interface CallFailure {
  readonly code: Code;
  readonly message: string;
  readonly reason: string | undefined;
  readonly domain: string | undefined;
  readonly metadata: Record<string, string>;
  /** Type names of all details, e.g. ["google.rpc.ErrorInfo", "google.rpc.RetryInfo"]. */
  readonly detailTypes: string[];
  /** Field paths of BadRequest violations. */
  readonly violations: string[];
  readonly errorInfoCount: number;
}

export type CallResult =
  | { readonly ok: true; readonly response: JsonValue; readonly headers: Headers }
  | { readonly ok: false; readonly error: CallFailure };

export interface GatewayClient {
  readonly name: string;
  /** Request and response in protobuf JSON form (lowerCamelCase). */
  call(
    method: MethodName,
    request: JsonValue,
    options?: { timeoutMs?: number; headers?: Record<string, string> },
  ): Promise<CallResult>;
  close(): void;
}

/** The response of a call that must have succeeded, as the JSON object it is. */
export function responseOf(result: CallResult): JsonObject {
  assert.ok(result.ok, `expected success, got ${JSON.stringify(result.ok ? null : result.error)}`);
  return result.response as JsonObject;
}

/** The failure of a call that must have failed. */
export function failureOf(result: CallResult): CallFailure {
  assert.ok(!result.ok, `expected a failure, got ${JSON.stringify(result.ok ? result.response : null)}`);
  return result.error;
}

/** A string member of a JSON response; anything else (absent included) fails the test. */
export function stringMember(response: JsonObject, name: string): string {
  const value = response[name];
  assert.equal(typeof value, "string", `${name} is a string in ${JSON.stringify(response)}`);
  return value as string;
}

export const clientKinds = ["connect-json", "grpc", "grpc-web", "grpc-js"] as const;
export type ClientKind = (typeof clientKinds)[number];

export function createGatewayClient(kind: ClientKind, baseUrl: string): GatewayClient {
  switch (kind) {
    case "connect-json":
      return connectEsClient(kind, createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false }));
    case "grpc":
      return connectEsClient(kind, createGrpcTransport({ baseUrl }));
    case "grpc-web":
      return connectEsClient(kind, createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }));
    case "grpc-js":
      return grpcJsClient(baseUrl);
  }
}

function connectEsClient(name: string, transport: Transport): GatewayClient {
  const client = createClient(PermissionService, transport);
  return {
    name,
    async call(method, request, options = {}) {
      const desc = PermissionService.method[method];
      const headers = new Headers();
      try {
        const invoke = client[method] as (req: unknown, opts: unknown) => Promise<unknown>;
        const response = await invoke(fromJson(desc.input, request), {
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
          headers: options.headers ?? {},
          onHeader: (h: Headers) => h.forEach((v, k) => headers.set(k, v)),
        });
        return { ok: true, response: toJson(desc.output, response as never), headers };
      } catch (error) {
        const e = ConnectError.from(error);
        const infos = e.findDetails(ErrorInfoSchema);
        const detailTypes = e.details.map((d) => ("desc" in d ? d.desc.typeName : d.type));
        return {
          ok: false,
          error: {
            code: e.code,
            message: e.rawMessage,
            reason: infos[0]?.reason,
            domain: infos[0]?.domain,
            metadata: { ...infos[0]?.metadata },
            detailTypes,
            violations: e.findDetails(BadRequestSchema).flatMap((b) => b.fieldViolations.map((v) => v.field)),
            errorInfoCount: infos.length,
          },
        };
      }
    },
    close() {},
  };
}

const protoPath = fileURLToPath(new URL("../../proto/permission/v1/permission.proto", import.meta.url));

function grpcJsClient(baseUrl: string): GatewayClient {
  const definition = protoLoader.loadSync(protoPath, {
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    permission: { v1: { PermissionService: grpc.ServiceClientConstructor } };
  };
  const target = new URL(baseUrl).host;
  const stub = new loaded.permission.v1.PermissionService(target, grpc.credentials.createInsecure());
  return {
    name: "grpc-js",
    call(method, request, options = {}) {
      const desc = PermissionService.method[method];
      // grpc-js serializes with protobufjs; feed it the canonical JSON shape.
      const plain = toJson(desc.input, fromJson(desc.input, request), { alwaysEmitImplicit: false });
      const metadata = new grpc.Metadata();
      for (const [k, v] of Object.entries(options.headers ?? {})) metadata.set(k, v);
      const callOptions: grpc.CallOptions =
        options.timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + options.timeoutMs) };
      const rpcName = method.charAt(0).toUpperCase() + method.slice(1);
      return new Promise<CallResult>((resolve) => {
        const headers = new Headers();
        const fn = (stub as unknown as Record<string, (...args: unknown[]) => grpc.ClientUnaryCall>)[rpcName];
        if (fn === undefined) throw new Error(`grpc-js stub has no method ${rpcName}`);
        const call = fn.call(stub, plain, metadata, callOptions, (err: grpc.ServiceError | null, res: unknown) => {
          if (err === null) {
            resolve({ ok: true, response: grpcJsToJson(desc.output, res), headers });
            return;
          }
          resolve({ ok: false, error: grpcJsFailure(err) });
        });
        call.on("metadata", (md: grpc.Metadata) => {
          for (const [k, v] of Object.entries(md.getMap())) headers.set(k, String(v));
        });
      });
    },
    close() {
      stub.close();
    },
  };
}

/** proto-loader objects use camelCase keys and string enums: close to proto JSON. */
function grpcJsToJson(desc: DescMessage, value: unknown): JsonValue {
  const json = JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => {
      if (v !== null && typeof v === "object" && "seconds" in v && "nanos" in v) {
        const t = v as { seconds: string; nanos: number };
        return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6)).toISOString();
      }
      return v;
    }),
  ) as JsonValue;
  // Normalise through protobuf-es so both client families compare equal.
  return toJson(desc, fromJson(desc, json, { ignoreUnknownFields: true }));
}

function grpcJsFailure(err: grpc.ServiceError): CallFailure {
  const raw = err.metadata.get("grpc-status-details-bin")[0];
  const status =
    raw === undefined ? undefined : fromBinary(StatusSchema, raw instanceof Buffer ? raw : Buffer.from(raw));
  const details = status?.details ?? [];
  const infos = details.flatMap((any) => {
    const info = anyUnpack(any, ErrorInfoSchema);
    return info === undefined ? [] : [info];
  });
  const violations = details.flatMap(
    (any) => anyUnpack(any, BadRequestSchema)?.fieldViolations.map((v) => v.field) ?? [],
  );
  return {
    code: err.code as number,
    message: decodeURIComponentSafe(err.details),
    reason: infos[0]?.reason,
    domain: infos[0]?.domain,
    metadata: { ...infos[0]?.metadata },
    detailTypes: details.map((d) => d.typeUrl.replace(/^.*\//, "")),
    violations,
    errorInfoCount: infos.length,
  };
}

/** grpc-js decodes grpc-message with decodeURI, so "%3A" may survive. */
function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

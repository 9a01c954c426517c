// One RPC of the gateway from the command line: the method by name, the
// request from JSON, one of the three protocols, the caller's credentials;
// the answer as JSON, or the error with its google.rpc details decoded.
// Used by src/cli/main.ts; no process state here.
import { readFileSync } from "node:fs";
import {
  createRegistry,
  fromBinary,
  fromJson,
  toJson,
  type DescMethod,
  type DescService,
  type JsonValue,
} from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { Health } from "../../gen/health/v1/health_pb.js";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";

export const PROTOCOLS = ["connect", "grpc", "grpc-web"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface CallOptions {
  readonly baseUrl: string;
  readonly protocol: Protocol;
  /** Sent as "authorization: Bearer <token>": a JWT or an API key. */
  readonly bearerToken?: string | undefined;
  readonly headers: readonly (readonly [string, string])[];
  /** PEM files: the client certificate and key for mTLS, the CA that signed the gateway's certificate. */
  readonly tls: { readonly certFile?: string; readonly keyFile?: string; readonly caFile?: string };
  readonly timeoutMs?: number | undefined;
}

/** A caller's mistake in the command line, reported as one line and exit 2. */
export class UsageError extends Error {}

const services: readonly DescService[] = [PermissionService, Health];

/** The unary methods this client can call, by full name (`permission.v1.PermissionService/GetLambdaPolicy`). */
export function methodNames(): string[] {
  return services.flatMap((service) =>
    service.methods.filter((m) => m.methodKind === "unary").map((m) => `${service.typeName}/${m.name}`),
  );
}

/** `GetLambdaPolicy`, `getLambdaPolicy` or `permission.v1.PermissionService/GetLambdaPolicy`. */
export function findMethod(name: string): DescMethod {
  const slash = name.lastIndexOf("/");
  const serviceName = slash < 0 ? undefined : name.slice(0, slash).replace(/^\//, "");
  const methodName = name.slice(slash + 1).toLowerCase();
  const found = services
    .filter((service) => serviceName === undefined || service.typeName === serviceName)
    .flatMap((service) => service.methods)
    .filter((method) => method.name.toLowerCase() === methodName);
  const method = found[0];
  if (found.length !== 1 || method === undefined)
    throw new UsageError(`unknown method "${name}": expected one of ${methodNames().join(", ")}`);
  if (method.methodKind !== "unary")
    throw new UsageError(`method "${name}" is ${method.methodKind}: only unary methods can be called`);
  return method;
}

/** "500ms" or "5s" -> milliseconds. */
export function parseTimeout(text: string): number {
  const match = /^(\d+)(ms|s)$/.exec(text);
  const amount = Number(match?.[1]);
  if (match === null || amount <= 0 || !Number.isSafeInteger(amount))
    throw new UsageError(
      `--timeout "${text}" is not valid: expected a positive whole number with ms or s, e.g. 500ms or 5s`,
    );
  return match[2] === "s" ? amount * 1000 : amount;
}

/** "name: value" -> [name, value]. */
export function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(":");
  const name = text.slice(0, colon).trim();
  if (colon < 1 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
    throw new UsageError(`--header "${text}" is not valid: expected "name: value"`);
  return [name, text.slice(colon + 1).trim()];
}

function readPem(flag: string, file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`${flag} ${JSON.stringify(file)} cannot be read: ${(error as Error).message}`);
  }
}

function createTransport(options: CallOptions): Transport {
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    throw new UsageError(`--url "${options.baseUrl}" is not valid: expected http://host:port or https://host:port`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`--url "${options.baseUrl}" is not valid: expected an http:// or https:// URL`);
  const tls = {
    ...optional("cert", readPem("--cert", options.tls.certFile)),
    ...optional("key", readPem("--key", options.tls.keyFile)),
    ...optional("ca", readPem("--cacert", options.tls.caFile)),
  };
  if ((tls.cert === undefined) !== (tls.key === undefined))
    throw new UsageError("--cert and --key go together: give both for mutual TLS, or neither");
  if (Object.keys(tls).length > 0 && url.protocol !== "https:")
    throw new UsageError(`--cert, --key and --cacert need an https:// --url, not "${options.baseUrl}"`);
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  switch (options.protocol) {
    // gRPC needs HTTP/2 (h2c prior knowledge on http://); the other two go over HTTP/1.1 as curl would.
    case "grpc":
      return createGrpcTransport({ baseUrl, nodeOptions: tls });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1", nodeOptions: tls });
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: tls });
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

export type CallOutcome =
  | { readonly ok: true; readonly response: JsonValue; readonly headers: Headers; readonly trailers: Headers }
  | { readonly ok: false; readonly error: JsonValue };

/** Calls `method` with `requestJson`; an RPC error is an outcome, a usage mistake a UsageError. */
export async function callMethod(method: DescMethod, requestJson: string, options: CallOptions): Promise<CallOutcome> {
  let request;
  try {
    request = fromJson(method.input, JSON.parse(requestJson) as JsonValue);
  } catch (error) {
    throw new UsageError(`the request is not a valid ${method.input.typeName} in JSON: ${(error as Error).message}`);
  }
  const headers = new Headers(options.headers.map(([name, value]) => [name, value]));
  if (options.bearerToken !== undefined) headers.set("authorization", `Bearer ${options.bearerToken}`);
  const client: Client<DescService> = createClient(method.parent, createTransport(options));
  const call = client[method.localName] as unknown as (
    input: unknown,
    callOptions: object,
  ) => Promise<Parameters<typeof toJson>[1]>;
  let responseHeaders = new Headers();
  let responseTrailers = new Headers();
  try {
    const response = await call(request, {
      headers,
      ...optional("timeoutMs", options.timeoutMs),
      onHeader: (h: Headers) => (responseHeaders = h),
      onTrailer: (t: Headers) => (responseTrailers = t),
    });
    return {
      ok: true,
      response: toJson(method.output, response),
      headers: responseHeaders,
      trailers: responseTrailers,
    };
  } catch (error) {
    return { ok: false, error: describeError(ConnectError.from(error)) };
  }
}

const detailRegistry = createRegistry(file_google_rpc_error_details);

/** gRPC's name of a code: Code.NotFound -> "NOT_FOUND". */
export function codeName(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/**
 * The error as JSON: code, message and each detail in the JSON form of a
 * google.protobuf.Any (`@type` and the message's fields), decoded when it is
 * one of the google.rpc error details, else its bytes in base64.
 */
export function describeError(error: ConnectError): JsonValue {
  const details = error.details.map((detail): JsonValue => {
    if (!("type" in detail)) return { "@type": `type.googleapis.com/${detail.desc.typeName}` };
    const schema = detailRegistry.getMessage(detail.type);
    const typeUrl = `type.googleapis.com/${detail.type}`;
    if (schema === undefined) return { "@type": typeUrl, value: Buffer.from(detail.value).toString("base64") };
    try {
      const json = toJson(schema, fromBinary(schema, detail.value), { registry: detailRegistry });
      return { "@type": typeUrl, ...(json as Record<string, JsonValue>) };
    } catch {
      return { "@type": typeUrl, value: Buffer.from(detail.value).toString("base64") };
    }
  });
  return { code: codeName(error.code), message: error.rawMessage, details };
}

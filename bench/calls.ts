// The calls the scenarios send, each usable three ways from one definition:
// as h2load's fixed gRPC body, as an autocannon Connect JSON body, and as a
// sample call through a real connect-node client that checks the call
// succeeds before a generator sends it thousands of times (h2load cannot see
// a gRPC error: it is an HTTP 200).
import {
  create,
  toJsonString,
  type DescMessage,
  type DescMethodUnary,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import type { UnaryResponse } from "@connectrpc/connect";
import { PermissionService } from "../gen/permission/v1/permission_pb.js";
import { connectPost, type AutocannonLoad, type ConnectRequest } from "./load/autocannon.js";
import { grpcFrame, type H2loadLoad } from "./load/h2load.js";
import type { ServerUnderTest } from "./servers.js";

export interface Call<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> {
  readonly method: DescMethodUnary<I, O>;
  readonly init: MessageInitShape<I>;
}

export function call<I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  init: MessageInitShape<I>,
): Call<I, O> {
  return { method, init };
}

export const rpc = PermissionService.method;

export function rpcPath(method: DescMethodUnary): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** The request in protobuf's JSON mapping, as a Connect client sends it. */
export function jsonBody<I extends DescMessage>(c: Call<I>): unknown {
  return JSON.parse(toJsonString(c.method.input, create(c.method.input, c.init)));
}

export function connectRequest(c: Call): ConnectRequest {
  return connectPost(rpcPath(c.method), jsonBody(c));
}

export interface GrpcShape {
  readonly clients: number;
  readonly streams: number;
  readonly requestsPerSecondPerClient?: number | undefined;
}

export function grpcLoad(c: Call, shape: GrpcShape): H2loadLoad {
  return { tool: "h2load", path: rpcPath(c.method), frame: grpcFrame(c.method.input, c.init), ...shape };
}

export function connectLoad(
  requests: readonly ConnectRequest[],
  connections: number,
  overallRate?: number,
): AutocannonLoad {
  return { tool: "autocannon", connections, requests, overallRate };
}

export type Protocol = "grpc" | "connect";

function transportFor(server: ServerUnderTest, protocol: Protocol): Transport {
  return protocol === "grpc"
    ? // A sample call's session must not keep the harness alive once it is done.
      createGrpcTransport({ baseUrl: server.grpcUrl, idleConnectionTimeoutMs: 500 })
    : createConnectTransport({ baseUrl: server.connectUrl, httpVersion: "1.1" });
}

/** One call through a real client; a failure names the server, the RPC and the code. */
export async function sampleCall<I extends DescMessage, O extends DescMessage>(
  server: ServerUnderTest,
  protocol: Protocol,
  c: Call<I, O>,
  headers: Readonly<Record<string, string>> = {},
): Promise<UnaryResponse<I, O>> {
  try {
    return await transportFor(server, protocol).unary(c.method, undefined, 30_000, headers, c.init);
  } catch (error) {
    const e = ConnectError.from(error);
    throw new Error(
      `${server.label}: sample ${c.method.name} over ${protocol} failed: ${Code[e.code]} ${e.rawMessage}`,
      { cause: error },
    );
  }
}

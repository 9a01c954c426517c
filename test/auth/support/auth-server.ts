// A minimal Connect server of the tests' own: the interceptors under test in
// front of a PermissionService whose GetLambdaPolicy answers with the caller
// identity it was handed, and the peer facts set from the real socket, as
// the gateway's server does. HTTPS asks for client certificates without
// aborting the handshake (requestCert, rejectUnauthorized: false).
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import type { SecureContextOptions } from "node:tls";
import {
  type Code,
  ConnectError,
  createClient,
  createContextValues,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema, RetryInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { PermissionService } from "../../../gen/permission/v1/permission_pb.js";
import { callerContextKey, type CallerIdentity } from "../../../src/auth/identity.js";
import { peerContextKey, readPeerInfo } from "../../../src/auth/peer.js";

export interface AuthTestServer {
  readonly url: string;
  /** Calls that got past the interceptors to the service. */
  readonly handled: () => number;
  /** For setSecureContext (HTTPS only). */
  readonly tlsServer: http2.Http2SecureServer | undefined;
  close(): Promise<void>;
}

export async function startAuthTestServer(options: {
  readonly interceptors: Interceptor[];
  readonly tls?: SecureContextOptions | undefined;
}): Promise<AuthTestServer> {
  let handled = 0;
  const handler = connectNodeAdapter({
    routes(router) {
      router.service(PermissionService, {
        getLambdaPolicy(_req, context) {
          handled++;
          return { policy: JSON.stringify(context.values.get(callerContextKey) ?? null), revisionId: "r" };
        },
      });
    },
    interceptors: options.interceptors,
    contextValues(req) {
      const values = createContextValues();
      values.set(peerContextKey, readPeerInfo(req));
      return values;
    },
  });
  const tlsServer =
    options.tls === undefined
      ? undefined
      : http2.createSecureServer(
          { ...options.tls, requestCert: true, rejectUnauthorized: false, allowHTTP1: true },
          handler,
        );
  const server = tlsServer ?? http.createServer(handler);
  const sockets = new Set<Socket>();
  server.on(tlsServer === undefined ? "connection" : "secureConnection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tlsServer === undefined ? "http" : "https"}://127.0.0.1:${port}`,
    handled: () => handled,
    tlsServer,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

export type CallOutcome =
  | { readonly ok: true; readonly caller: CallerIdentity }
  | {
      readonly ok: false;
      readonly code: Code;
      readonly message: string;
      readonly reason: string | undefined;
      readonly domain: string | undefined;
      readonly metadata: Record<string, string>;
      readonly retryDelayMs: number | undefined;
    };

/** One GetLambdaPolicy call; the identity the service saw, or the error reduced to what tests assert. */
export async function callAs(transport: Transport, headers: Record<string, string> = {}): Promise<CallOutcome> {
  const client = createClient(PermissionService, transport);
  try {
    const response = await client.getLambdaPolicy({ functionName: "demo" }, { headers, timeoutMs: 10_000 });
    return { ok: true, caller: JSON.parse(response.policy) as CallerIdentity };
  } catch (error) {
    const e = ConnectError.from(error);
    const info = e.findDetails(ErrorInfoSchema)[0];
    const retry = e.findDetails(RetryInfoSchema)[0]?.retryDelay;
    return {
      ok: false,
      code: e.code,
      message: e.rawMessage,
      reason: info?.reason,
      domain: info?.domain,
      metadata: { ...info?.metadata },
      retryDelayMs: retry === undefined ? undefined : Number(retry.seconds) * 1000 + Math.round(retry.nanos / 1e6),
    };
  }
}

/** A Connect-protocol transport (HTTP/1.1 unless asked), with TLS client options when given. */
export function connectTransport(
  baseUrl: string,
  options: { httpVersion?: "1.1" | "2"; tls?: { ca: Buffer; cert?: Buffer; key?: Buffer } } = {},
): Transport {
  return createConnectTransport({
    baseUrl,
    httpVersion: options.httpVersion ?? "1.1",
    ...(options.tls === undefined ? {} : { nodeOptions: options.tls }),
  });
}

// A minimal Connect server for the tests of this folder and test/health: the
// services and interceptors under test on connect-node's own adapter, served
// over h2c (gRPC clients, buf curl --http2-prior-knowledge) and HTTP/1.1
// (fetch, the Connect protocol, gRPC-Web) on two loopback ports.
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { ConnectRouter, ContextValues, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { HttpEndpoint } from "../../../src/observability/http-endpoint.js";

export interface TestServer {
  /** h2c with prior knowledge. */
  readonly h2Url: string;
  readonly http1Url: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  readonly routes: (router: ConnectRouter) => void;
  readonly interceptors?: Interceptor[];
  /** Tried in order for paths that are not RPCs. */
  readonly endpoints?: readonly HttpEndpoint[];
  /** Per-request context values from the Node request (e.g. the peer address). */
  readonly contextValues?: (req: http.IncomingMessage | http2.Http2ServerRequest) => ContextValues;
}

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const handler = connectNodeAdapter({
    routes: options.routes,
    interceptors: options.interceptors ?? [],
    ...(options.contextValues === undefined ? {} : { contextValues: options.contextValues }),
    fallback(req, res) {
      for (const endpoint of options.endpoints ?? []) if (endpoint(req, res)) return;
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    },
  });
  const h2 = http2.createServer(handler);
  const h1 = http.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const h2Port = await listen(h2);
  const h1Port = await listen(h1);
  return {
    h2Url: `http://127.0.0.1:${h2Port}`,
    http1Url: `http://127.0.0.1:${h1Port}`,
    async close() {
      for (const session of sessions) session.destroy();
      h1.closeAllConnections();
      await Promise.all([new Promise((resolve) => h2.close(resolve)), new Promise((resolve) => h1.close(resolve))]);
    },
  };
}

async function listen(server: http.Server | http2.Http2Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

// The HTTP server: one port serving the Connect protocol, gRPC and gRPC-Web
// over HTTP/1.1 and cleartext HTTP/2 (prior knowledge, as gRPC clients use on
// loopback). Node's http2 server only speaks h2c when the client starts with
// the HTTP/2 preface, so each connection's first bytes decide which server
// gets it.
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { PermissionService } from "../gen/permission/v1/permission_pb.js";
import type { PermissionBackend } from "./backend/backend.js";
import type { Clock } from "./clock.js";
import type { IdempotencyGuard } from "./idempotency/guard.js";
import type { Logger } from "./logger.js";
import { createCorsPolicy } from "./cors.js";
import { createPermissionService } from "./service.js";

export interface ServerDeps {
  readonly backend: PermissionBackend;
  readonly idempotency: IdempotencyGuard;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly newClientToken?: (() => string) | undefined;
}

export interface ListenOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Browser origins allowed to call (CORS); "*" for any. Default: none. */
  readonly corsAllowedOrigins?: readonly string[] | undefined;
}

export interface RunningServer {
  /** e.g. "http://127.0.0.1:8080". */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and ends open ones. */
  close(): Promise<void>;
}

type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export function createRequestHandler(deps: ServerDeps, corsAllowedOrigins: readonly string[] = []): RequestHandler {
  const routes = (router: ConnectRouter): void => {
    router.service(PermissionService, createPermissionService(deps));
  };
  const handler = connectNodeAdapter({
    routes,
    interceptors: [logCalls(deps.logger, deps.clock)],
    fallback(req, res) {
      if (req.url === "/healthz") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("ok\n");
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    },
  });
  const cors = createCorsPolicy(corsAllowedOrigins);
  return (req, res) => {
    if (!cors(req, res)) handler(req, res);
  };
}

export async function startServer(deps: ServerDeps, listen: ListenOptions): Promise<RunningServer> {
  const handle = createRequestHandler(deps, listen.corsAllowedOrigins);
  const http1 = http.createServer(handle);
  const h2c = http2.createServer(handle);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2c.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // Read until the bytes either differ from the HTTP/2 preface (HTTP/1.1)
    // or complete it (h2c), then hand the connection over with them put back.
    let head = Buffer.alloc(0);
    const route = (): void => {
      for (let chunk: Buffer | null = socket.read(); chunk !== null; chunk = socket.read()) head = Buffer.concat([head, chunk]);
      const seen = Math.min(head.length, preface.length);
      const isHttp2 = head.subarray(0, seen).equals(preface.subarray(0, seen));
      if (isHttp2 && head.length < preface.length) return;
      socket.off("readable", route);
      socket.unshift(head);
      (isHttp2 ? h2c : http1).emit("connection", socket);
    };
    socket.on("readable", route);
    socket.on("error", (error) => deps.logger.debug("client socket error", { error }));
  });

  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(listen.port, listen.host, () => {
      front.off("error", reject);
      resolve();
    });
  });
  const address = front.address() as net.AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        front.close(() => resolve());
        for (const session of sessions) session.close();
        http1.closeIdleConnections();
        // Give in-flight calls a moment, then cut what is left.
        setTimeout(() => {
          for (const session of sessions) session.destroy();
          for (const socket of sockets) socket.destroy();
        }, 200).unref();
      });
      return closing;
    },
  };
}

function logCalls(logger: Logger, clock: Clock): Interceptor {
  return (next) => async (req) => {
    const started = clock.now();
    try {
      const res = await next(req);
      logger.debug("call", { method: req.method.name, ms: clock.now() - started });
      return res;
    } catch (error) {
      logger.info("call failed", { method: req.method.name, ms: clock.now() - started, code: codeOf(error) });
      throw error;
    }
  };
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}

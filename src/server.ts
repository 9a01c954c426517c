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
}

export interface RunningServer {
  /** e.g. "http://127.0.0.1:8080". */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and ends open ones. */
  close(): Promise<void>;
}

/** Response headers a browser (gRPC-Web, Connect) may read across origins. */
const exposedHeaders = ["grpc-status", "grpc-message", "grpc-status-details-bin", "idempotent-replayed"];

export function createRequestHandler(deps: ServerDeps): (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void {
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
  return (req, res) => {
    res.setHeader("access-control-expose-headers", exposedHeaders.join(", "));
    handler(req, res);
  };
}

export async function startServer(deps: ServerDeps, listen: ListenOptions): Promise<RunningServer> {
  const handle = createRequestHandler(deps);
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
    socket.once("readable", function route() {
      const head: Buffer | null = socket.read(preface.length) ?? socket.read();
      if (head === null) {
        socket.once("readable", route);
        return;
      }
      socket.unshift(head);
      const seen = Math.min(head.length, preface.length);
      const isHttp2 = head.subarray(0, seen).equals(preface.subarray(0, seen));
      (isHttp2 ? h2c : http1).emit("connection", socket);
    });
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

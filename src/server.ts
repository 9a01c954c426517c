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
  /** Serve HTTPS (HTTP/2 via ALPN, HTTP/1.1 fallback) instead of cleartext. */
  readonly tls?: { readonly cert: Buffer | string; readonly key: Buffer | string } | undefined;
  /** Largest request message accepted. Default 1 MiB. */
  readonly maxRequestBytes?: number | undefined;
  /** How long close() lets in-flight calls finish before cutting them. Default 10 s. */
  readonly shutdownGraceMs?: number | undefined;
  /** An HTTP/2 connection with no stream for this long is closed. Default 5 min. */
  readonly idleTimeoutMs?: number | undefined;
}

export interface RunningServer {
  /** e.g. "http://127.0.0.1:8080". */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets in-flight calls finish (up to the grace period), then ends every connection. */
  close(): Promise<void>;
}

type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** A connection that has not sent enough bytes to pick a protocol by then is dropped. */
const sniffTimeoutMs = 10_000;

export function createRequestHandler(
  deps: ServerDeps,
  options: { corsAllowedOrigins?: readonly string[] | undefined; maxRequestBytes?: number | undefined } = {},
): RequestHandler {
  const routes = (router: ConnectRouter): void => {
    router.service(PermissionService, createPermissionService(deps));
  };
  const handler = connectNodeAdapter({
    routes,
    readMaxBytes: options.maxRequestBytes ?? 1024 * 1024,
    // A misspelt field (AWS's "PrincipalOrgID" for principalOrgId) must be an
    // error, not silently dropped: dropping a condition widens a grant.
    jsonOptions: { ignoreUnknownFields: false },
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
  const cors = createCorsPolicy(options.corsAllowedOrigins ?? []);
  return (req, res) => {
    if (!cors(req, res)) handler(req, res);
  };
}

export async function startServer(deps: ServerDeps, listen: ListenOptions): Promise<RunningServer> {
  const serve = createRequestHandler(deps, listen);
  const idleTimeoutMs = listen.idleTimeoutMs ?? 5 * 60_000;
  const shutdownGraceMs = listen.shutdownGraceMs ?? 10_000;

  // In-flight calls, so close() can wait for them to finish.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  let closingStarted = false;
  const handle: RequestHandler = (req, res) => {
    inFlight++;
    res.once("close", () => {
      inFlight--;
      if (closingStarted) http1.closeIdleConnections();
      if (inFlight === 0) drained?.();
    });
    serve(req, res);
  };

  const http1 = http.createServer(handle);
  const sessions = new Set<http2.ServerHttp2Session>();
  const trackSession = (session: http2.ServerHttp2Session): void => {
    sessions.add(session);
    session.setTimeout(idleTimeoutMs, () => session.close());
    session.once("close", () => sessions.delete(session));
  };
  const sockets = new Set<net.Socket>();
  const trackSocket = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", (error) => deps.logger.debug("client socket error", { error }));
  };

  let front: net.Server;
  if (listen.tls !== undefined) {
    // With TLS, ALPN picks HTTP/2 or HTTP/1.1: no sniffing needed.
    const secure = http2.createSecureServer({ cert: listen.tls.cert, key: listen.tls.key, allowHTTP1: true }, handle);
    secure.on("session", trackSession);
    secure.on("connection", trackSocket);
    front = secure;
  } else {
    const h2c = http2.createServer(handle);
    h2c.on("session", trackSession);
    const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    front = net.createServer((socket) => {
      trackSocket(socket);
      socket.setTimeout(sniffTimeoutMs, () => socket.destroy());
      // Read until the bytes either differ from the HTTP/2 preface (HTTP/1.1)
      // or complete it (h2c), then hand the connection over with them put back.
      let head = Buffer.alloc(0);
      const route = (): void => {
        for (let chunk: Buffer | null = socket.read(); chunk !== null; chunk = socket.read()) head = Buffer.concat([head, chunk]);
        const seen = Math.min(head.length, preface.length);
        const isHttp2 = head.subarray(0, seen).equals(preface.subarray(0, seen));
        if (isHttp2 && head.length < preface.length) return;
        socket.off("readable", route);
        socket.setTimeout(0);
        socket.unshift(head);
        (isHttp2 ? h2c : http1).emit("connection", socket);
      };
      socket.on("readable", route);
    });
  }

  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(listen.port, listen.host, () => {
      front.off("error", reject);
      resolve();
    });
  });
  const address = front.address() as net.AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const scheme = listen.tls === undefined ? "http" : "https";

  let closing: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    closingStarted = true;
    const stopped = new Promise<void>((resolve) => front.close(() => resolve()));
    // GOAWAY: HTTP/2 clients finish their streams and open no new ones.
    for (const session of sessions) session.close();
    http1.closeIdleConnections();
    if (inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, shutdownGraceMs);
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
    await stopped;
  };
  return {
    url: `${scheme}://${host}:${address.port}`,
    port: address.port,
    close() {
      closing ??= shutdown();
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

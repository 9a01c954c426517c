// The HTTP server: one port serving the Connect protocol, gRPC and gRPC-Web
// over HTTP/1.1 and HTTP/2 (cleartext with prior knowledge, as gRPC clients
// use it on loopback, or TLS with ALPN). Node's http2 server only speaks h2c
// when the client starts with the HTTP/2 preface, so each cleartext
// connection's first bytes decide which server gets it.
//
// It owns the limits that keep one client from taking the process down (open
// connections, HTTP/2 streams per connection, header sizes, slow and idle
// clients, calls in flight) and the shutdown: stop accepting, let calls in
// flight finish, cut what is left and wait until it has cleaned up.
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import * as tls from "node:tls";
import { createContextValues, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { PermissionService } from "../gen/permission/v1/permission_pb.js";
import { createAuthenticationInterceptor } from "./auth/authentication-interceptor.js";
import type { Authenticator } from "./auth/authenticator.js";
import { createNoAuthenticator } from "./auth/none/none-authenticator.js";
import { peerContextKey, readPeerInfo } from "./auth/peer.js";
import type { PermissionBackend } from "./backend/backend.js";
import type { Clock } from "./clock.js";
import { createCorsPolicy } from "./cors.js";
import {
  createRpcHandler,
  type NodeHandler,
  type NodeRequest,
  type NodeResponse,
  type RejectedRequest,
  writeHead,
} from "./http/rpc-handler.js";
import type { IdempotencyGuard } from "./idempotency/guard-port.js";
import type { Logger } from "./logger.js";
import { createCallAdmission } from "./rpc/call-admission.js";
import { createCallContextInterceptor } from "./rpc/call-context.js";
import { composeInterceptors } from "./rpc/interceptor-chain.js";
import { createPermissionService } from "./service.js";
import { SERVER_DEFAULTS, SERVER_LIMIT_DEFAULTS } from "./server-config.js";
import { definedOnly } from "./util/defined-only.js";

export interface ServerDeps {
  readonly backend: PermissionBackend;
  readonly idempotency: IdempotencyGuard;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Generates RAM client tokens a caller did not send; injectable for tests. Default: UUID v4. */
  readonly newClientToken?: (() => string) | undefined;
  /** Who the caller is; every call is authenticated first. Default: AUTH_MODE=none (x-caller-id, unverified). */
  readonly authenticator?: Authenticator | undefined;
  /**
   * The steps of an admitted, authenticated call before the service, outermost
   * first: per-caller limits, audit, authorization.
   */
  readonly callInterceptors?: readonly Interceptor[] | undefined;
  /** Steps that see every call, admitted or not: access log, metrics, traces. Outermost first. */
  readonly observers?: readonly Interceptor[] | undefined;
  /** Answers the non-RPC paths (health, readiness, metrics); returns false for any other path. */
  readonly httpRoutes?: ((req: NodeRequest, res: NodeResponse) => boolean) | undefined;
  /** Told of every request refused before it reached an RPC (logs and metrics); default: an info log line. */
  readonly onRejected?: ((request: RejectedRequest) => void) | undefined;
  /** Told of every call shed for overload. */
  readonly onShed?: ((method: string) => void) | undefined;
  /** Services served besides PermissionService (health, reflection). */
  readonly services?: ((router: ConnectRouter) => void) | undefined;
  /**
   * Services that skip admission and authentication: probes a load balancer
   * or kubelet sends without credentials and that must answer under load.
   */
  readonly probeServices?: readonly string[] | undefined;
}

/** Every limit of the server; those not given take DEFAULT_LIMITS. */
export interface ResolvedLimits {
  readonly maxConnections: number;
  readonly http2MaxConcurrentStreams: number;
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly http1KeepAliveTimeoutMs: number;
  readonly http2IdleTimeoutMs: number;
  readonly maxInFlightCalls: number;
  readonly shedRetryAfterMs: number;
}

export const DEFAULT_LIMITS: ResolvedLimits = {
  ...SERVER_LIMIT_DEFAULTS,
  /** Not configured: a shed call's Retry-After. */
  shedRetryAfterMs: 250,
};

export type ServerLimits = { readonly [K in keyof ResolvedLimits]?: number | undefined };

export interface ListenOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Browser origins allowed to call (CORS); "*" for any. Default: none. */
  readonly corsAllowedOrigins?: readonly string[] | undefined;
  /** Serve HTTPS (HTTP/2 via ALPN, HTTP/1.1 fallback) instead of cleartext. */
  readonly tls?: TlsListenOptions | undefined;
  /** Largest request message accepted. Default: MAX_REQUEST_BYTES's (server-config.ts). */
  readonly maxRequestBytes?: number | undefined;
  /** How long close() lets in-flight calls finish before cutting them. Default: SHUTDOWN_GRACE_MS's. */
  readonly shutdownGraceMs?: number | undefined;
  readonly limits?: ServerLimits | undefined;
}

export interface TlsListenOptions {
  /** Certificate and key, and the client CA bundle for mutual TLS. */
  readonly context: tls.SecureContextOptions;
  /**
   * Ask for a client certificate. Its verification is reported to the
   * authenticator (PeerInfo), not enforced in the handshake, so a missing or
   * untrusted certificate is answered UNAUTHENTICATED in the caller's protocol.
   */
  readonly requestClientCertificate?: boolean | undefined;
  /** Called with a listener for new material (certificate rotation); returns an unsubscribe. */
  readonly watch?: ((listener: (context: tls.SecureContextOptions) => void) => () => void) | undefined;
}

export interface ShutdownReport {
  /** Calls still running when the grace period ended, which were cut. */
  readonly cutCalls: number;
}

export interface RunningServer {
  /** e.g. "http://127.0.0.1:8080". */
  readonly url: string;
  readonly port: number;
  /** Calls being served right now. */
  inFlight(): number;
  /**
   * Stops accepting, lets in-flight calls finish (up to the grace period),
   * then cuts the rest and waits for their handlers to return, so whatever
   * they hold (idempotency claims) is released before the caller closes the
   * stores.
   */
  close(): Promise<ShutdownReport>;
}

/** Once the calls are done, how long their answers get to be written before connections end. */
const responseFlushMs = 1_000;
/** After the cut, how long handlers get to notice and clean up. */
const cutCleanupMs = 5_000;
const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

interface RequestPipeline {
  readonly handle: NodeHandler;
  readonly admission: ReturnType<typeof createCallAdmission>;
}

function createPipeline(deps: ServerDeps, listen: ListenOptions, limits: ResolvedLimits): RequestPipeline {
  const admission = createCallAdmission({
    maxInFlight: limits.maxInFlightCalls,
    retryAfterMs: limits.shedRetryAfterMs,
    onShed: deps.onShed,
  });
  const authentication = createAuthenticationInterceptor(deps.authenticator ?? createNoAuthenticator(), deps.logger);
  const observers = deps.observers ?? [logCalls(deps.logger, deps.clock)];
  // Probes (health) are observed but not admitted, authenticated, limited,
  // audited or authorized: a load balancer must reach them under any load.
  const interceptors: Interceptor[] = [
    composeInterceptors({
      calls: [
        ...observers,
        admission.interceptor,
        authentication,
        createCallContextInterceptor({ newClientToken: deps.newClientToken ?? randomUUID }),
        ...(deps.callInterceptors ?? []),
      ],
      probes: observers,
      probeServices: new Set(deps.probeServices ?? []),
    }),
  ];
  const rpc = createRpcHandler({
    routes: (router: ConnectRouter) => {
      router.service(PermissionService, createPermissionService(deps));
      deps.services?.(router);
    },
    interceptors,
    readMaxBytes: listen.maxRequestBytes ?? SERVER_DEFAULTS.maxRequestBytes,
    contextValues: (req) => {
      const values = createContextValues();
      values.set(peerContextKey, readPeerInfo(req));
      return values;
    },
    fallback: (req, res) => {
      if (deps.httpRoutes?.(req, res) === true) return true;
      if (req.url !== "/healthz") return false;
      writeHead(res, 200, { "content-type": "text/plain" });
      res.end("ok\n");
      return true;
    },
    logger: deps.logger,
    onRejected: deps.onRejected,
  });
  const cors = createCorsPolicy(listen.corsAllowedOrigins ?? []);
  return {
    admission,
    handle: (req, res) => {
      if (!cors(req, res)) rpc(req, res);
    },
  };
}

export async function startServer(deps: ServerDeps, listen: ListenOptions): Promise<RunningServer> {
  const limits: ResolvedLimits = { ...DEFAULT_LIMITS, ...definedOnly(listen.limits ?? {}) };
  const { logger } = deps;
  const shutdownGraceMs = listen.shutdownGraceMs ?? SERVER_DEFAULTS.shutdownGraceMs;
  const pipeline = createPipeline(deps, listen, limits);
  // Responses being written, so shutdown lets the last answers reach their
  // callers before it ends the connections. Not the count shutdown waits on
  // (that is the calls'): a pipelined HTTP/1.1 response whose connection went
  // away never finishes, so this wait is short and bounded.
  const responses = new Set<NodeResponse>();
  let closingStarted = false;
  const handle = (req: NodeRequest, res: NodeResponse): void => {
    // Node checks the size of HTTP/1.1 headers itself, not of HTTP/2 ones.
    if ("stream" in req && headerListSize(req.rawHeaders) > limits.maxHeaderBytes) {
      logger.info("request headers over the limit; refused", { path: req.url, maxHeaderBytes: limits.maxHeaderBytes });
      writeHead(res, 431, { "content-type": "text/plain" });
      res.end("request header fields too large\n");
      return;
    }
    limitBodyTime(req, limits.requestTimeoutMs, logger);
    responses.add(res);
    res.once("close", () => {
      responses.delete(res);
      if (closingStarted) http1.closeIdleConnections();
    });
    // While shutting down, HTTP/1.1 connections end after their answer.
    if (closingStarted && res instanceof http.ServerResponse) res.shouldKeepAlive = false;
    pipeline.handle(req, res);
  };

  const sockets = new Set<net.Socket>();
  const trackSocket = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", (error) => logger.debug("client socket error", { error }));
  };

  const http1 = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
      keepAliveTimeout: limits.http1KeepAliveTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    handle,
  );
  // Connections reach this server by emit("connection") and it never listens
  // itself; its header and request timeouts are checked by a timer that Node
  // starts on "listening", so start it here.
  http1.emit("listening");
  http1.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => {
    logger.debug("malformed HTTP/1.1 request", { code: error.code, message: error.message });
    if (socket.writable && !socket.destroyed) {
      const status =
        error.code === "HPE_HEADER_OVERFLOW"
          ? "431 Request Header Fields Too Large"
          : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
            ? "408 Request Timeout"
            : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });

  const http2Options: http2.ServerOptions = {
    settings: { maxConcurrentStreams: limits.http2MaxConcurrentStreams, maxHeaderListSize: limits.maxHeaderBytes },
    maxHeaderListPairs: 128,
    // A client that opens streams past the advertised limit is not waited on.
    peerMaxConcurrentStreams: limits.http2MaxConcurrentStreams,
  };
  const sessions = new Set<http2.ServerHttp2Session>();
  const trackSession = (session: http2.ServerHttp2Session): void => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    session.on("error", (error) => logger.debug("HTTP/2 session error", { error }));
    closeWhenIdle(session, limits.http2IdleTimeoutMs);
  };

  const h2 = http2.createServer(http2Options, handle);
  h2.on("session", trackSession);
  let front: net.Server;
  let stopWatchingTls: (() => void) | undefined;
  if (listen.tls !== undefined) {
    // ALPN picks the protocol; both servers then see the TLS socket as a plain
    // stream, so HTTP/1.1 gets the same timeouts with TLS as without.
    const secure = tls.createServer(
      {
        ...listen.tls.context,
        ALPNProtocols: ["h2", "http/1.1"],
        handshakeTimeout: limits.headersTimeoutMs,
        ...(listen.tls.requestClientCertificate === true ? { requestCert: true, rejectUnauthorized: false } : {}),
      },
      (socket) => (socket.alpnProtocol === "h2" ? h2 : http1).emit("connection", socket),
    );
    // New connections get new material; open ones keep theirs.
    stopWatchingTls = listen.tls.watch?.((context) => secure.setSecureContext(context));
    front = secure;
    front.on("tlsClientError", (error) => logger.debug("TLS handshake failed", { error }));
  } else {
    front = net.createServer((socket) => {
      // A connection that has not sent enough bytes to pick a protocol by then is dropped.
      socket.setTimeout(limits.headersTimeoutMs, () => socket.destroy());
      // Read until the bytes either differ from the HTTP/2 preface (HTTP/1.1)
      // or complete it (h2c), then hand the connection over with them put back.
      let head = Buffer.alloc(0);
      const route = (): void => {
        for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null)
          head = Buffer.concat([head, chunk]);
        const seen = Math.min(head.length, http2Preface.length);
        const isHttp2 = head.subarray(0, seen).equals(http2Preface.subarray(0, seen));
        if (isHttp2 && head.length < http2Preface.length) return;
        socket.off("readable", route);
        socket.setTimeout(0);
        socket.unshift(head);
        (isHttp2 ? h2 : http1).emit("connection", socket);
      };
      socket.on("readable", route);
    });
  }
  front.on("connection", trackSocket);
  front.maxConnections = limits.maxConnections;
  front.on("drop", (data) =>
    logger.warn("connection refused: at the limit of open connections", {
      maxConnections: limits.maxConnections,
      remote: data?.remoteAddress,
    }),
  );

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

  let closing: Promise<ShutdownReport> | undefined;
  const shutdown = async (): Promise<ShutdownReport> => {
    const { admission } = pipeline;
    closingStarted = true;
    admission.stopAdmitting();
    const stopped = new Promise<void>((resolve) => front.close(() => resolve()));
    // GOAWAY: HTTP/2 clients finish their streams and open no new ones.
    for (const session of sessions) session.close();
    http1.closeIdleConnections();
    const drained = await admission.whenIdle(shutdownGraceMs);
    const cutCalls = drained ? 0 : admission.inFlight();
    if (drained) await responsesWritten(responses, responseFlushMs);
    if (cutCalls > 0) logger.warn("shutdown grace ended; cutting calls still in flight", { cutCalls, shutdownGraceMs });
    // Ending the connections aborts the signals of calls still running; give
    // their handlers the time to return, so that what they hold is released.
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
    if (cutCalls > 0 && !(await admission.whenIdle(cutCleanupMs))) {
      logger.error("calls did not return after being cut", { stillRunning: admission.inFlight() });
    }
    http1.close(() => undefined);
    stopWatchingTls?.();
    await stopped;
    return { cutCalls };
  };
  return {
    url: `${scheme}://${host}:${address.port}`,
    port: address.port,
    inFlight: () => pipeline.admission.inFlight(),
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

/** A header list's size as HTTP/2 counts it (RFC 9113 section 6.5.2): name, value and 32 octets per field. */
function headerListSize(rawHeaders: readonly string[]): number {
  let size = 0;
  for (const field of rawHeaders) size += field.length + 16;
  return size;
}

async function responsesWritten(responses: Set<NodeResponse>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (responses.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * A request whose body is still arriving after `timeoutMs` is cut: a client
 * sending a byte a second must not hold a call (and its memory) for minutes.
 * HTTP/1.1 has Node's requestTimeout too; HTTP/2 streams have nothing else.
 */
function limitBodyTime(req: NodeRequest, timeoutMs: number, logger: Logger): void {
  if (req.complete) return;
  const timer = setTimeout(() => {
    if (req.complete) return;
    logger.info("request body too slow; connection cut", { path: req.url, timeoutMs });
    if ("stream" in req) req.stream.close(http2.constants.NGHTTP2_CANCEL);
    else req.socket.destroy();
  }, timeoutMs);
  timer.unref();
  const clear = (): void => clearTimeout(timer);
  req.once("end", clear);
  req.once("close", clear);
}

/**
 * Closes an HTTP/2 session that has had no stream for `idleMs`. Counted in
 * streams, not bytes, so a client that trickles a partial frame cannot keep
 * a session open that never carries a call.
 */
function closeWhenIdle(session: http2.ServerHttp2Session, idleMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    timer = setTimeout(() => session.close(), idleMs);
    timer.unref();
  };
  arm();
  session.on("stream", (stream) => {
    open++;
    clearTimeout(timer);
    stream.once("close", () => {
      open--;
      if (open === 0 && !session.closed) arm();
    });
  });
  session.once("close", () => clearTimeout(timer));
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

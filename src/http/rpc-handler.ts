// The gateway's Node.js request handler for Connect, gRPC and gRPC-Web: the
// part of connect-node's adapter we need, plus what it leaves to us. No
// request can end the process (every path is caught and logged); an unknown
// method is answered UNIMPLEMENTED in the caller's own protocol; and errors
// the protocol layer raises before our code runs are rewritten into the
// gateway's form (protocol-errors.ts).
import type * as http from "node:http";
import type * as http2 from "node:http2";
import {
  Code,
  createConnectRouter,
  createContextKey,
  createContextValues,
  type ConnectRouter,
  type ContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { gatewayError } from "../errors.js";
import type { Logger } from "../logger.js";
import { explainBareAnswer, explainProtocolErrors } from "./protocol-errors.js";
import { errorResponse, rpcWireOf, type ProtocolRejection, type RpcProtocol, type RpcWire } from "./rpc-protocol.js";

export type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;
export type NodeHandler = (req: NodeRequest, res: NodeResponse) => void;

/** `res.writeHead` on either kind of response: TypeScript cannot call a union of two overloaded methods. */
export function writeHead(res: NodeResponse, status: number, headers: http.OutgoingHttpHeaders): void {
  if ("stream" in res) res.writeHead(status, headers);
  else res.writeHead(status, headers);
}

/** A request refused before it reached an RPC, for logs and metrics. */
export interface RejectedRequest {
  readonly path: string;
  readonly protocol: RpcProtocol | undefined;
  readonly rejection: ProtocolRejection;
  readonly code: Code;
  readonly message: string;
  readonly headers: NodeRequest["headers"];
  readonly remoteAddress: string | undefined;
}

export interface RpcHandlerOptions {
  readonly routes: (router: ConnectRouter) => void;
  /** Outermost first. */
  readonly interceptors: readonly Interceptor[];
  /** Largest request message, before and after decompression. */
  readonly readMaxBytes: number;
  /** Values every call starts with (the peer, for instance). */
  readonly contextValues?: ((req: NodeRequest) => ContextValues) | undefined;
  /** Answers the non-RPC paths (health, metrics); returns false when the path is not one of them. */
  readonly fallback?: ((req: NodeRequest, res: NodeResponse) => boolean) | undefined;
  readonly logger: Logger;
  readonly onRejected?: ((request: RejectedRequest) => void) | undefined;
}

/**
 * Set once a call reaches the interceptors. An error answer of a call that
 * never did comes from the protocol layer (an undecodable message, an
 * unsupported compression, ...), and only those are rewritten, so a served
 * call's answer passes through untouched.
 */
const reachedInterceptors = createContextKey<{ reached: boolean } | undefined>(undefined, {
  description: "reached interceptors",
});
const markReached: Interceptor = (next) => (req) => {
  const marker = req.contextValues.get(reachedInterceptors);
  if (marker !== undefined) marker.reached = true;
  return next(req);
};

/** Base64 as Connect GET requests carry it (standard or URL alphabet, padding optional). */
const base64Pattern = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function createRpcHandler(options: RpcHandlerOptions): NodeHandler {
  const { logger } = options;
  const router = createConnectRouter({
    readMaxBytes: options.readMaxBytes,
    // A misspelt field (AWS's "PrincipalOrgID" for principalOrgId) must be an
    // error, not silently dropped: dropping a condition widens a grant.
    jsonOptions: { ignoreUnknownFields: false },
    acceptCompression: [compressionGzip, compressionBrotli],
    interceptors: [markReached, ...options.interceptors],
  });
  options.routes(router);
  const handlers = new Map<string, UniversalHandler>(router.handlers.map((handler) => [handler.requestPath, handler]));

  const onRejected =
    options.onRejected ??
    ((request: RejectedRequest): void =>
      logger.info("request refused before any RPC", {
        path: request.path,
        protocol: request.protocol,
        rejection: request.rejection,
        code: Code[request.code],
        detail: request.message,
      }));
  // The socket may be gone by the time a rewritten answer is written: what is
  // reported of the request is read when it arrives.
  const rejected = (
    req: RequestFacts,
    path: string,
    wire: RpcWire | undefined,
    rejection: ProtocolRejection,
    code: Code,
    message: string,
  ): void =>
    onRejected({
      path,
      protocol: wire?.protocol,
      rejection,
      code,
      message,
      headers: req.headers,
      remoteAddress: req.remoteAddress,
    });

  const write = (res: NodeResponse, response: UniversalServerResponse, path: string): void => {
    universalResponseToNodeResponse(response, res).catch((error: unknown) => failed(res, path, error));
  };

  const failed = (res: NodeResponse, path: string, error: unknown): void => {
    // Connect answers a caller that went away with ABORTED; nothing to report.
    if (res.destroyed || (error instanceof Error && "code" in error && error.code === Code.Aborted)) return;
    logger.error("request handling failed (a bug: the request was answered 500 or cut)", { path, error });
    if (!res.headersSent) {
      writeHead(res, 500, { "content-type": "text/plain" });
      res.end("internal error\n");
    } else {
      res.destroy();
    }
  };

  const answerUnknownPath = (req: NodeRequest, res: NodeResponse, path: string, query: string): void => {
    const wire = rpcWireOf(req.method, req.headers["content-type"], query);
    const facts = factsOf(req);
    if (wire === undefined) {
      rejected(facts, path, wire, "unknown_path", Code.NotFound, "no such path");
      writeHead(res, 404, { "content-type": "text/plain" });
      res.end("not found\n");
      return;
    }
    const message = `the gateway has no method ${path}`;
    rejected(facts, path, wire, "unknown_method", Code.Unimplemented, message);
    write(res, errorResponse(wire, gatewayError(Code.Unimplemented, message, "UNKNOWN_METHOD", [])), path);
  };

  return (req, res) => {
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    const query = queryAt < 0 ? "" : url.slice(queryAt + 1);
    try {
      const handler = handlers.get(path);
      if (handler === undefined) {
        if (options.fallback?.(req, res) !== true) answerUnknownPath(req, res, path, query);
        return;
      }
      const wire = rpcWireOf(req.method, req.headers["content-type"], query);
      if (req.method === "GET" && wire !== undefined) {
        const params = new URLSearchParams(query);
        if (params.get("base64") === "1" && !base64Pattern.test(params.get("message") ?? "")) {
          const message = "the message query parameter is not base64";
          rejected(factsOf(req), path, wire, "undecodable_message", Code.InvalidArgument, message);
          write(res, errorResponse(wire, gatewayError(Code.InvalidArgument, message, "MALFORMED_REQUEST", [])), path);
          return;
        }
      }
      const facts = factsOf(req);
      const values = options.contextValues?.(req) ?? createContextValues();
      const marker = { reached: false };
      values.set(reachedInterceptors, marker);
      const request = universalRequestFromNodeRequest(withAuthority(req), res, undefined, values);
      handler(request)
        .then((response) => {
          if (marker.reached) return response;
          const bare = explainBareAnswer(response, {
            method: req.method,
            contentType: req.headers["content-type"],
            path,
          });
          if (bare !== undefined) {
            rejected(facts, path, wire, "malformed_request", bare.code, bare.message);
            return bare.response;
          }
          return wire === undefined
            ? response
            : explainProtocolErrors(response, wire, ({ error, rejection }) =>
                rejected(facts, path, wire, rejection, error.code, error.rawMessage),
              );
        })
        .then((response) => universalResponseToNodeResponse(response, res))
        .catch((error: unknown) => failed(res, path, error));
    } catch (error) {
      failed(res, path, error);
    }
  };
}

interface RequestFacts {
  readonly headers: NodeRequest["headers"];
  readonly remoteAddress: string | undefined;
}

function factsOf(req: NodeRequest): RequestFacts {
  return { headers: req.headers, remoteAddress: req.socket?.remoteAddress };
}

/**
 * connect-node builds the request URL from the Host header (HTTP/1.1) or
 * :authority (HTTP/2) and throws without one, which HTTP/1.0 and some
 * hand-written clients do not send. Only the path and query of that URL are
 * ever used, so a placeholder host is as good as the real one.
 */
function withAuthority(req: NodeRequest): NodeRequest {
  if ("authority" in req) {
    if (!usableAuthority(req.authority)) Object.defineProperty(req, "authority", { value: "localhost" });
  } else if (!usableAuthority(req.headers.host)) {
    req.headers.host = "localhost";
  }
  return req;
}

/** host[:port] or [ipv6][:port], which `new URL` accepts. */
const authorityPattern = /^([A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

function usableAuthority(value: string | undefined): boolean {
  return value !== undefined && authorityPattern.test(value);
}

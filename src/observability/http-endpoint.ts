// Small HTTP endpoints (/metrics, /healthz, /readyz) as plain functions the
// gateway's fallback calls, and a server of their own for a separate port.
// The request and response types are the parts of Node's HTTP/1.1 and HTTP/2
// objects that these endpoints use, so either kind fits.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Code } from "@connectrpc/connect";
import type { Logger } from "../logger.js";
import { logRejectedRequest } from "./access-log.js";

export interface HttpRequestLike {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
}

export interface HttpResponseLike {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string): unknown;
}

/** Answers the request and returns true, or returns false when the path is not its own. */
export type HttpEndpoint = (req: HttpRequestLike, res: HttpResponseLike) => boolean;

/** The path without its query string. */
export function pathOf(req: HttpRequestLike): string {
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/**
 * GET and HEAD only; anything else gets 405 with a body that says so, logged
 * like the RPC paths' refusals (and true, since the path was ours).
 */
export function answerReadOnly(req: HttpRequestLike, res: HttpResponseLike, logger: Logger, answer: () => void): true {
  if (req.method === "GET" || req.method === "HEAD") {
    answer();
  } else {
    const path = pathOf(req);
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
    res.end(`${req.method ?? "this method"} is not allowed on ${path}: use GET or HEAD\n`);
    logRejectedRequest(logger, { path, protocol: "http", reason: "malformed_request", code: Code.InvalidArgument });
  }
  return true;
}

/** Writes a complete answer; HEAD gets the headers only. */
export function send(
  req: HttpRequestLike,
  res: HttpResponseLike,
  status: number,
  contentType: string,
  body: string,
): void {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  res.end(req.method === "HEAD" ? "" : body);
}

export interface OpsServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** An HTTP/1.1 server for the endpoints only (e.g. METRICS_PORT); other paths get 404. */
export async function startOpsServer(options: {
  readonly host: string;
  readonly port: number;
  readonly endpoints: readonly HttpEndpoint[];
}): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    for (const endpoint of options.endpoints) if (endpoint(req, res)) return;
    send(req, res, 404, "text/plain; charset=utf-8", "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

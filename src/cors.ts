// CORS for browser front ends (gRPC-Web and Connect from another origin).
// Off unless origins are configured: a server-to-server gateway should not
// invite browsers by default.
import type * as http from "node:http";
import type * as http2 from "node:http2";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/**
 * Request headers a browser may send: those of the Connect and gRPC-Web
 * protocols, the caller's credentials and W3C trace context. The spec's "*"
 * never covers `authorization`, so every name is listed.
 */
export const CORS_ALLOWED_HEADERS: readonly string[] = [
  "content-type",
  "connect-protocol-version",
  "connect-timeout-ms",
  "grpc-timeout",
  "x-grpc-web",
  "x-user-agent",
  "x-caller-id",
  "authorization",
  "traceparent",
  "tracestate",
];

/**
 * Response headers a browser client must be able to read. The names are
 * listed for requests sent with credentials, where "*" is only a name; "*"
 * exposes every other header, including any the gateway adds later, to
 * requests without credentials (what connect-web sends by default).
 */
export const CORS_EXPOSED_HEADERS: readonly string[] = [
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
  "idempotent-replayed",
  "client-token",
  "*",
];

/**
 * Returns a function that adds CORS headers for an allowed Origin and
 * answers preflight requests itself (returning true when it did).
 * `allowedOrigins` holds exact origins ("https://console.example.com") or "*".
 */
export function createCorsPolicy(allowedOrigins: readonly string[]): (req: Request, res: Response) => boolean {
  const any = allowedOrigins.includes("*");
  const origins = new Set(allowedOrigins);
  return (req, res) => {
    const origin = req.headers["origin"];
    if (typeof origin !== "string" || !(any || origins.has(origin))) return false;
    res.setHeader("access-control-allow-origin", any ? "*" : origin);
    if (!any) res.setHeader("vary", "Origin");
    res.setHeader("access-control-expose-headers", CORS_EXPOSED_HEADERS.join(", "));
    if (req.method !== "OPTIONS") return false;
    res.statusCode = 204;
    res.setHeader("access-control-allow-methods", "POST, GET, OPTIONS");
    res.setHeader("access-control-allow-headers", CORS_ALLOWED_HEADERS.join(", "));
    res.setHeader("access-control-max-age", "7200");
    res.end();
    return true;
  };
}

// Clients that send exactly the bytes a test asks for, as attackers and
// broken clients do: raw TCP for HTTP/1.x, Node's http2 for single streams,
// and readers of the status each RPC protocol puts on the wire.
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { gunzipSync } from "node:zlib";
import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";

export interface RawExchange {
  /** Everything the server sent, as latin1 text. */
  readonly text: string;
  /** The server closed the connection (rather than the test's timeout ending it). */
  readonly closedByServer: boolean;
}

/** Writes `chunks` (each after `gapMs`) on a fresh TCP connection and reads until the server closes or `timeoutMs`. */
export function rawExchange(
  port: number,
  chunks: readonly (string | Buffer)[],
  options: { timeoutMs?: number; gapMs?: number } = {},
): Promise<RawExchange> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let text = "";
    let finished = false;
    const finish = (closedByServer: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closedByServer });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on("data", (data) => (text += data.toString("latin1")));
    socket.on("close", () => finish(true));
    socket.on("error", () => finish(true));
    socket.on("connect", () => {
      let index = 0;
      const next = (): void => {
        if (socket.destroyed || index >= chunks.length) return;
        socket.write(chunks[index++] ?? "");
        if (index < chunks.length) setTimeout(next, options.gapMs ?? 0);
      };
      next();
    });
  });
}

/** The HTTP status codes of every response in a raw HTTP/1.x exchange. */
export function statusCodes(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((match) => Number(match[1]));
}

export interface WireAnswer {
  readonly httpStatus: number;
  readonly headers: Record<string, string>;
  readonly trailers: Record<string, string>;
  readonly body: Buffer;
}

/** One HTTP/2 stream with a raw body, on its own session. */
export async function h2Exchange(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<WireAnswer> {
  const session = http2.connect(baseUrl);
  const failed = new Promise<never>((_, reject) => session.on("error", reject));
  try {
    const answer = await Promise.race([h2StreamExchange(session, path, headers, body), failed]);
    session.close();
    return answer;
  } catch (error) {
    session.destroy();
    throw error;
  }
}

/** One HTTP/2 stream with a raw body, on a session the caller holds. */
export function h2StreamExchange(
  session: http2.ClientHttp2Session,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    const chunks: Buffer[] = [];
    let httpStatus = 0;
    let responseHeaders: Record<string, string> = {};
    let trailers: Record<string, string> = {};
    stream.on("response", (h) => {
      httpStatus = Number(h[":status"]);
      responseHeaders = flatten(h);
    });
    stream.on("trailers", (t: http2.IncomingHttpHeaders) => (trailers = flatten(t)));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve({ httpStatus, headers: responseHeaders, trailers, body: Buffer.concat(chunks) }));
    stream.on("error", reject);
    stream.end(body);
  });
}

/** One HTTP/1.1 request with a raw body; `agent` false is a connection of its own. */
export function h1Exchange(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  method = "POST",
  agent: http.Agent | false = false,
): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, baseUrl), { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          httpStatus: res.statusCode ?? 0,
          headers: flatten(res.headers),
          trailers: flatten(res.trailers),
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

function flatten(
  headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders | NodeJS.Dict<string | string[]>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return out;
}

/** A gRPC / gRPC-Web frame: flag byte, 4-byte length, message. */
export function grpcFrame(message: Uint8Array, flags = 0): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(flags, 0);
  frame.writeUInt32BE(message.length, 1);
  Buffer.from(message).copy(frame, 5);
  return frame;
}

/** The status an RPC protocol answer carries, whichever protocol it is. */
export interface RpcStatus {
  /** gRPC code number (Connect codes translated). */
  readonly code: number;
  readonly message: string;
  readonly reasons: string[];
}

const connectCodes: Record<string, number> = {
  canceled: 1,
  unknown: 2,
  invalid_argument: 3,
  deadline_exceeded: 4,
  not_found: 5,
  already_exists: 6,
  permission_denied: 7,
  resource_exhausted: 8,
  failed_precondition: 9,
  aborted: 10,
  out_of_range: 11,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  data_loss: 15,
  unauthenticated: 16,
};

function statusFromGrpcHeaders(headers: Record<string, string>): RpcStatus | undefined {
  const code = headers["grpc-status"];
  if (code === undefined) return undefined;
  const details = headers["grpc-status-details-bin"];
  const status = details === undefined ? undefined : fromBinary(StatusSchema, Buffer.from(details, "base64"));
  const reasons = (status?.details ?? []).flatMap((any) => {
    const info = anyUnpack(any, ErrorInfoSchema);
    return info === undefined ? [] : [info.reason];
  });
  return { code: Number(code), message: decodeURIComponent(headers["grpc-message"] ?? ""), reasons };
}

/** gRPC: trailers (or a trailers-only header block). */
export function grpcStatusOf(answer: WireAnswer): RpcStatus | undefined {
  return statusFromGrpcHeaders(answer.trailers) ?? statusFromGrpcHeaders(answer.headers);
}

/** gRPC-Web: the trailer frame at the end of the body (or trailers-only headers). */
export function grpcWebStatusOf(answer: WireAnswer): RpcStatus | undefined {
  return statusFromGrpcHeaders(grpcWebTrailersOf(answer) ?? answer.headers);
}

/** The headers of a gRPC-Web answer's trailer frame, if its body has one. */
export function grpcWebTrailersOf(answer: WireAnswer): Record<string, string> | undefined {
  let offset = 0;
  while (offset + 5 <= answer.body.length) {
    const flags = answer.body.readUInt8(offset);
    const length = answer.body.readUInt32BE(offset + 1);
    const framed = answer.body.subarray(offset + 5, offset + 5 + length);
    offset += 5 + length;
    if ((flags & 0x80) === 0) continue;
    // A compressed trailer frame uses the response's grpc-encoding (gzip is the only one the gateway sends).
    const data = (flags & 0x01) === 0 ? framed : gunzipSync(framed);
    const headers: Record<string, string> = {};
    for (const line of data.toString("utf8").split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return headers;
  }
  return undefined;
}

/** Connect unary: HTTP 200 is OK, anything else has a JSON error body. */
export function connectStatusOf(answer: WireAnswer): RpcStatus | undefined {
  if (answer.httpStatus === 200) return { code: 0, message: "", reasons: [] };
  try {
    const body = answer.headers["content-encoding"] === "gzip" ? gunzipSync(answer.body) : answer.body;
    const error = JSON.parse(body.toString("utf8")) as {
      code?: string;
      message?: string;
      details?: { type: string; debug?: { reason?: string } }[];
    };
    if (error.code === undefined) return undefined;
    const reasons = (error.details ?? [])
      .filter((d) => d.type === "google.rpc.ErrorInfo")
      .map((d) => d.debug?.reason ?? "");
    return { code: connectCodes[error.code] ?? -1, message: error.message ?? "", reasons };
  } catch {
    return undefined;
  }
}

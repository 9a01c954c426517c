// The three RPC protocols as the server sees them on the wire: which one a
// request speaks, and how an error is written in it. Used for answers that
// never reach an RPC (unknown methods, refused requests) and for errors the
// Connect protocol layer itself raised before any gateway code ran, which
// leave it without the gateway's ErrorInfo and, for undecodable messages,
// with the wrong code (see explainProtocolError).
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { createAsyncIterable, encodeEnvelope } from "@connectrpc/connect/protocol";
import { Code, type ConnectError } from "@connectrpc/connect";
import {
  codeToHttpStatus,
  createEndStreamSerialization,
  endStreamFlag,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { gatewayError } from "../errors.js";

export type RpcProtocol = "connect" | "grpc" | "grpc-web";

/** How a request asks to be answered: the protocol, and for Connect whether it is a streaming call. */
export interface RpcWire {
  readonly protocol: RpcProtocol;
  /** Connect's enveloped (streaming) form, whose errors travel in an end-of-stream message. */
  readonly connectStreaming: boolean;
}

/**
 * The protocol of a request from its Content-Type (and, for a Connect GET,
 * its query), or undefined when it is not an RPC protocol at all.
 */
export function rpcWireOf(
  method: string | undefined,
  contentType: string | undefined,
  query: string,
): RpcWire | undefined {
  const type = (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
  if (type.startsWith("application/grpc-web")) return { protocol: "grpc-web", connectStreaming: false };
  if (type === "application/grpc" || type.startsWith("application/grpc+"))
    return { protocol: "grpc", connectStreaming: false };
  if (type.startsWith("application/connect+")) return { protocol: "connect", connectStreaming: true };
  if (type === "application/json" || type === "application/proto" || type.endsWith("+json")) {
    return { protocol: "connect", connectStreaming: false };
  }
  if (method === "GET" && /(^|&)(connect=v1|encoding=)/.test(query))
    return { protocol: "connect", connectStreaming: false };
  return undefined;
}

const emptyBody = (): AsyncIterable<Uint8Array> => createAsyncIterable([]);
const endStream = createEndStreamSerialization(undefined);

/** An error answer in the request's own protocol, as the Connect handlers would write it. */
export function errorResponse(wire: RpcWire, error: ConnectError): UniversalServerResponse {
  switch (wire.protocol) {
    case "grpc": {
      const trailer = setTrailerStatus(new Headers(), error);
      return {
        status: 200,
        header: new Headers({ "content-type": "application/grpc+proto" }),
        body: emptyBody(),
        trailer,
      };
    }
    case "grpc-web": {
      const trailer = trailerSerialize(setTrailerStatus(new Headers(), error));
      return {
        status: 200,
        header: new Headers({ "content-type": "application/grpc-web+proto" }),
        body: createAsyncIterable([encodeEnvelope(trailerFlag, trailer)]),
      };
    }
    case "connect": {
      const header = new Headers(error.metadata);
      if (wire.connectStreaming) {
        header.set("content-type", "application/connect+json");
        const data = endStream.serialize({ metadata: new Headers(), error });
        return { status: 200, header, body: createAsyncIterable([encodeEnvelope(endStreamFlag, data)]) };
      }
      header.set("content-type", "application/json");
      return {
        status: codeToHttpStatus(error.code),
        header,
        body: createAsyncIterable([errorToJsonBytes(error, undefined)]),
      };
    }
  }
}

/** Why the protocol layer refused a request, for logs and metrics. */
export type ProtocolRejection =
  | "undecodable_message"
  | "compressed_without_encoding"
  | "unsupported_compression"
  | "message_too_large"
  | "malformed_request"
  | "unknown_method"
  | "unknown_path"
  | "other";

/** Headers that carry a status itself; an error read back from the wire has them in its metadata. */
const statusHeaders = new Set([
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
  "content-type",
  "content-length",
]);

export interface ExplainedError {
  readonly error: ConnectError;
  readonly rejection: ProtocolRejection;
}

/**
 * The gateway's version of an error raised by the Connect protocol layer
 * before any gateway code ran, recognisable by having no details (every
 * error of the gateway's own carries an ErrorInfo). A message that cannot
 * be decoded is the caller's mistake: INVALID_ARGUMENT, never the INTERNAL
 * connect-es answers for bad protobuf or a bad compressed body. The one
 * INTERNAL left is the one the gRPC spec prescribes: a frame flagged as
 * compressed on a request that declared no encoding. Undefined for an
 * error that is not the protocol layer's.
 */
export function explainProtocolError(error: ConnectError): ExplainedError | undefined {
  if (error.details.length > 0) return undefined;
  const raw = error.rawMessage;
  const metadata = [...error.metadata.entries()].filter(([name]) => !statusHeaders.has(name));
  const rejected = (code: Code, message: string, reason: string, rejection: ProtocolRejection): ExplainedError => {
    const explained = gatewayError(code, message, reason, []);
    // Headers connect-es set for a reason, e.g. grpc-accept-encoding on an unsupported compression.
    for (const [name, value] of metadata) explained.metadata.append(name, value);
    return { error: explained, rejection };
  };
  // connect-node answers a corrupt compressed body INVALID_ARGUMENT and one
  // cut short INTERNAL (test/http/connect-contract.test.ts): the same answer for both.
  if (raw.startsWith("decompression failed") && (error.code === Code.Internal || error.code === Code.InvalidArgument)) {
    return rejected(
      Code.InvalidArgument,
      "the request body cannot be decompressed with the encoding it declares",
      "MALFORMED_REQUEST",
      "undecodable_message",
    );
  }
  if (error.code === Code.Internal) {
    if (/^parse binary: /.test(raw)) {
      return rejected(
        Code.InvalidArgument,
        `the request message cannot be decoded: ${raw.slice("parse binary: ".length)}`,
        "MALFORMED_REQUEST",
        "undecodable_message",
      );
    }
    if (raw.startsWith("received compressed envelope")) {
      return rejected(
        Code.Internal,
        "a message is flagged as compressed but the request declares no encoding",
        "COMPRESSED_WITHOUT_ENCODING",
        "compressed_without_encoding",
      );
    }
    return undefined;
  }
  switch (error.code) {
    case Code.InvalidArgument:
      return rejected(Code.InvalidArgument, raw, "MALFORMED_REQUEST", "malformed_request");
    case Code.ResourceExhausted:
      return rejected(Code.ResourceExhausted, raw, "REQUEST_TOO_LARGE", "message_too_large");
    case Code.Unimplemented:
      if (raw.startsWith("unknown compression"))
        return rejected(Code.Unimplemented, raw, "UNSUPPORTED_COMPRESSION", "unsupported_compression");
      // connect-es answers a unary call with no message, or with two, as UNIMPLEMENTED.
      if (raw.startsWith("protocol error"))
        return rejected(Code.InvalidArgument, raw, "MALFORMED_REQUEST", "malformed_request");
      return rejected(Code.Unimplemented, raw, "UNIMPLEMENTED", "other");
    default:
      return undefined;
  }
}

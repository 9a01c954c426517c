// Rewrites the errors that the Connect protocol layer answers on its own
// (before any gateway code runs) into the gateway's form: the right code for
// a caller's undecodable bytes, and the ErrorInfo every gateway error has.
// Only error answers are touched; a successful response passes through with
// at most one look at its trailers. The answers the layer gives with no body
// at all (415, 405, 505) get a plain-text body that names the problem.
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { Code, ConnectError } from "@connectrpc/connect";
import { endStreamFlag, endStreamFromJson, errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse } from "@connectrpc/connect/protocol-grpc-web";
import { errorResponse, explainProtocolError, type ExplainedError, type RpcWire } from "./rpc-protocol.js";

/** Told of every request the protocol layer refused, with what it was told. */
export type ProtocolErrorListener = (explained: ExplainedError) => void;

const grpcStatusHeaders = ["grpc-status", "grpc-message", "grpc-status-details-bin"];

export function explainProtocolErrors(
  response: UniversalServerResponse,
  wire: RpcWire,
  onRejected: ProtocolErrorListener,
): UniversalServerResponse | Promise<UniversalServerResponse> {
  switch (wire.protocol) {
    case "connect":
      return wire.connectStreaming
        ? rewriteFinalEnvelope(response, wire, endStreamFlag, onRejected)
        : rewriteConnectUnary(response, wire, onRejected);
    case "grpc-web":
      return rewriteFinalEnvelope(response, wire, trailerFlag, onRejected);
    case "grpc":
      return rewriteGrpcTrailers(response, onRejected);
  }
}

async function readAll(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  if (body !== undefined) for await (const chunk of body) chunks.push(chunk);
  return chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks);
}

/** Connect unary: an error is a non-200 status with a JSON body. */
async function rewriteConnectUnary(
  response: UniversalServerResponse,
  wire: RpcWire,
  onRejected: ProtocolErrorListener,
): Promise<UniversalServerResponse> {
  if (response.status === 200 || response.body === undefined || !(Symbol.asyncIterator in response.body))
    return response;
  const bytes = await readAll(response.body);
  const fallback = new ConnectError("unreadable protocol error", Code.Unknown);
  const explained = explainProtocolError(errorFromJsonBytes(bytes, undefined, fallback));
  if (explained === undefined) return { ...response, body: createAsyncIterable([bytes]) };
  onRejected(explained);
  return errorResponse(wire, explained.error);
}

/**
 * gRPC-Web and Connect streaming end with one envelope holding the status.
 * A request the protocol layer refused got nothing else, so only a body
 * that is exactly that one envelope is looked at.
 */
function rewriteFinalEnvelope(
  response: UniversalServerResponse,
  wire: RpcWire,
  finalFlag: number,
  onRejected: ProtocolErrorListener,
): UniversalServerResponse {
  const body = response.body;
  if (body === undefined || !(Symbol.asyncIterator in body)) return response;
  async function* rewritten(): AsyncGenerator<Uint8Array> {
    let first = true;
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      const replacement = first ? replaceStatusEnvelope(chunk, wire, finalFlag, onRejected) : undefined;
      first = false;
      if (replacement === undefined) {
        yield chunk;
        continue;
      }
      for await (const part of replacement) yield part;
    }
  }
  return { ...response, body: rewritten() };
}

function replaceStatusEnvelope(
  chunk: Uint8Array,
  wire: RpcWire,
  finalFlag: number,
  onRejected: ProtocolErrorListener,
): AsyncIterable<Uint8Array> | undefined {
  if (chunk.length < 5 || ((chunk[0] ?? 0) & finalFlag) !== finalFlag) return undefined;
  const length = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).getUint32(1);
  if (chunk.length !== 5 + length) return undefined;
  const data = chunk.subarray(5);
  let error: ConnectError | undefined;
  try {
    error = finalFlag === trailerFlag ? findTrailerError(trailerParse(data)) : endStreamFromJson(data).error;
  } catch {
    return undefined;
  }
  const explained = error === undefined ? undefined : explainProtocolError(error);
  if (explained === undefined) return undefined;
  onRejected(explained);
  const body = errorResponse(wire, explained.error).body;
  return body !== undefined && Symbol.asyncIterator in body ? body : undefined;
}

/** gRPC: the status is in the trailers, final once the body has been sent. */
function rewriteGrpcTrailers(
  response: UniversalServerResponse,
  onRejected: ProtocolErrorListener,
): UniversalServerResponse {
  const { body, trailer } = response;
  if (trailer === undefined || body === undefined || !(Symbol.asyncIterator in body)) return response;
  async function* checked(): AsyncGenerator<Uint8Array> {
    yield* body as AsyncIterable<Uint8Array>;
    const status = trailer?.get("grpc-status");
    if (trailer === undefined || status === null || status === "0") return;
    const error = findTrailerError(trailer);
    const explained = error === undefined ? undefined : explainProtocolError(error);
    if (explained === undefined) return;
    onRejected(explained);
    for (const name of grpcStatusHeaders) trailer.delete(name);
    const replacement = errorResponse({ protocol: "grpc", connectStreaming: false }, explained.error).trailer;
    replacement?.forEach((value, name) => trailer.set(name, value));
  }
  return { ...response, body: checked() };
}

/** What the request was, for naming why the protocol layer answered with a bare status. */
export interface BareAnswerRequest {
  readonly method: string | undefined;
  readonly contentType: string | undefined;
  readonly path: string;
}

/**
 * The protocol layer answers a request it cannot route to a protocol (no or
 * an unknown content-type: 415), a method it does not serve that way (GET on
 * a mutation: 405) and a bidirectional stream over HTTP/1.1 (505) with the
 * status alone. The status stays, a 405 gets the Allow header HTTP requires,
 * and the body says why.
 * Undefined for an answer that has a body or is not an error.
 */
export function explainBareAnswer(
  response: UniversalServerResponse,
  request: BareAnswerRequest,
): { response: UniversalServerResponse; code: Code; message: string } | undefined {
  if (response.status < 400 || response.body !== undefined) return undefined;
  const { code, message, allow } = bareAnswerReason(response, request);
  const header = new Headers(response.header);
  header.set("content-type", "text/plain; charset=utf-8");
  if (allow !== undefined) header.set("allow", allow);
  const body = createAsyncIterable([new TextEncoder().encode(message + "\n")]);
  return { response: { ...response, header, body }, code, message };
}

function bareAnswerReason(
  response: UniversalServerResponse,
  { method, contentType, path }: BareAnswerRequest,
): { code: Code; message: string; allow?: string } {
  switch (response.status) {
    case 415:
      return {
        code: Code.InvalidArgument,
        message:
          (contentType === undefined
            ? "the request has no content-type"
            : `content-type ${JSON.stringify(contentType.slice(0, 100))} is not an RPC protocol's`) +
          ": send application/json or application/proto (Connect), application/grpc (gRPC) or application/grpc-web (gRPC-Web)",
      };
    case 405:
      // Every RPC takes POST; GET only the reads, in Connect.
      return {
        code: Code.InvalidArgument,
        message: `${method ?? "this method"} is not allowed on ${path}: use POST (GET is only for the reads, in Connect)`,
        allow: "POST",
      };
    case 505:
      return {
        code: Code.Unimplemented,
        message: `${path} is a bidirectional stream, which needs HTTP/2: call it with gRPC (or Connect) over HTTP/2`,
      };
    default:
      return { code: Code.Unknown, message: `the request was refused with HTTP ${response.status}` };
  }
}

// What the gateway relies on connect-es doing, asserted against connect-es
// itself (its router and its Node adapter, without the gateway's rewriting).
// src/http/rpc-protocol.ts recognises the protocol layer's errors by code and
// message prefix, rpc-handler.ts supplies a Host that connect-node would
// otherwise throw for, and the backends stop work when the call's signal
// aborts. An upgrade of @connectrpc/* that changes any of these fails here
// first, naming what the gateway has to follow.
import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import * as net from "node:net";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createConnectRouter } from "@connectrpc/connect";
import { compressionGzip, connectNodeAdapter, universalRequestFromNodeRequest } from "@connectrpc/connect-node";
import { createAsyncIterable, type UniversalHandler } from "@connectrpc/connect/protocol";
import { errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { explainProtocolError } from "../../src/http/rpc-protocol.js";
import { grpcFrame } from "../support/raw-http.js";

const path = "/permission.v1.PermissionService/GetLambdaPolicy";
const readMaxBytes = 1024;
/** Not a protobuf message: field 255 with wire type 7. */
const garbage = Buffer.from([0xff, 0x0f, 0xff, 0xff]);

function handlerOf(): UniversalHandler {
  const router = createConnectRouter({ readMaxBytes, acceptCompression: [compressionGzip] });
  router.service(PermissionService, { getLambdaPolicy: () => ({ policy: "{}" }) });
  const handler = router.handlers.find((h) => h.requestPath === path);
  assert.ok(handler !== undefined);
  return handler;
}

/** The error connect-es answers a raw request with, read back as the gateway reads it. */
async function errorOf(kind: "grpc" | "connect", body: Uint8Array, headers: Record<string, string>) {
  const response = await handlerOf()({
    httpVersion: "2.0",
    method: "POST",
    url: `http://localhost${path}`,
    header: new Headers(headers),
    body: createAsyncIterable([body]),
    signal: new AbortController().signal,
  });
  const chunks: Uint8Array[] = [];
  if (response.body !== undefined && Symbol.asyncIterator in response.body)
    for await (const chunk of response.body) chunks.push(chunk);
  const error =
    kind === "grpc"
      ? findTrailerError(response.trailer ?? new Headers())
      : errorFromJsonBytes(Buffer.concat(chunks), undefined, new ConnectError("no error", Code.Unknown));
  assert.ok(error !== undefined, "connect-es answered without an error");
  return { error, header: response.header ?? new Headers() };
}

const grpc = { "content-type": "application/grpc+proto", te: "trailers" };

describe("connect-es protocol errors the gateway rewrites (rpc-protocol.ts explainProtocolError)", () => {
  const cases: {
    readonly what: string;
    readonly send: () => ReturnType<typeof errorOf>;
    readonly code: Code;
    readonly prefix: string;
  }[] = [
    {
      what: "an undecodable binary message",
      send: () => errorOf("grpc", grpcFrame(garbage), grpc),
      code: Code.Internal,
      prefix: "parse binary: ",
    },
    {
      what: "a body that is not gzip although it says so",
      send: () => errorOf("grpc", grpcFrame(Buffer.from("not gzip"), 1), { ...grpc, "grpc-encoding": "gzip" }),
      code: Code.InvalidArgument,
      prefix: "decompression failed",
    },
    {
      what: "a gzip body cut short",
      send: () =>
        errorOf("grpc", grpcFrame(gzipSync(Buffer.alloc(64)).subarray(0, 12), 1), { ...grpc, "grpc-encoding": "gzip" }),
      code: Code.Internal,
      prefix: "decompression failed",
    },
    {
      what: "a frame flagged compressed without grpc-encoding",
      send: () => errorOf("grpc", grpcFrame(gzipSync(Buffer.alloc(0)), 1), grpc),
      code: Code.Internal,
      prefix: "received compressed envelope",
    },
    {
      what: "an unsupported compression",
      send: () => errorOf("grpc", grpcFrame(Buffer.alloc(0)), { ...grpc, "grpc-encoding": "snappy" }),
      code: Code.Unimplemented,
      prefix: "unknown compression",
    },
    {
      what: "a unary gRPC call without its message",
      send: () => errorOf("grpc", Buffer.alloc(0), grpc),
      code: Code.Unimplemented,
      prefix: "protocol error",
    },
    {
      what: "a message over readMaxBytes",
      send: () => errorOf("grpc", grpcFrame(Buffer.alloc(readMaxBytes + 1)), grpc),
      code: Code.ResourceExhausted,
      prefix: "",
    },
    {
      what: "Connect JSON that does not parse",
      send: () => errorOf("connect", Buffer.from("{not json"), { "content-type": "application/json" }),
      code: Code.InvalidArgument,
      prefix: "",
    },
  ];
  for (const { what, send, code, prefix } of cases) {
    test(`${what}: ${Code[code]}${prefix === "" ? "" : ` "${prefix}..."`}, no details, and the gateway recognises it`, async () => {
      const { error } = await send();
      assert.equal(error.code, code, error.rawMessage);
      assert.ok(error.rawMessage.startsWith(prefix), `message: ${error.rawMessage}`);
      assert.equal(error.details.length, 0);
      assert.ok(explainProtocolError(error) !== undefined, `not recognised: ${Code[code]} ${error.rawMessage}`);
      if (prefix === "decompression failed")
        assert.equal(
          explainProtocolError(error)?.rejection,
          "undecodable_message",
          "both decompression failures alike",
        );
    });
  }

  test("an unsupported compression names the encodings it accepts, which the gateway passes on", async () => {
    const { error } = await errorOf("grpc", grpcFrame(Buffer.alloc(0)), { ...grpc, "grpc-encoding": "snappy" });
    assert.match(error.rawMessage, /supported encodings are gzip/);
    assert.equal(explainProtocolError(error)?.error.rawMessage, error.rawMessage);
  });

  test("a gRPC error read back from trailers carries the status headers in its metadata", async () => {
    const { error } = await errorOf("grpc", grpcFrame(garbage), grpc);
    assert.equal(error.metadata.get("grpc-status"), String(Code.Internal));
    assert.ok(error.metadata.has("grpc-message"));
  });
});

describe("connect-node's request adapter (rpc-handler.ts withAuthority)", () => {
  test("a request without Host throws, which is why the gateway supplies one", () => {
    const req = new http.IncomingMessage(new net.Socket());
    req.url = path;
    req.method = "POST";
    assert.throws(
      () => universalRequestFromNodeRequest(req, undefined, undefined),
      (error: unknown) =>
        error instanceof ConnectError &&
        error.code === Code.Internal &&
        /unable to determine request authority/.test(error.rawMessage),
    );
  });
});

describe("abort semantics (backends stop work when the call's signal aborts)", () => {
  let server: http.Server;
  let port = 0;
  let aborted: Promise<unknown>;
  let started: Promise<void>;
  before(async () => {
    let reportAbort: (reason: unknown) => void = () => undefined;
    let reportStart: () => void = () => undefined;
    aborted = new Promise((resolve) => (reportAbort = resolve));
    started = new Promise((resolve) => (reportStart = resolve));
    server = http.createServer(
      connectNodeAdapter({
        routes: (router) =>
          router.service(PermissionService, {
            getLambdaPolicy: (_req, ctx) =>
              new Promise((_resolve, reject) => {
                reportStart();
                ctx.signal.addEventListener("abort", () => {
                  reportAbort(ctx.signal.reason);
                  reject(ctx.signal.reason as Error);
                });
              }),
          }),
      }),
    );
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("a caller that closes its connection mid-call aborts the handler's signal", async () => {
    const req = http.request({
      port,
      host: "127.0.0.1",
      method: "POST",
      path,
      headers: { "content-type": "application/json" },
    });
    req.on("error", () => undefined);
    req.end(JSON.stringify({ functionName: "f" }));
    await started;
    req.destroy();
    const reason = await aborted;
    assert.ok(reason instanceof Error, `abort reason: ${String(reason)}`);
  });
});

// A caller's bad bytes are the caller's mistake in every protocol: an
// undecodable message is INVALID_ARGUMENT (never INTERNAL), an unsupported
// compression UNIMPLEMENTED, an unknown method UNIMPLEMENTED in the caller's
// own protocol; only a frame flagged compressed without grpc-encoding stays
// INTERNAL, as the gRPC spec says. Each carries the gateway's ErrorInfo and is
// logged at info with the path and protocol. The answers the protocol layer
// gives with a bare status (415, 405, 505) get a body naming the problem.
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import {
  connectStatusOf,
  grpcFrame,
  grpcStatusOf,
  grpcWebStatusOf,
  h1Exchange,
  h2Exchange,
  type RpcStatus,
} from "../support/raw-http.js";
import { createJsonLogger } from "../../src/logger.js";
import type { Gateway } from "../../src/gateway.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { createRecordingLogger } from "../support/recording-logger.js";

const service = "/permission.v1.PermissionService";
const path = `${service}/GetLambdaPolicy`;
/** Not a protobuf message: field 255 with wire type 7. */
const garbage = Buffer.from([0xff, 0x0f, 0xff, 0xff]);
const truncated = Buffer.from([0x0a, 0x10, 0x64]); // field 1, length 16, one byte

type Protocol = "connect" | "grpc" | "grpc-web";

interface Sent {
  readonly protocol: Protocol;
  readonly status: RpcStatus | undefined;
}

async function send(
  gateway: TestGateway,
  protocol: Protocol,
  body: Buffer,
  headers: Record<string, string> = {},
  target = path,
): Promise<Sent> {
  switch (protocol) {
    case "connect": {
      const answer = await h1Exchange(gateway.url, target, { "content-type": "application/proto", ...headers }, body);
      return { protocol, status: connectStatusOf(answer) };
    }
    case "grpc": {
      const answer = await h2Exchange(
        gateway.url,
        target,
        { "content-type": "application/grpc", te: "trailers", ...headers },
        grpcFrame(body),
      );
      return { protocol, status: grpcStatusOf(answer) };
    }
    case "grpc-web": {
      const answer = await h1Exchange(
        gateway.url,
        target,
        { "content-type": "application/grpc-web+proto", ...headers },
        grpcFrame(body),
      );
      return { protocol, status: grpcWebStatusOf(answer) };
    }
  }
}

describe("undecodable requests", () => {
  let gateway: TestGateway;
  const logs: Record<string, unknown>[] = [];
  before(async () => {
    gateway = await startTestGateway({
      logger: createJsonLogger("info", (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
    });
  });
  after(() => gateway.close());

  for (const protocol of ["connect", "grpc", "grpc-web"] as const) {
    for (const [name, body] of [
      ["an illegal tag", garbage],
      ["a truncated field", truncated],
    ] as const) {
      test(`${protocol}: ${name} is INVALID_ARGUMENT MALFORMED_REQUEST, logged at info`, async () => {
        logs.length = 0;
        const { status } = await send(gateway, protocol, body);
        assert.equal(status?.code, 3, JSON.stringify(status));
        assert.deepEqual(status?.reasons, ["MALFORMED_REQUEST"]);
        assert.match(status?.message ?? "", /cannot be decoded/);
        const line = logs.find((entry) => entry["message"] === "request refused before any RPC");
        assert.ok(line, "a log line");
        assert.equal(line["level"], "info");
        assert.equal(line["path"], path);
        assert.equal(line["protocol"], protocol);
      });
    }

    test(`${protocol}: a body that does not gunzip is INVALID_ARGUMENT`, async () => {
      const headers = protocol === "connect" ? { "content-encoding": "gzip" } : { "grpc-encoding": "gzip" };
      const frame = Buffer.from("not gzip");
      const answer =
        protocol === "connect"
          ? connectStatusOf(
              await h1Exchange(gateway.url, path, { "content-type": "application/proto", ...headers }, frame),
            )
          : protocol === "grpc"
            ? grpcStatusOf(
                await h2Exchange(
                  gateway.url,
                  path,
                  { "content-type": "application/grpc", te: "trailers", ...headers },
                  grpcFrame(frame, 1),
                ),
              )
            : grpcWebStatusOf(
                await h1Exchange(
                  gateway.url,
                  path,
                  { "content-type": "application/grpc-web+proto", ...headers },
                  grpcFrame(frame, 1),
                ),
              );
      assert.equal(answer?.code, 3, JSON.stringify(answer));
      assert.deepEqual(answer?.reasons, ["MALFORMED_REQUEST"]);
    });

    test(`${protocol}: gzip of an undecodable message is INVALID_ARGUMENT`, async () => {
      const zipped = gzipSync(garbage);
      const answer =
        protocol === "connect"
          ? connectStatusOf(
              await h1Exchange(
                gateway.url,
                path,
                { "content-type": "application/proto", "content-encoding": "gzip" },
                zipped,
              ),
            )
          : protocol === "grpc"
            ? grpcStatusOf(
                await h2Exchange(
                  gateway.url,
                  path,
                  { "content-type": "application/grpc", te: "trailers", "grpc-encoding": "gzip" },
                  grpcFrame(zipped, 1),
                ),
              )
            : grpcWebStatusOf(
                await h1Exchange(
                  gateway.url,
                  path,
                  { "content-type": "application/grpc-web+proto", "grpc-encoding": "gzip" },
                  grpcFrame(zipped, 1),
                ),
              );
      assert.equal(answer?.code, 3, JSON.stringify(answer));
    });

    test(`${protocol}: an unsupported compression is UNIMPLEMENTED`, async () => {
      const headers = protocol === "connect" ? { "content-encoding": "snappy" } : { "grpc-encoding": "snappy" };
      const { status } = await send(gateway, protocol, Buffer.from([0x0a, 0x04, 0x64, 0x65, 0x6d, 0x6f]), headers);
      assert.equal(status?.code, 12, JSON.stringify(status));
      assert.deepEqual(status?.reasons, ["UNSUPPORTED_COMPRESSION"]);
    });

    test(`${protocol}: an unknown method is UNIMPLEMENTED in the caller's protocol`, async () => {
      const { status } = await send(gateway, protocol, Buffer.alloc(0), {}, `${service}/NoSuchMethod`);
      assert.equal(status?.code, 12, JSON.stringify(status));
      assert.deepEqual(status?.reasons, ["UNKNOWN_METHOD"]);
    });
  }

  for (const protocol of ["grpc", "grpc-web"] as const) {
    test(`${protocol}: a frame flagged compressed without grpc-encoding is the one INTERNAL`, async () => {
      const body = grpcFrame(Buffer.from([0x0a, 0x04, 0x64, 0x65, 0x6d, 0x6f]), 1);
      const status =
        protocol === "grpc"
          ? grpcStatusOf(
              await h2Exchange(gateway.url, path, { "content-type": "application/grpc", te: "trailers" }, body),
            )
          : grpcWebStatusOf(
              await h1Exchange(gateway.url, path, { "content-type": "application/grpc-web+proto" }, body),
            );
      assert.equal(status?.code, 13, JSON.stringify(status));
      assert.deepEqual(status?.reasons, ["COMPRESSED_WITHOUT_ENCODING"]);
    });

    test(`${protocol}: a unary call with no message is INVALID_ARGUMENT`, async () => {
      const status =
        protocol === "grpc"
          ? grpcStatusOf(
              await h2Exchange(
                gateway.url,
                path,
                { "content-type": "application/grpc", te: "trailers" },
                Buffer.alloc(0),
              ),
            )
          : grpcWebStatusOf(
              await h1Exchange(gateway.url, path, { "content-type": "application/grpc-web+proto" }, Buffer.alloc(0)),
            );
      assert.equal(status?.code, 3, JSON.stringify(status));
    });
  }

  test("connect GET: a message that is not base64 is INVALID_ARGUMENT", async () => {
    const answer = await h1Exchange(
      gateway.url,
      `${path}?connect=v1&encoding=proto&base64=1&message=%25%25%25`,
      {},
      Buffer.alloc(0),
      "GET",
    );
    const status = connectStatusOf(answer);
    assert.equal(status?.code, 3, JSON.stringify(status));
    assert.deepEqual(status?.reasons, ["MALFORMED_REQUEST"]);
  });

  test("connect GET: base64 of an undecodable message is INVALID_ARGUMENT", async () => {
    const message = garbage.toString("base64url");
    const answer = await h1Exchange(
      gateway.url,
      `${path}?connect=v1&encoding=proto&base64=1&message=${message}`,
      {},
      Buffer.alloc(0),
      "GET",
    );
    assert.equal(connectStatusOf(answer)?.code, 3);
  });

  test("connect GET: JSON that does not parse is INVALID_ARGUMENT", async () => {
    const answer = await h1Exchange(
      gateway.url,
      `${path}?connect=v1&encoding=json&message=%7Bnope`,
      {},
      Buffer.alloc(0),
      "GET",
    );
    assert.equal(connectStatusOf(answer)?.code, 3);
  });

  test("connect JSON: malformed JSON and an unknown field are INVALID_ARGUMENT with ErrorInfo", async () => {
    for (const body of ['{"functionName":', '{"functionName":"demo","PrincipalOrgID":"o-1"}']) {
      const answer = await h1Exchange(gateway.url, path, { "content-type": "application/json" }, Buffer.from(body));
      const status = connectStatusOf(answer);
      assert.equal(status?.code, 3, body);
      assert.deepEqual(status?.reasons, ["MALFORMED_REQUEST"]);
    }
  });

  test("grpc-js (an independent client) gets UNIMPLEMENTED for an unknown method", async () => {
    const client = new grpc.Client(new URL(gateway.url).host, grpc.credentials.createInsecure());
    try {
      const error = await new Promise<grpc.ServiceError>((resolve) => {
        client.makeUnaryRequest(
          `${service}/NoSuchMethod`,
          (value: Buffer) => value,
          (value: Buffer) => value,
          Buffer.alloc(0),
          (err) => resolve(err as grpc.ServiceError),
        );
      });
      assert.equal(error.code, grpc.status.UNIMPLEMENTED);
    } finally {
      client.close();
    }
  });
});

describe("answers the protocol layer gives with a bare status get a body, and a log line", () => {
  let gateway: Gateway;
  const logger = createRecordingLogger();
  before(async () => void (gateway = await startConfiguredGateway({}, logger)));
  after(() => gateway.close());

  const rejectedLine = (at: string) =>
    logger.lines.find((line) => line.message === "request rejected" && line.fields?.["path"] === at);

  test("a POST without content-type: 415 naming the content-types an RPC takes", async () => {
    const answer = await h1Exchange(gateway.url, path, {}, Buffer.from("{}"));
    assert.equal(answer.httpStatus, 415);
    assert.match(answer.headers["content-type"] ?? "", /^text\/plain/);
    assert.match(
      answer.body.toString(),
      /^the request has no content-type: send application\/json or application\/proto/,
    );
    assert.ok(rejectedLine(path), "logged");
  });

  test("a GET on a mutation: 405 with Allow, naming the method to use", async () => {
    const mutation = `${service}/AddLambdaPermission`;
    const answer = await h1Exchange(
      gateway.url,
      `${mutation}?connect=v1&encoding=json&message=%7B%7D`,
      {},
      Buffer.alloc(0),
      "GET",
    );
    assert.equal(answer.httpStatus, 405);
    assert.equal(answer.headers["allow"], "POST");
    assert.match(
      answer.body.toString(),
      /^GET is not allowed on \/permission\.v1\.PermissionService\/AddLambdaPermission: use POST/,
    );
    assert.ok(rejectedLine(mutation), "logged");
  });

  test("a Connect POST to the bidirectional reflection method over HTTP/1.1: 505 saying HTTP/2 is needed", async () => {
    const reflection = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
    const answer = await h1Exchange(
      gateway.url,
      reflection,
      { "content-type": "application/connect+json" },
      grpcFrame(Buffer.from("{}")),
    );
    assert.equal(answer.httpStatus, 505);
    assert.match(answer.body.toString(), /is a bidirectional stream, which needs HTTP\/2/);
    assert.ok(rejectedLine(reflection), "logged");
  });
});

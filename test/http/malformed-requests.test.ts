// A corpus of raw requests that broken clients and attackers send. Each one
// is answered (or its connection closed) and the gateway goes on serving:
// none may end the process, which in this test would end the test run.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { rawExchange, statusCodes } from "../support/raw-http.js";

const rpcPath = "/permission.v1.PermissionService/GetLambdaPolicy";
const json = '{"functionName":"demo"}';

interface Case {
  readonly name: string;
  readonly chunks: readonly (string | Buffer)[];
  /** The HTTP status the first answer must have; undefined: the connection may just be closed. */
  readonly status?: number | undefined;
  /** Part of the answer's body. */
  readonly body?: RegExp | undefined;
}

const cases: readonly Case[] = [
  {
    name: "HTTP/1.0 without Host is served",
    chunks: [`POST ${rpcPath} HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`],
    status: 400,
    body: /"code":"invalid_argument".*functionName/,
  },
  {
    name: "HTTP/1.0 without Host, with a valid request, succeeds",
    chunks: [
      `POST ${rpcPath} HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}`,
    ],
    status: 404,
    body: /"code":"not_found"/,
  },
  {
    name: "a request line without an HTTP version",
    chunks: [`POST ${rpcPath}\r\nContent-Type: application/json\r\n\r\n`],
  },
  { name: "a garbage request line", chunks: ["\x00\x01\x02 garbage !!\r\n\r\n"], status: 400 },
  {
    name: "a request line with too many parts",
    chunks: [`POST ${rpcPath} HTTP/1.1 extra\r\nHost: x\r\n\r\n`],
    status: 400,
  },
  { name: "an unknown HTTP version", chunks: [`POST ${rpcPath} HTTP/9.9\r\nHost: x\r\n\r\n`] },
  {
    name: "bad chunked encoding",
    chunks: [
      `POST ${rpcPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    ],
    status: 400,
  },
  {
    name: "Content-Length and Transfer-Encoding together",
    chunks: [`POST ${rpcPath} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
    status: 400,
  },
  {
    name: "a negative Content-Length",
    chunks: [`POST ${rpcPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}`],
    status: 400,
  },
  {
    name: "huge headers",
    chunks: [`POST ${rpcPath} HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`],
    status: 431,
  },
  {
    name: "thousands of headers",
    chunks: [
      `POST ${rpcPath} HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join("")}\r\n`,
    ],
    status: 431,
  },
  {
    name: "a Host header new URL() refuses",
    chunks: [
      `POST ${rpcPath} HTTP/1.1\r\nHost: a b[\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\nConnection: close\r\n\r\n${json}`,
    ],
    status: 404,
    body: /"code":"not_found"/,
  },
  {
    name: "a header with a control character",
    chunks: [`POST ${rpcPath} HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n`],
    status: 400,
  },
  {
    name: "an absolute-form request target",
    chunks: [
      `POST http://elsewhere${rpcPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    ],
  },
  { name: "an asterisk request target", chunks: ["OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"] },
  {
    name: "a body shorter than its Content-Length, then silence",
    chunks: [
      `POST ${rpcPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"funct`,
    ],
  },
  {
    name: "the HTTP/2 preface, then garbage",
    chunks: [Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from("\xff".repeat(64), "latin1")],
  },
  { name: "half the HTTP/2 preface", chunks: [Buffer.from("PRI * HTTP/2.0\r\n")] },
  {
    name: "an HTTP/2 SETTINGS frame with a bad length",
    chunks: [
      Buffer.concat([
        Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        Buffer.from([0, 0, 5, 4, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5]),
      ]),
    ],
  },
  {
    name: "an HTTP/2 HEADERS frame that is not HPACK",
    chunks: [
      Buffer.concat([
        Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
        Buffer.from([0, 0, 4, 1, 5, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]),
      ]),
    ],
  },
  {
    name: "pipelined requests, the last one cut",
    chunks: [
      `POST ${rpcPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}` +
        `POST ${rpcPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}` +
        `POST ${rpcPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Le`,
    ],
    status: 404,
  },
];

describe("raw malformed requests", () => {
  let gateway: TestGateway;
  before(async () => (gateway = await startTestGateway()));
  after(() => gateway.close());

  const stillServing = async (): Promise<void> => {
    const res = await fetch(`${gateway.url}/permission.v1.PermissionService/ListRamPermissions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 200, "the gateway still serves a normal call");
    await res.arrayBuffer();
  };

  for (const c of cases) {
    test(c.name, async () => {
      const exchange = await rawExchange(gateway.port, c.chunks, { timeoutMs: 1_500 });
      if (c.status !== undefined) {
        assert.equal(statusCodes(exchange.text)[0], c.status, `first answer: ${exchange.text.slice(0, 200)}`);
      }
      if (c.body !== undefined) assert.match(exchange.text, c.body);
      await stillServing();
    });
  }

  test("every case again, all at once, and the gateway still serves", async () => {
    await Promise.all(cases.map((c) => rawExchange(gateway.port, c.chunks, { timeoutMs: 1_500 })));
    await stillServing();
  });
});

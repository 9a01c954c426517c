// A seeded, bounded fuzz run: thousands of requests built from valid ones of
// every RPC and then damaged (bytes flipped, cut, inserted; JSON values of the
// wrong type; unknown fields; odd headers), sent over Connect JSON and binary,
// gRPC over h2c and gRPC-Web over HTTP/1.1 and h2c. Every request must get an
// answer in its protocol, none may be INTERNAL but the one the gRPC spec
// prescribes, and the gateway must still serve at the end with its memory
// bounded. The seed is printed; FUZZ_SEED and FUZZ_REQUESTS reproduce a run.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { create, toBinary, toJsonString, type DescMessage } from "@bufbuild/protobuf";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import {
  connectStatusOf,
  grpcFrame,
  grpcStatusOf,
  grpcWebStatusOf,
  h1Exchange,
  h2StreamExchange,
  type RpcStatus,
  type WireAnswer,
} from "../support/raw-http.js";

const seed = Number(process.env["FUZZ_SEED"] ?? 20261201);
const total = Number(process.env["FUZZ_REQUESTS"] ?? 4000);
const concurrency = 16;
const answerTimeoutMs = 10_000;

/** mulberry32: small, seedable, good enough to pick mutations. */
function prng(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const lambdaArn = "arn:aws:lambda:us-east-1:123456789012:function:demo";
const ramArn = "arn:aws:ram:us-east-1:123456789012:permission/demo-permission";
const valid: Record<string, Record<string, unknown>> = {
  RemoveLambdaPermission: { functionName: "demo", statementId: "s1", allowMissing: true, idempotencyKey: "k1" },
  AddLambdaPermission: {
    functionName: lambdaArn,
    statementId: "fuzz",
    action: "lambda:InvokeFunction",
    principal: "s3.amazonaws.com",
    sourceArn: "arn:aws:s3:::bucket",
    sourceAccount: "123456789012",
    principalOrgId: "o-abcdefghij",
    functionUrlAuthType: "FUNCTION_URL_AUTH_TYPE_AWS_IAM",
  },
  GetLambdaPolicy: { functionName: "demo", qualifier: "live" },
  DeleteRamPermission: { permissionArn: ramArn, clientToken: "t1" },
  CreateRamPermission: {
    name: "fuzz",
    resourceType: "ec2:Subnet",
    policyTemplate: '{"Effect":"Allow"}',
    tags: { env: "test" },
  },
  GetRamPermission: {
    permissionArn: "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet",
    permissionVersion: 1,
  },
  ListRamPermissions: { resourceType: "ec2:Subnet", pageSize: 5 },
};
const methods = PermissionService.methods;

type Transport = "connect-json" | "connect-proto" | "grpc" | "grpc-web-h1" | "grpc-web-h2";
const transports: readonly Transport[] = ["connect-json", "connect-proto", "grpc", "grpc-web-h1", "grpc-web-h2"];

interface Fuzzed {
  readonly transport: Transport;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const weird = [
  "",
  "\u0000",
  "\u{1F600}",
  "a".repeat(300),
  "arn:aws:lambda:xx-east-9:1:function:",
  "../../etc",
  "%00",
  "$LATEST",
  "-1",
  "1e999",
];

function mutateJson(value: unknown, random: () => number): unknown {
  if (typeof value !== "object" || value === null) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const pick = (): string => keys[Math.floor(random() * keys.length)] ?? "functionName";
  switch (Math.floor(random() * 8)) {
    case 0:
      copy[pick()] = weird[Math.floor(random() * weird.length)];
      break;
    case 1:
      copy[pick()] = Math.floor(random() * 2 ** 40) - 2 ** 39;
      break;
    case 2:
      copy[pick()] = [1, { a: null }];
      break;
    case 3:
      copy[pick()] = null;
      break;
    case 4:
      copy[`unknown${Math.floor(random() * 100)}`] = "x";
      break;
    case 5:
      delete copy[pick()];
      break;
    case 6:
      copy[pick()] = { nested: { deeper: [true] } };
      break;
    default:
      copy[pick()] = random() < 0.5;
  }
  return copy;
}

function mutateBytes(bytes: Uint8Array, random: () => number): Buffer {
  const out = Buffer.from(bytes);
  switch (Math.floor(random() * 5)) {
    case 0: // flip some bits
      for (let i = 0; i < 1 + Math.floor(random() * 4) && out.length > 0; i++) {
        const at = Math.floor(random() * out.length);
        out[at] = (out[at] ?? 0) ^ (1 << Math.floor(random() * 8));
      }
      return out;
    case 1: // cut
      return out.subarray(0, Math.floor(random() * out.length));
    case 2: // insert random bytes
      return Buffer.concat([
        out.subarray(0, Math.floor(random() * out.length)),
        randomBytes(1 + Math.floor(random() * 16), random),
        out,
      ]);
    case 3: // an unknown field (number 20..2000, varint)
      return Buffer.concat([
        out,
        Buffer.from([0xa0 + Math.floor(random() * 8), 0x01 + Math.floor(random() * 0x0f), 0x01]),
      ]);
    default: // pure noise
      return randomBytes(Math.floor(random() * 64), random);
  }
}

function randomBytes(length: number, random: () => number): Buffer {
  return Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
}

function fuzzedRequest(random: () => number): Fuzzed {
  const method = methods[Math.floor(random() * methods.length)] ?? methods[0]!;
  const transport = transports[Math.floor(random() * transports.length)] ?? "grpc";
  const path = `/${PermissionService.typeName}/${method.name}`;
  const input = method.input;
  const message = create(input, fromValid(input, valid[method.name] ?? {}));
  const damage = random() < 0.85;
  if (transport === "connect-json") {
    const json = damage
      ? JSON.stringify(mutateJson(JSON.parse(toJsonString(input, message)), random))
      : toJsonString(input, message);
    const body = damage && random() < 0.2 ? mutateBytes(Buffer.from(json), random) : Buffer.from(json);
    return { transport, path, headers: { "content-type": "application/json" }, body };
  }
  let bytes: Buffer = Buffer.from(toBinary(input, message));
  if (damage) bytes = mutateBytes(bytes, random);
  const headers: Record<string, string> = {};
  let flags = 0;
  const roll = random();
  if (roll < 0.05) {
    headers[transport === "connect-proto" ? "content-encoding" : "grpc-encoding"] = "gzip";
    bytes = random() < 0.5 ? gzipSync(bytes) : bytes;
    flags = 1;
  } else if (roll < 0.08) {
    headers[transport === "connect-proto" ? "content-encoding" : "grpc-encoding"] = "zstd-nope";
  } else if (roll < 0.1) {
    flags = 1; // compressed flag without an encoding: the one INTERNAL allowed
  } else if (roll < 0.13) {
    headers[transport === "connect-proto" ? "connect-timeout-ms" : "grpc-timeout"] =
      random() < 0.5 ? "garbage" : "99999999999999H";
  }
  if (transport === "connect-proto")
    return { transport, path, headers: { "content-type": "application/proto", ...headers }, body: bytes };
  let frame = grpcFrame(bytes, flags);
  if (damage && random() < 0.15) frame = frame.subarray(0, Math.floor(random() * frame.length)); // a cut frame
  const contentType = transport === "grpc" ? "application/grpc" : "application/grpc-web+proto";
  return {
    transport,
    path,
    headers: { "content-type": contentType, ...(transport === "grpc" ? { te: "trailers" } : {}), ...headers },
    body: frame,
  };
}

/** The valid request's JSON, as the init shape `create` wants (enums and maps as protobuf-es has them). */
function fromValid(input: DescMessage, json: Record<string, unknown>): Record<string, unknown> {
  const init: Record<string, unknown> = { ...json };
  if (input.typeName.endsWith("AddLambdaPermissionRequest")) init["functionUrlAuthType"] = 2;
  return init;
}

function statusOf(transport: Transport, answer: WireAnswer): RpcStatus | undefined {
  if (transport === "grpc") return grpcStatusOf(answer);
  if (transport === "grpc-web-h1" || transport === "grpc-web-h2") return grpcWebStatusOf(answer);
  return connectStatusOf(answer);
}

describe("fuzz", () => {
  let gateway: TestGateway;
  let session: http2.ClientHttp2Session;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  before(async () => {
    gateway = await startTestGateway();
    session = http2.connect(gateway.url);
    session.on("error", () => undefined);
  });
  after(async () => {
    session.destroy();
    agent.destroy();
    await gateway.close();
  });

  const viaH2 = (request: Fuzzed): Promise<WireAnswer> => {
    if (session.destroyed || session.closed) {
      session = http2.connect(gateway.url);
      session.on("error", () => undefined);
    }
    return h2StreamExchange(session, request.path, request.headers, request.body);
  };

  const viaH1 = (request: Fuzzed): Promise<WireAnswer> =>
    h1Exchange(gateway.url, request.path, request.headers, request.body, "POST", agent);

  test(`${total} damaged requests over every protocol (seed ${seed}): answered, never INTERNAL but the allowed case`, async (t) => {
    const random = prng(seed);
    const requests = Array.from({ length: total }, () => fuzzedRequest(random));
    const rssBefore = process.memoryUsage().rss;
    const codes = new Map<string, number>();
    const problems: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let index = next++; index < requests.length; index = next++) {
        const request = requests[index]!;
        const send = request.transport === "grpc" || request.transport === "grpc-web-h2" ? viaH2 : viaH1;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("no answer")), answerTimeoutMs);
        });
        try {
          const answer = await Promise.race([send(request), timeout]);
          const status = statusOf(request.transport, answer);
          const key = status === undefined ? `http ${answer.httpStatus}` : `code ${status.code}`;
          codes.set(key, (codes.get(key) ?? 0) + 1);
          if (status === undefined) {
            problems.push(
              `#${index} ${request.transport} ${request.path}: HTTP ${answer.httpStatus} with no RPC status`,
            );
          } else if (status.code === 13 && !status.reasons.includes("COMPRESSED_WITHOUT_ENCODING")) {
            problems.push(
              `#${index} ${request.transport} ${request.path}: INTERNAL ${status.message} ${status.reasons.join(",")}`,
            );
          } else if (status.code !== 0 && status.reasons.length !== 1) {
            problems.push(
              `#${index} ${request.transport} ${request.path}: code ${status.code} with ${status.reasons.length} ErrorInfo`,
            );
          }
        } catch (error) {
          problems.push(
            `#${index} ${request.transport} ${request.path}: ${error instanceof Error ? error.message : String(error)}`,
          );
        } finally {
          clearTimeout(timer);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    t.diagnostic(
      `codes: ${JSON.stringify(Object.fromEntries([...codes].sort()))}; RSS growth ${rssGrowthMb.toFixed(1)} MiB`,
    );
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problems`);
    assert.ok(rssGrowthMb < 256, `memory stays bounded (grew ${rssGrowthMb.toFixed(1)} MiB)`);
    const res = await fetch(`${gateway.url}/${PermissionService.typeName}/ListRamPermissions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 200, "still serving");
  });
});

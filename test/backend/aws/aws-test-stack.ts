// The AWS backend wired to our fake AWS endpoint over loopback HTTP, with a
// recording pass-through proxy in between so tests can see every attempt on
// the wire (its body, its SigV4 signing Region, the request ID answered).
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseFunctionName } from "../../../src/aws/arn.js";
import type { CallOptions, LambdaFunctionRef, PermissionBackend } from "../../../src/backend/backend.js";
import { createAwsBackend, createSdkClientFactory, type AwsCredentials } from "../../../src/backend/aws/aws-backend.js";
import {
  createFakeBackend,
  type FakeBackend,
  type FakeBackendOptions,
} from "../../../src/backend/fake/fake-backend.js";
import type { Clock } from "../../../src/clock.js";
import { startFakeAwsServer, type FakeAwsServer } from "../../../src/fake-aws/server.js";
import { silentLogger } from "../../../src/logger.js";
import { createGatewayClient, type GatewayClient } from "../../support/clients.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";

export const testCredentials = {
  accessKeyId: "AKIDTESTGATEWAY",
  secretAccessKey: "test-secret",
} as const satisfies AwsCredentials;

/** A fixed clock, so two fresh fakes stamp created permissions identically. */
export const fixedClock: Clock = { now: () => Date.parse("2025-03-01T12:00:00.000Z") };

export interface RecordedExchange {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: string;
  /** The Region of the SigV4 credential scope the SDK signed with. */
  readonly signingRegion: string | undefined;
  /** The signing service name of the credential scope ("lambda", "ram"). */
  readonly signingService: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly retryAfter: string | undefined;
}

export interface RecordingProxy {
  readonly url: string;
  readonly exchanges: RecordedExchange[];
  close(): Promise<void>;
}

/** Forwards every request to `target` unchanged and records both sides. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const targetUrl = new URL(target);
  const exchanges: RecordedExchange[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? "/", target);
      const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
        String(req.headers["authorization"] ?? ""),
      );
      const exchange: {
        -readonly [K in keyof RecordedExchange]: RecordedExchange[K];
      } = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        body: body.toString("utf8"),
        signingRegion: scope?.[1],
        signingService: scope?.[2],
        status: undefined,
        requestId: undefined,
        retryAfter: undefined,
      };
      exchanges.push(exchange);
      const upstream = httpRequest(
        {
          host: targetUrl.hostname,
          port: targetUrl.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (upstreamRes) => {
          exchange.status = upstreamRes.statusCode;
          exchange.requestId = header(upstreamRes.headers, "x-amzn-requestid");
          exchange.retryAfter = header(upstreamRes.headers, "retry-after");
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
        },
      );
      // A dropped or refused upstream drops the client too, as if AWS had.
      upstream.on("error", () => res.destroy());
      res.on("close", () => {
        if (!res.writableFinished) upstream.destroy();
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export interface AwsStackOptions {
  readonly maxAttempts?: number;
  readonly requestTimeoutMs?: number;
  readonly defaultRegion?: string;
  readonly credentials?: AwsCredentials;
  readonly clock?: Clock;
  /** Options of the fake model behind the endpoint. */
  readonly fake?: FakeBackendOptions;
}

export interface AwsStack {
  /** The adapter under test. */
  readonly backend: PermissionBackend;
  /** The model behind the fake endpoint. */
  readonly model: FakeBackend;
  readonly endpoint: FakeAwsServer;
  readonly proxy: RecordingProxy;
  /** Regions the backend asked its client factory for, in order. */
  readonly regionsBuilt: string[];
  close(): Promise<void>;
}

/** AWS backend -> real SDK clients -> recording proxy -> fake AWS endpoint -> fresh fake model. */
export async function startAwsStack(options: AwsStackOptions = {}): Promise<AwsStack> {
  const model = createFakeBackend({
    ...options.fake,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const endpoint = await startFakeAwsServer({ backend: model });
  const proxy = await startRecordingProxy(endpoint.url);
  const maxAttempts = options.maxAttempts ?? 3;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  const production = createSdkClientFactory({
    maxAttempts,
    requestTimeoutMs,
    connectTimeoutMs: 2000,
    credentials: options.credentials ?? testCredentials,
    endpoint: proxy.url,
  });
  const regionsBuilt: string[] = [];
  const backend = createAwsBackend({
    defaultRegion: options.defaultRegion ?? "us-east-1",
    maxAttempts,
    requestTimeoutMs,
    logger: silentLogger,
    clientFactory: (region) => {
      regionsBuilt.push(region);
      return production(region);
    },
  });
  return {
    backend,
    model,
    endpoint,
    proxy,
    regionsBuilt,
    async close() {
      await backend.close();
      await proxy.close();
      await endpoint.close();
      await model.close();
    },
  };
}

/** A function reference as the gateway's validation would hand it over. */
export function fn(functionName: string): LambdaFunctionRef {
  const parsed = parseFunctionName(functionName);
  if (parsed === undefined) throw new Error(`not a function name: ${functionName}`);
  // The gateway hands the qualifier over separately, never in the reference.
  return {
    functionName: parsed.functionName,
    name: parsed.name,
    account: parsed.account,
    region: parsed.region,
    partition: parsed.partition,
  };
}

export const DEMO_PERMISSION = "arn:aws:ram:us-east-1:123456789012:permission/demo-permission";
export const DEMO_ATTACHED = "arn:aws:ram:us-east-1:123456789012:permission/demo-attached";
export const AWS_MANAGED_SUBNET = "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet";
export const AWS_MANAGED_PREFIX_LIST = "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionPrefixList";

/** An AWS backend whose SDK clients talk to 127.0.0.1:<port> directly, two attempts each. */
export function awsBackendAt(port: number, clock?: Clock): PermissionBackend {
  return createAwsBackend({
    defaultRegion: "us-east-1",
    maxAttempts: 2,
    requestTimeoutMs: 2000,
    logger: silentLogger,
    ...(clock === undefined ? {} : { clock }),
    clientFactory: createSdkClientFactory({
      maxAttempts: 2,
      requestTimeoutMs: 2000,
      connectTimeoutMs: 1000,
      credentials: testCredentials,
      endpoint: `http://127.0.0.1:${port}`,
    }),
  });
}

export function noDeadline(): CallOptions {
  return { signal: new AbortController().signal };
}

/** Call options whose deadline is `ms` from now, as the gateway derives them. */
export function deadlineIn(ms: number): CallOptions {
  return { signal: AbortSignal.timeout(ms), deadline: Date.now() + ms };
}

/** The rejection of `promise`; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error("expected a rejection, but the call succeeded");
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A gateway serving the AWS adapter of a stack, and a Connect client of it. */
export interface AwsChain {
  readonly stack: AwsStack;
  readonly gateway: TestGateway<PermissionBackend>;
  readonly client: GatewayClient;
  close(): Promise<void>;
}

/** Connect client -> gateway -> `decorate(AWS adapter)` -> SDK -> recording proxy -> fake AWS endpoint. */
export async function startAwsChain(
  options: AwsStackOptions = {},
  decorate: (backend: PermissionBackend) => PermissionBackend = (backend) => backend,
): Promise<AwsChain> {
  const stack = await startAwsStack(options);
  const gateway = await startTestGateway<PermissionBackend>({ backend: decorate(stack.backend) });
  const client = createGatewayClient("connect-json", gateway.url);
  return {
    stack,
    gateway,
    client,
    async close() {
      client.close();
      await gateway.close();
      await stack.close();
    },
  };
}

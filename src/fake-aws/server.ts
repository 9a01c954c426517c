// The fake AWS endpoint: an HTTP/1.1 server that answers Lambda's and RAM's
// REST-JSON wire protocol for the port's operations from any
// PermissionBackend, so an AWS SDK in any language can be pointed at it.
// It never checks signatures. Calls are counted per operation at the HTTP
// layer, every attempt included. Faults apply before the backend sees the
// request, as a failing AWS front end would, or, with afterExecution, to the
// answer of a request that already took effect.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { PermissionBackend } from "../backend/backend.js";
import { SERVICE_ERROR_CODES } from "../aws/error-catalogue.js";
import { isAwsApiError, isUpstreamOutcomeUnknownError, type AwsService } from "../backend/errors.js";
import { silentLogger, type Logger } from "../logger.js";
import {
  createFaultSchedule,
  InvalidFakeAwsFaultError,
  parseFakeAwsFault,
  parseStsFault,
  type FakeAwsFault,
  type FaultOutcome,
} from "./faults.js";
import { lambdaOperations } from "./lambda-operations.js";
import {
  FAKE_AWS_OPERATIONS,
  routeRequest,
  serviceOfOperation,
  serviceOfPath,
  type FakeAwsOperation,
  type RoutedRequest,
  type WireOperations,
} from "./operations.js";
import { ramOperations } from "./ram-operations.js";
import { createAccountAwareness, type CallIdentity, type StsFault } from "./accounts.js";
import type { FakeIdentities } from "../backend/fake/identities.js";
import {
  codeForStatus,
  defaultStatusOf,
  isThrottlingCode,
  DEFAULT_RETRY_AFTER_SECONDS,
  toWireErrorResponse,
  wireError,
  writeErrorResponse,
  writeJsonResponse,
  type WireErrorResponse,
} from "./wire-errors.js";
import { parseJsonBody, type JsonObject } from "./wire-input.js";

export type { FakeAwsFault } from "./faults.js";
export { InvalidFakeAwsFaultError } from "./faults.js";
export { FAKE_AWS_OPERATIONS, type FakeAwsOperation } from "./operations.js";

export interface FakeAwsServerOptions {
  readonly backend: PermissionBackend;
  /** Default 127.0.0.1. */
  readonly host?: string | undefined;
  /** Default 0: any free port. */
  readonly port?: number | undefined;
  readonly logger?: Logger | undefined;
  /**
   * The roles STS serves and the sessions it issued (accounts.ts). With
   * roles, Lambda and RAM act as the account of the signing credentials;
   * without, as any account.
   */
  readonly identities?: FakeIdentities | undefined;
}

export interface FakeAwsServer {
  /** e.g. http://127.0.0.1:4010, the `endpoint` of an SDK client. */
  readonly url: string;
  readonly port: number;
  /** Stops listening, drops open connections and aborts calls in progress. */
  close(): Promise<void>;
  /** Requests that reached `operation` (every attempt, faulted ones too); all operations when absent. */
  callCount(operation?: string): number;
  resetCallCounts(): void;
  /** Every request with who signed it: account, principal and SourceIdentity (STS too). */
  calls(): readonly CallIdentity[];
  /** Throws InvalidFakeAwsFaultError for a fault that does not make sense. */
  injectFault(fault: FakeAwsFault): void;
  clearFaults(): void;
  /** STS answers the next `times` (default every) AssumeRole with this error; cleared by clearFaults. Throws InvalidFakeAwsFaultError for a fault that does not make sense. */
  injectStsFault(fault: StsFault): void;
}

/** Every operation of the port (BACKEND_OPERATIONS), each served by its service's file. */
const wireOperations: WireOperations<FakeAwsOperation> = { ...lambdaOperations, ...ramOperations };

/** Far above anything the operations carry; a guard, not a model of AWS's limits. */
const MAX_BODY_BYTES = 1024 * 1024;
const CONTROL_PREFIX = "__fake";

class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError" as const;
}

/** Reads the whole body; past the limit it keeps draining so the client can read the answer. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size <= MAX_BODY_BYTES) chunks.push(buffer);
  }
  if (size > MAX_BODY_BYTES) throw new BodyTooLargeError(`request body larger than ${MAX_BODY_BYTES} bytes`);
  return Buffer.concat(chunks).toString("utf8");
}

function routeOrThrow(service: AwsService, method: string, url: URL, segments: readonly string[]): RoutedRequest {
  let routed: RoutedRequest | undefined;
  try {
    routed = routeRequest(wireOperations, method, segments);
  } catch (error) {
    if (!(error instanceof URIError)) throw error;
    const code = service === "lambda" ? "InvalidParameterValueException" : "InvalidParameterException";
    throw wireError(service, code, "The request path is not validly percent-encoded.");
  }
  if (routed === undefined) {
    throw wireError(service, "UnknownOperationException", `No operation is served at ${method} ${url.pathname}.`);
  }
  return routed;
}

async function readBodyOrThrow(service: AwsService, req: IncomingMessage): Promise<string> {
  try {
    return await readBody(req);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    const code = service === "lambda" ? "RequestTooLargeException" : "InvalidParameterException";
    throw wireError(service, code, error.message);
  }
}

function injectedErrorResponse(service: AwsService, outcome: FaultOutcome): WireErrorResponse | undefined {
  const injected = outcome.error;
  if (injected === undefined) return undefined;
  const status = injected.httpStatus;
  const code = injected.errorCode ?? codeForStatus(service, status ?? 500);
  return {
    service,
    code,
    message: injected.message ?? `${code}: injected by the fake AWS endpoint`,
    httpStatus: status ?? defaultStatusOf(service, code),
    requestId: randomUUID(),
    retryAfterSeconds:
      injected.retryAfterSeconds ?? (isThrottlingCode(service, code) ? DEFAULT_RETRY_AFTER_SECONDS : undefined),
  };
}

function writeControlJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function formatUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

export async function startFakeAwsServer(options: FakeAwsServerOptions): Promise<FakeAwsServer> {
  const { backend } = options;
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? "127.0.0.1";
  const faults = createFaultSchedule();
  const counts = new Map<FakeAwsOperation, number>();
  const accounts = createAccountAwareness(options.identities);
  // Aborted on close(), so slow faults and backend calls end with the server.
  const closing = new AbortController();

  const countOf = (operation: FakeAwsOperation): number => counts.get(operation) ?? 0;

  const injectFault = (fault: FakeAwsFault): void => {
    faults.add(parseFakeAwsFault(fault));
  };

  /** POST adds a fault, GET lists the pending ones, DELETE clears them. */
  function controlFaults<F>(
    req: IncomingMessage,
    res: ServerResponse,
    body: string,
    schedule: { parse(value: unknown): F; add(fault: F): void; pending(): F[]; clear(): void },
  ): void {
    const method = req.method ?? "GET";
    if (method === "POST") {
      let fault: F;
      try {
        fault = schedule.parse(JSON.parse(body === "" ? "null" : body));
      } catch (error) {
        if (error instanceof InvalidFakeAwsFaultError || error instanceof SyntaxError) {
          writeControlJson(res, 400, { message: error.message });
          return;
        }
        throw error;
      }
      schedule.add(fault);
      writeControlJson(res, 201, { fault });
      return;
    }
    if (method === "GET") return writeControlJson(res, 200, { faults: schedule.pending() });
    if (method === "DELETE") {
      schedule.clear();
      res.writeHead(204).end();
      return;
    }
    res.writeHead(405, { Allow: "GET, POST, DELETE" }).end();
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, resource: string): Promise<void> {
    const method = req.method ?? "GET";
    const body = await readBody(req);
    if (resource === "faults") {
      return controlFaults(req, res, body, {
        parse: parseFakeAwsFault,
        add: (fault) => faults.add(fault),
        pending: () => faults.pending(),
        clear: () => faults.clear(),
      });
    }
    if (resource === "sts-faults") {
      return controlFaults(req, res, body, {
        parse: parseStsFault,
        add: (fault) => accounts.injectStsFault(fault),
        pending: () => accounts.pendingStsFaults(),
        clear: () => accounts.clearStsFaults(),
      });
    }
    if (resource === "calls") {
      if (method === "GET") {
        if (new URL(req.url ?? "/", "http://fake-aws.invalid").searchParams.get("by") === "identity")
          return writeControlJson(res, 200, { calls: accounts.calls() });
        return writeControlJson(res, 200, Object.fromEntries(FAKE_AWS_OPERATIONS.map((op) => [op, countOf(op)])));
      }
      if (method === "DELETE") {
        counts.clear();
        accounts.reset();
        res.writeHead(204).end();
        return;
      }
      res.writeHead(405, { Allow: "GET, DELETE" }).end();
      return;
    }
    writeControlJson(res, 404, {
      message: `unknown control resource /${CONTROL_PREFIX}/${resource}; try faults, sts-faults or calls`,
    });
  }

  /**
   * Applies a fault's latency, dropped connection or error. True when the
   * fault answered (or abandoned) the request, so the backend must not see it.
   */
  async function answeredByFault(
    req: IncomingMessage,
    res: ServerResponse,
    signal: AbortSignal,
    service: AwsService,
    operation: FakeAwsOperation,
    outcome: FaultOutcome,
  ): Promise<boolean> {
    if (outcome.latencyMs > 0) {
      try {
        await sleep(outcome.latencyMs, undefined, { signal });
      } catch {
        // The client left or the server is closing: nobody is waiting for an answer.
        res.destroy();
        return true;
      }
    }
    if (outcome.dropConnection) {
      logger.debug("fake AWS endpoint: dropping the connection (injected)", { operation });
      req.socket.destroy();
      return true;
    }
    const injected = injectedErrorResponse(service, outcome);
    if (injected === undefined) return false;
    logger.debug("fake AWS endpoint: injected error", { operation, code: injected.code, status: injected.httpStatus });
    writeErrorResponse(res, injected);
    return true;
  }

  /** Runs the request against the backend; the answer is written later, so an after-execution fault can hold or drop it. */
  async function execute(
    routed: RoutedRequest,
    url: URL,
    body: JsonObject,
    signal: AbortSignal,
    actingBackend: PermissionBackend,
  ): Promise<(res: ServerResponse) => void> {
    const { operation } = routed;
    try {
      const result = await wireOperations[operation].handler({
        labels: routed.labels,
        query: url.searchParams,
        body,
        backend: actingBackend,
        options: { signal },
      });
      const requestId = result.requestId ?? randomUUID();
      logger.debug("fake AWS endpoint: answered", { operation, status: result.status, requestId });
      return (res) => writeJsonResponse(res, result.status, requestId, result.body);
    } catch (error) {
      if (!isAwsApiError(error)) throw error;
      const response = toWireErrorResponse(error);
      logger.debug("fake AWS endpoint: AWS error", {
        operation,
        code: response.code,
        status: response.httpStatus,
        requestId: response.requestId,
      });
      return (res) => writeErrorResponse(res, response);
    }
  }

  async function handleAws(req: IncomingMessage, res: ServerResponse, url: URL, segments: string[]): Promise<void> {
    const method = req.method ?? "GET";
    let service = serviceOfPath(segments);
    let operation: FakeAwsOperation | undefined;
    // Aborted when the client goes away or the server closes, and handed to the backend.
    const call = new AbortController();
    const abortCall = (): void => call.abort();
    closing.signal.addEventListener("abort", abortCall, { once: true });
    res.once("close", () => {
      closing.signal.removeEventListener("abort", abortCall);
      if (!res.writableFinished) abortCall();
    });
    try {
      const routed = routeOrThrow(service, method, url, segments);
      operation = routed.operation;
      service = serviceOfOperation[operation];
      counts.set(operation, countOf(operation) + 1);
      const actingBackend = accounts.backendFor(operation, req.headers, backend);
      const text = await readBodyOrThrow(service, req);

      const outcome = faults.take(operation);
      const faultFirst = outcome !== undefined && !outcome.afterExecution;
      if (faultFirst && (await answeredByFault(req, res, call.signal, service, operation, outcome))) return;
      const answer = await execute(
        routed,
        url,
        method === "POST" ? parseJsonBody(service, text) : {},
        call.signal,
        actingBackend,
      );
      if (
        outcome?.afterExecution === true &&
        (await answeredByFault(req, res, call.signal, service, operation, outcome))
      )
        return;
      if (!res.destroyed) answer(res);
    } catch (error) {
      if (res.destroyed || res.headersSent) return;
      if (isAwsApiError(error)) {
        writeErrorResponse(res, toWireErrorResponse(error));
        return;
      }
      if (isUpstreamOutcomeUnknownError(error)) {
        // The backend ran the request and lost the answer: on the wire, a connection that drops.
        logger.debug("fake AWS endpoint: dropping the connection (the backend lost the answer)", { operation });
        req.socket.destroy();
        return;
      }
      const requestId = randomUUID();
      logger.error("fake AWS endpoint: unexpected failure", { operation, requestId, error });
      writeErrorResponse(res, {
        service,
        code: SERVICE_ERROR_CODES[service].internal,
        message: "The fake AWS endpoint encountered an internal error.",
        httpStatus: 500,
        requestId,
      });
    }
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake-aws.invalid");
    const segments = url.pathname.split("/").slice(1);
    const work =
      segments[0] === CONTROL_PREFIX && segments.length === 2
        ? handleControl(req, res, segments[1] ?? "")
        : accounts.isSts(req, url)
          ? readBody(req).then((body) => accounts.answerSts(req, res, body))
          : handleAws(req, res, url, segments);
    work.catch((error: unknown) => {
      logger.error("fake AWS endpoint: request failed", { path: url.pathname, error });
      if (!res.headersSent && !res.destroyed) writeControlJson(res, 500, { message: "internal error" });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closed: Promise<void> | undefined;
  return {
    url: formatUrl(host, port),
    port,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      });
      return closed;
    },
    callCount(operation) {
      if (operation === undefined) return [...counts.values()].reduce((sum, n) => sum + n, 0);
      return counts.get(operation as FakeAwsOperation) ?? accounts.counts()[operation] ?? 0;
    },
    resetCallCounts() {
      counts.clear();
      accounts.reset();
    },
    calls: () => accounts.calls(),
    injectFault,
    clearFaults() {
      faults.clear();
      accounts.clearStsFaults();
    },
    injectStsFault: (fault) => accounts.injectStsFault(parseStsFault(fault)),
  };
}

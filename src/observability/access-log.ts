// One `info` line per call ("call"), and one per request that never reached
// an RPC ("request rejected"). The fields only the gateway's own code knows
// (who called, what idempotency did, AWS's request ID, the peer) come from a
// `describe` hook, read once when the call ends.
import type { Interceptor } from "@connectrpc/connect";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import { codeName, codeOf, createMethodCache, protocolOf, rpcName, type StatusCode } from "./call-labels.js";
import { observeCall } from "./observe-call.js";
import { parseTraceparent, traceIdOf } from "./trace-context.js";

type Request = Parameters<Parameters<Interceptor>[0]>[0];

export interface CallDescription {
  /** The authenticated caller (or x-caller-id with authentication off). */
  readonly caller?: string | undefined;
  /** What the idempotency guard did: e.g. "replayed", "claimed", "none". */
  readonly idempotency?: string | undefined;
  readonly awsRequestId?: string | undefined;
  /** The client's address, e.g. "10.0.0.7:52144". */
  readonly peer?: string | undefined;
  /** With AWS_ACCOUNTS_FILE: the account the call acted in, the role assumed there and the session's name. */
  readonly account?: string | undefined;
  readonly role?: string | undefined;
  readonly session?: string | undefined;
}

/**
 * Called once per call, when it has ended (`error` undefined on success).
 * The request's contextValues are those the handler saw, so values the
 * gateway's code put there during the call can be read back here.
 */
export type DescribeCall = (request: Request, error: unknown) => CallDescription;

export interface AccessLogOptions {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly describe?: DescribeCall | undefined;
}

const nothing: CallDescription = {};
const describeNothing: DescribeCall = () => nothing;

interface LoggedCall {
  readonly req: Request;
  readonly started: number;
}

export function createAccessLogInterceptor(options: AccessLogOptions): Interceptor {
  const { logger, clock } = options;
  // Below info (LOG_LEVEL=warn and up) no line is written: nothing to observe.
  if (logger.isLevelEnabled?.("info") === false) return (next) => next;
  const describe: DescribeCall = options.describe ?? describeNothing;
  const rpcOf = createMethodCache(rpcName);
  const endLoggedCall = (call: LoggedCall, error: unknown): void => {
    const { req } = call;
    const described = describe(req, error);
    logger.info("call", {
      rpc: rpcOf(req.method),
      protocol: protocolOf(req.header),
      code: codeName(codeOf(error)),
      durationMs: clock.now() - call.started,
      caller: described.caller,
      idempotency: described.idempotency,
      awsRequestId: described.awsRequestId,
      peer: described.peer,
      account: described.account,
      role: described.role,
      session: described.session,
      traceId: traceIdOf(req.contextValues),
    });
  };
  return (next) => (req) => observeCall(next, req, endLoggedCall, { req, started: clock.now() });
}

export interface RejectedRequest {
  /** The request path; its query string is dropped and it is cut to 256 characters. */
  readonly path: string;
  /** "connect", "grpc", "grpc_web" (protocolOf), or what the gateway could tell. */
  readonly protocol: string;
  /** Why, e.g. one of REJECT_REASONS: "decode_error", "unknown_path", "overloaded". */
  readonly reason: string;
  /** The status the caller was answered with. */
  readonly code: StatusCode;
  readonly peer?: string | undefined;
  /** The request's traceparent header, for its trace ID. */
  readonly traceparent?: string | null | undefined;
}

const maxLoggedPath = 256;

export function logRejectedRequest(logger: Logger, request: RejectedRequest): void {
  const query = request.path.indexOf("?");
  const path = query === -1 ? request.path : request.path.slice(0, query);
  logger.info("request rejected", {
    path: path.length > maxLoggedPath ? path.slice(0, maxLoggedPath) : path,
    protocol: request.protocol,
    reason: request.reason,
    code: codeName(request.code),
    peer: request.peer,
    traceId: parseTraceparent(request.traceparent)?.traceId,
  });
}

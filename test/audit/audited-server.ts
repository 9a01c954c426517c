// A tiny PermissionService behind the audit trail's two steps and the
// authorization interceptor, in the order the gateway uses them, with a real
// file sink: what the audit tests call and read back.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { createClient, type Client, type ServiceImpl, type UnaryRequest } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { auditSubjectFor, type AuditEvent } from "../../src/audit/event.js";
import type { AuditFailureMode } from "../../src/audit/config.js";
import { createAuditTrail, type AuditDescription, type AuditTrail } from "../../src/audit/interceptor.js";
import type { AuditObserver } from "../../src/audit/retry-buffer.js";
import { createAuditSink, type AuditSink } from "../../src/audit/sink.js";
import { createCedarAuthorizer } from "../../src/authz/cedar/cedar-authorizer.js";
import { createAuthorizationInterceptor } from "../../src/authz/interceptor.js";
import { authorizationRequestFor } from "../../src/authz/request.js";
import type { ResourceDefaults } from "../../src/authz/resource.js";
import { systemClock } from "../../src/clock.js";
import { silentLogger } from "../../src/logger.js";
import { createCallAnalysis } from "../../src/rpc/call-analysis.js";
import { callContextOf, createCallContextInterceptor } from "../../src/rpc/call-context.js";
import { DEFAULTS, startTinyServer, TEST_CLIENT_TOKEN, testCallerOf, trivialService } from "../authz/fixtures.js";

export interface AuditedServerOptions {
  /** AUTHZ_POLICIES: a .cedar file or directory. */
  readonly policies: string;
  readonly defaults?: ResourceDefaults;
  /** Handlers replacing the trivial service's. */
  readonly impl?: Partial<ServiceImpl<typeof PermissionService>>;
  readonly reads?: boolean;
  /** The client tokens the gateway makes up. Default: TEST_CLIENT_TOKEN. */
  readonly newClientToken?: () => string;
  /** Wraps the real file sink (to make its writes fail). */
  readonly wrapSink?: (sink: AuditSink) => Pick<AuditSink, "write">;
  readonly failureMode?: AuditFailureMode;
  readonly retryBufferEvents?: number;
  readonly observer?: AuditObserver;
}

export interface AuditedServer {
  readonly client: Client<typeof PermissionService>;
  /** The sink's file. */
  readonly file: string;
  readonly trail: AuditTrail;
  /** Every event written so far. */
  readonly events: () => Promise<AuditEvent[]>;
  /** The outcome events written so far. */
  readonly outcomes: () => Promise<AuditEvent[]>;
}

export async function startAuditedServer(t: TestContext, options: AuditedServerOptions): Promise<AuditedServer> {
  const defaults = options.defaults ?? DEFAULTS;
  const logDir = await mkdtemp(join(tmpdir(), "pg-audit-"));
  t.after(() => rm(logDir, { recursive: true, force: true }));
  const file = join(logDir, "audit.jsonl");
  const sink = await createAuditSink({ target: { file }, logger: silentLogger });
  t.after(() => sink.close());
  const authorizer = await createCedarAuthorizer({ policies: options.policies, logger: silentLogger });

  // The call context as the gateway builds it; the caller from the test's headers instead of authentication.
  const contextOf = (req: UnaryRequest) => {
    const context = callContextOf(req.contextValues);
    if (context === undefined) throw new Error("no call context");
    return context;
  };
  const describe = (req: UnaryRequest): AuditDescription => {
    const caller = { ...testCallerOf(req), authMode: req.header.get("x-test-auth-mode") ?? "none" };
    const { call } = contextOf(req);
    // Without a subject when the request does not validate: its event says so by its outcome.
    return { caller, subject: call === undefined ? undefined : auditSubjectFor(call, defaults) };
  };
  const resolve = (req: UnaryRequest) => {
    const context = contextOf(req);
    if (context.call === undefined) throw context.invalid;
    return authorizationRequestFor(context.call, testCallerOf(req), defaults);
  };
  const trail = createAuditTrail({
    sink: options.wrapSink?.(sink) ?? sink,
    describe,
    details: createCallAnalysis(defaults).auditDetails,
    reads: options.reads,
    failureMode: options.failureMode,
    retryBufferEvents: options.retryBufferEvents,
    retryDelayMs: 60_000, // retried by the tests themselves (trail.retryNow), never by the clock
    observer: options.observer,
    clock: systemClock,
    logger: silentLogger,
  });
  t.after(() => trail.close());
  const server = await startTinyServer(t, { ...trivialService().impl, ...options.impl }, [
    createCallContextInterceptor({ newClientToken: options.newClientToken ?? (() => TEST_CLIENT_TOKEN) }),
    trail.outcomes,
    createAuthorizationInterceptor({ authorizer, resolve, logger: silentLogger }),
    trail.attempts,
  ]);
  const events = async (): Promise<AuditEvent[]> => {
    const text = await readFile(file, "utf8");
    return text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as AuditEvent);
  };
  return {
    client: createClient(PermissionService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" })),
    file,
    trail,
    events,
    outcomes: async () => (await events()).filter((event) => event.event === "outcome"),
  };
}

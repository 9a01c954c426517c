// The composition root: a Config in, a serving gateway out. It builds every
// dependency the configuration asks for (backend, idempotency store,
// authentication, limits, TLS material) in the order they depend on each
// other, wires them into the server, and closes them in reverse. main.ts
// keeps only what belongs to the process: the environment, signals and the
// exit code.
import { ConnectError, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { Health } from "../gen/health/v1/health_pb.js";
import { PermissionService } from "../gen/permission/v1/permission_pb.js";
import { peerContextKey } from "./auth/peer.js";
import { createHealthEndpoint } from "./health/health-endpoint.js";
import { createHealthService } from "./health/health-service.js";
import { createHealthState, LIVENESS_SERVICE, type HealthState } from "./health/health-state.js";
import { createAccessLogInterceptor, logRejectedRequest, type CallDescription } from "./observability/access-log.js";
import { startOpsServer, type HttpEndpoint } from "./observability/http-endpoint.js";
import { instrumentBackend } from "./observability/instrument-backend.js";
import { createMetricsEndpoint } from "./observability/metrics-endpoint.js";
import { createMetricsInterceptor } from "./observability/metrics-interceptor.js";
import { createMetrics, type GatewayMetrics, type RejectReason } from "./observability/metrics.js";
import { createTracing, type Tracing } from "./observability/tracing.js";
import { GATEWAY_DESCRIPTOR_FILES } from "./reflection/gateway-files.js";
import { registerReflectionServices } from "./reflection/reflection-service.js";
import { awsRequestIdOf, callContextOf, type CallContext } from "./rpc/call-context.js";
import type { ProtocolRejection } from "./http/rpc-protocol.js";
import type { RejectedRequest } from "./http/rpc-handler.js";
import { AuditSinkError, createAuditSink, type AuditSink } from "./audit/sink.js";
import { createAuditTrail } from "./audit/interceptor.js";
import { AuthzPolicyError, type Authorizer } from "./authz/authorizer.js";
import { createAuthorizer } from "./authz/create-authorizer.js";
import { createAuthorizationInterceptor } from "./authz/interceptor.js";
import type { ResourceDefaults } from "./authz/resource.js";
import { partitionOfRegion } from "./aws/partitions.js";
import { createCallAnalysis } from "./rpc/call-analysis.js";
import { createAuthenticator } from "./auth/create-authenticator.js";
import type { Authenticator } from "./auth/authenticator.js";
import { ANONYMOUS_CALLER, callerContextKey } from "./auth/identity.js";
import { createTlsMaterialSource, type TlsMaterialSource } from "./auth/tls-material.js";
import { CredentialFileError } from "./auth/watched-files.js";
import { callTargetFrom, createAccountInterceptor } from "./accounts/interceptor.js";
import { createAccountRegistrySource, type AccountRegistrySource } from "./accounts/registry-source.js";
import type { PermissionBackend } from "./backend/backend.js";
import { FAKE_DEFAULT_ACCOUNT } from "./backend/fake/defaults.js";
import { createReconcilingBackend } from "./backend/reconcile.js";
import { createFencingBackend } from "./backend/fencing.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import { createIdempotency, type Idempotency } from "./idempotency/create-idempotency.js";
import type { Logger } from "./logger.js";
import { startServer, type RunningServer, type ShutdownReport } from "./server.js";
import { errorMessage } from "./util/error-message.js";

export interface GatewayDeps {
  readonly logger: Logger;
  readonly clock: Clock;
}

export interface Gateway {
  readonly server: RunningServer;
  readonly url: string;
  /** Where /metrics, /healthz and /readyz are served when METRICS_PORT is set; else undefined (they are on `url`). */
  readonly opsUrl: string | undefined;
  readonly health: HealthState;
  /** SIGHUP: re-read credentials, TLS material and authorization policies now. */
  reload(): Promise<void>;
  /** Drains the server, then closes what it used; see RunningServer.close. */
  close(): Promise<ShutdownReport>;
}

/** A start-up that cannot go on; main.ts prints the message and exits 2. */
export class StartupError extends Error {
  override readonly name = "StartupError" as const;
}

/** Things to close on the way out, last opened first. */
class Resources {
  private readonly closers: (() => unknown)[] = [];
  add(close: () => unknown): void {
    this.closers.push(close);
  }
  async closeAll(): Promise<void> {
    for (const close of this.closers.reverse()) {
      try {
        await close();
      } catch {
        // Closing is best effort: one failure must not keep the others open.
      }
    }
    this.closers.length = 0;
  }
}

export async function startGateway(config: Config, deps: GatewayDeps): Promise<Gateway> {
  const { logger, clock } = deps;
  const resources = new Resources();
  try {
    const metrics = createMetrics();
    const tracing = await createTracing({ ...config.observability.tracing, logger });
    resources.add(() => tracing.shutdown());
    const defaults = resourceDefaultsOf(config);
    const backend = await createBackend(config, defaults, { logger, clock, metrics, tracing });
    resources.add(() => backend.close());
    const accounts = config.accounts.file === undefined ? undefined : await startAccounts(config, defaults, logger);
    if (accounts !== undefined) resources.add(() => accounts.close());

    const authenticator: Authenticator = await startupStep("authentication", () =>
      createAuthenticator(config.auth, { logger, clock }),
    );
    resources.add(() => authenticator.close());

    const tlsMaterial = config.tls === undefined ? undefined : await startTlsMaterial(config, logger);
    if (tlsMaterial !== undefined) resources.add(() => tlsMaterial.close());

    const idempotency: Idempotency = await createIdempotency(config.idempotency, {
      clock,
      logger,
      // The authenticated caller scopes tokens; with AUTH_MODE=none that is
      // the x-caller-id the caller named itself by.
      identify: (context) => context.values.get(callerContextKey)?.id ?? ANONYMOUS_CALLER,
      observer: metrics.idempotency,
    });
    resources.add(() => idempotency.close());

    // Readiness: the store answers and the backend is usable. Polled from
    // start-up on; shutdown turns it NOT_SERVING before anything else.
    const health = createHealthState({
      checks: {
        store: (signal) => idempotency.checkReady(signal),
        backend: (signal) => backend.checkReady?.(signal) ?? Promise.resolve({ ready: true }),
        // Always ready (the lines that parse apply); its detail names lines left out.
        credentials: () => Promise.resolve({ ready: true, detail: authenticator.credentialWarning?.() }),
        // Always ready (the registry in use applies); its detail names the own account and a broken file.
        accounts: () => Promise.resolve({ ready: true, detail: accountsDetail(accounts) }),
      },
      // "liveness" needs no check: SERVING while the process serves, so a
      // liveness probe never restarts replicas for an outage of Redis or AWS.
      services: { [PermissionService.typeName]: ["store", "backend"], [LIVENESS_SERVICE]: [] },
      intervalMs: config.health.intervalMs,
      timeoutMs: config.health.timeoutMs,
      logger,
    });
    resources.add(() => health.close());
    const healthEndpoint = createHealthEndpoint(health, logger);
    const metricsEndpoint = createMetricsEndpoint(metrics, logger);
    const opsServer =
      config.observability.metricsPort === undefined
        ? undefined
        : await startupStep(`listen on HOST=${config.host} METRICS_PORT=${config.observability.metricsPort}`, () =>
            startOpsServer({
              host: config.host,
              port: config.observability.metricsPort ?? 0,
              endpoints: [metricsEndpoint, healthEndpoint],
            }),
          );
    if (opsServer !== undefined) resources.add(() => opsServer.close());
    const httpRoutes: HttpEndpoint[] = opsServer === undefined ? [healthEndpoint, metricsEndpoint] : [healthEndpoint];

    const authorizer = config.authz.mode === "cedar" ? await startAuthorizer(config, logger) : undefined;
    if (authorizer !== undefined) resources.add(() => authorizer.close());
    const auditSink =
      config.audit.sink === "off"
        ? undefined
        : await startAuditSink(config.audit.sink, config.audit.writeTimeoutMs, logger);
    if (auditSink !== undefined) resources.add(() => auditSink.close());

    // After authentication (the server's own first step), in this order: the
    // caller's rate limit; the audit trail's outcomes, outside authorization
    // so it records refusals too; authorization, default deny; the audit
    // trail's attempt, last, so only an allowed call's attempt is written,
    // and before the service's idempotency claim and backend call.
    const analysis = createCallAnalysis(defaults);
    const auditTrail =
      auditSink === undefined || config.audit.sink === "off"
        ? undefined
        : createAuditTrail({
            sink: auditSink,
            describe: analysis.auditDescription,
            details: analysis.auditDetails,
            reads: config.audit.reads,
            failureMode: config.audit.failureMode,
            retryBufferEvents: config.audit.retryBufferEvents,
            observer: metrics.audit,
            clock,
            logger,
          });
    // Closed before the sink (last opened, first closed): its last retry still has a sink.
    if (auditTrail !== undefined) resources.add(() => auditTrail.close());
    const callInterceptors: Interceptor[] = [];
    if (config.auth.rateLimit !== undefined) {
      // Loaded only when a limit is set: rate-limiter-flexible takes about 20 ms to load.
      const { createCallerRateLimiter, createRateLimitInterceptor } = await import("./limits/rate-limit.js");
      const limiter = createCallerRateLimiter(config.auth.rateLimit, { redis: idempotency.redis, logger, clock });
      callInterceptors.push(createRateLimitInterceptor(limiter, logger));
    }
    if (auditTrail !== undefined) callInterceptors.push(auditTrail.outcomes);
    if (accounts !== undefined) {
      callInterceptors.push(
        createAccountInterceptor({
          registry: () => accounts.current(),
          defaultRegion: defaults.region,
          sessionPerCaller: config.accounts.sessionPerCaller,
          sessionName: config.accounts.sessionName,
          logger,
        }),
      );
    }
    if (authorizer !== undefined) {
      callInterceptors.push(
        createAuthorizationInterceptor({ authorizer, resolve: analysis.authorizationRequest, logger }),
      );
    }
    if (auditTrail !== undefined) callInterceptors.push(auditTrail.attempts);

    const server = await startupStep(`listen on HOST=${config.host} PORT=${config.port}`, () =>
      startServer(
        {
          backend,
          idempotency: idempotency.guard,
          logger,
          clock,
          authenticator,
          callInterceptors,
          // Outermost first: tracing, so everything after runs in the call's trace.
          observers: [
            tracing.interceptor,
            createAccessLogInterceptor({ logger, clock, describe: describeCall }),
            createMetricsInterceptor(metrics),
          ],
          services: (router) =>
            registerOpsServices(router, health, config.reflection.enabled, config.health.maxWatchStreams),
          probeServices: [Health.typeName],
          httpRoutes: (req, res) => httpRoutes.some((route) => route(req, res)),
          onRejected: (request) => reportRejected(request, logger, metrics),
          onShed: () => metrics.countRejectedRequest("overloaded"),
        },
        {
          host: config.host,
          port: config.port,
          tls:
            tlsMaterial === undefined
              ? undefined
              : {
                  context: tlsMaterial.current(),
                  requestClientCertificate: config.auth.authentication.mode === "mtls",
                  watch: (listener) => tlsMaterial.onChange(listener),
                },
          corsAllowedOrigins: config.corsAllowedOrigins,
          maxRequestBytes: config.maxRequestBytes,
          shutdownGraceMs: config.shutdownGraceMs,
          limits: config.limits,
        },
      ),
    );

    void health.start();
    return {
      server,
      url: server.url,
      opsUrl: opsServer?.url,
      health,
      async reload() {
        logger.info("reloading credentials, TLS material, authorization policies and the account registry");
        await Promise.all([authenticator.reload(), tlsMaterial?.reload(), authorizer?.reload(), accounts?.reload()]);
      },
      async close() {
        // Readiness first, so load balancers stop sending; then the server:
        // close() returns once every call has finished or been cut and has
        // returned, so the claims of cut calls are released before the
        // idempotency store closes.
        health.setShuttingDown();
        const report = await server.close();
        await resources.closeAll();
        return report;
      },
    };
  } catch (error) {
    await resources.closeAll();
    throw error;
  }
}

/** Health (always: probes need it) and, when enabled, server reflection. */
function registerOpsServices(
  router: ConnectRouter,
  health: HealthState,
  reflection: boolean,
  maxWatchStreams: number,
): void {
  router.service(Health, createHealthService(health, { maxWatchStreams }));
  if (reflection) registerReflectionServices(router, GATEWAY_DESCRIPTOR_FILES);
}

/** The access line's fields that only the gateway's own code knows. */
function describeCall(req: Parameters<Parameters<Interceptor>[0]>[0], error: unknown): CallDescription {
  const context = callContextOf(req.contextValues);
  const caller = req.contextValues.get(callerContextKey);
  const peer = req.contextValues.get(peerContextKey);
  const fromError =
    error instanceof ConnectError ? error.findDetails(ErrorInfoSchema)[0]?.metadata["awsRequestId"] : undefined;
  const target = callTargetFrom(req.contextValues);
  return {
    caller: caller?.id,
    idempotency: idempotencyOf(context),
    awsRequestId: awsRequestIdOf(context) ?? fromError,
    peer: peer?.remoteAddress,
    account: target?.account,
    role: target?.role?.roleArn,
    session: target?.sessionName,
  };
}

/**
 * The access line's `idempotency`: "none" without a token; else the guard's
 * decision ("claimed", "reclaimed", "replayed", "waited", "mismatch",
 * "in_flight", "store_error"), with "reconciled" for an executed call whose
 * outcome was settled by reading the actual state, and "undecided" when the
 * guard failed before deciding.
 */
function idempotencyOf(context: CallContext | undefined): string {
  if (context?.call?.token === undefined) return "none";
  const outcome = context.progress.idempotencyOutcome;
  // Every path through the guard decides; "undecided" would mean it threw before it could (a bug).
  if (outcome === undefined) return "undecided";
  if ((outcome === "claimed" || outcome === "reclaimed") && context.progress.output?.reconciled === true)
    return "reconciled";
  return outcome;
}

const rejectReasons: Readonly<Record<ProtocolRejection, RejectReason>> = {
  undecodable_message: "decode_error",
  compressed_without_encoding: "decode_error",
  unsupported_compression: "decode_error",
  malformed_request: "decode_error",
  message_too_large: "too_large",
  unknown_method: "unknown_path",
  unknown_path: "unknown_path",
  other: "decode_error",
};

function reportRejected(request: RejectedRequest, logger: Logger, metrics: GatewayMetrics): void {
  const reason = rejectReasons[request.rejection];
  metrics.countRejectedRequest(reason);
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return typeof value === "string" ? value : undefined;
  };
  logRejectedRequest(logger, {
    path: request.path,
    protocol: request.protocol === "grpc-web" ? "grpc_web" : (request.protocol ?? "none"),
    reason,
    code: request.code,
    peer: request.remoteAddress,
    traceparent: header("traceparent"),
  });
}

async function startupStep<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof CredentialFileError) throw new StartupError(error.message, { cause: error });
    throw new StartupError(`cannot ${what}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

/**
 * The account registry around the gateway's own account: with AWS, the
 * account of the base credentials (STS GetCallerIdentity); with the fake,
 * the account it acts in.
 */
async function startAccounts(
  config: Config,
  defaults: ResourceDefaults,
  logger: Logger,
): Promise<AccountRegistrySource> {
  const path = config.accounts.file;
  if (path === undefined) throw new Error("startAccounts without AWS_ACCOUNTS_FILE");
  const ownAccount = await startupStep("find the gateway's own account (STS GetCallerIdentity)", async () => {
    if (config.backend !== "aws") return defaults.account ?? FAKE_DEFAULT_ACCOUNT;
    const { ownAccountOf } = await import("./backend/aws/role-sessions.js");
    return ownAccountOf({ region: defaults.region, connectTimeoutMs: config.aws.connectTimeoutMs });
  });
  return startupStep("read AWS_ACCOUNTS_FILE", () =>
    createAccountRegistrySource({ path, ownAccount, logger, pollIntervalMs: config.auth.reloadIntervalMs }),
  );
}

function accountsDetail(accounts: AccountRegistrySource | undefined): string | undefined {
  if (accounts === undefined) return undefined;
  const problem = accounts.problem();
  const own = `own account ${accounts.current().ownAccount}`;
  return problem === undefined ? own : `${own}; ${problem}`;
}

async function startAuthorizer(config: Config, logger: Logger): Promise<Authorizer> {
  if (config.authz.mode !== "cedar") throw new Error("startAuthorizer without AUTHZ_MODE=cedar");
  const authz = config.authz;
  try {
    return await createAuthorizer(authz, { logger, pollIntervalMs: config.auth.reloadIntervalMs });
  } catch (error) {
    if (error instanceof AuthzPolicyError) throw new StartupError(error.message, { cause: error });
    throw error;
  }
}

async function startAuditSink(
  target: "stdout" | { readonly file: string },
  writeTimeoutMs: number,
  logger: Logger,
): Promise<AuditSink> {
  try {
    return await createAuditSink({ target, writeTimeoutMs, logger });
  } catch (error) {
    if (error instanceof AuditSinkError) throw new StartupError(error.message, { cause: error });
    throw error;
  }
}

/**
 * Where a call that names no Region or account goes: the backend and
 * authorization (and the audit trail) must agree on it. AWS_REGION for
 * both; the account is AUTHZ_DEFAULT_ACCOUNT, else, with the fake, the
 * fake's own account, else unknown (policies test it with `has`).
 */
function resourceDefaultsOf(config: Config): ResourceDefaults {
  const region = config.aws.defaultRegion;
  const account = config.authz.defaultAccount ?? (config.backend === "fake" ? FAKE_DEFAULT_ACCOUNT : undefined);
  return { region, partition: partitionOfRegion(region) ?? "aws", account };
}

function startTlsMaterial(config: Config, logger: Logger): Promise<TlsMaterialSource> {
  const tls = config.tls;
  if (tls === undefined) throw new Error("startTlsMaterial without TLS configured");
  const auth = config.auth.authentication;
  return startupStep("read the TLS material", () =>
    createTlsMaterialSource(
      {
        certFile: tls.certFile,
        keyFile: tls.keyFile,
        clientCaFile: auth.mode === "mtls" ? auth.clientCaFile : undefined,
        crlFile: auth.mode === "mtls" ? auth.crlFile : undefined,
        reloadIntervalMs: config.auth.reloadIntervalMs,
      },
      logger,
    ),
  );
}

/**
 * The configured adapter, wrapped so that unknown outcomes of Lambda
 * mutations are reconciled. The AWS SDK is loaded only when BACKEND=aws, so
 * start-up on the fake stays fast.
 */
interface BackendDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: GatewayMetrics;
  readonly tracing: Tracing;
}

/**
 * The configured adapter, measured (every AWS call counted, timed and in a
 * span), and wrapped so that unknown outcomes of Lambda mutations are
 * reconciled (the reconciling reads are measured too); with
 * LAMBDA_REVISION_FENCING, outermost, their writes fenced by RevisionId.
 */
function createBackend(config: Config, defaults: ResourceDefaults, deps: BackendDeps): Promise<PermissionBackend> {
  const { logger, clock, metrics, tracing } = deps;
  return startupStep(`start the ${config.backend} backend`, async () => {
    const adapter = await createAdapter(config, defaults, logger, clock, tracing);
    const reconciled = createReconcilingBackend(instrumentBackend(adapter, { metrics, tracing }), { logger, clock });
    return config.lambdaRevisionFencing ? createFencingBackend(reconciled, { logger }) : reconciled;
  });
}

async function createAdapter(
  config: Config,
  defaults: ResourceDefaults,
  logger: Logger,
  clock: Clock,
  tracing: Tracing,
): Promise<PermissionBackend> {
  if (config.backend === "aws") {
    const { createAwsBackend } = await import("./backend/aws/aws-backend.js");
    return createAwsBackend({
      ...config.aws,
      roleSessions: config.accounts,
      logger,
      clock,
      traceHeaders: () => tracing.outgoingTraceHeaders(),
    });
  }
  const { createFakeBackend, loadFakeSeedFile } = await import("./backend/fake/fake-backend.js");
  const seed = config.fake.seedPath === undefined ? undefined : await loadFakeSeedFile(config.fake.seedPath);
  const fake = createFakeBackend({
    ...(seed === undefined ? {} : { seed }),
    clock,
    defaultRegion: defaults.region,
    defaultPartition: defaults.partition,
    defaultAccount: defaults.account,
    faults: {
      latencyMs: config.fake.latencyMs,
      errorRate: config.fake.errorRate,
      lostAnswerRate: config.fake.lostAnswerRate,
      serverErrorAfterEffectRate: config.fake.serverErrorAfterEffectRate,
      ...(config.fake.errorCode === undefined ? {} : { errorCode: config.fake.errorCode }),
    },
  });
  if (config.accounts.file === undefined) return fake;
  // With a registry, calls in other accounts assume their roles, as against AWS.
  const { createFakeRoleSessions } = await import("./backend/fake/role-acting.js");
  return createFakeRoleSessions(fake, seed, {
    clock,
    defaultAccount: defaults.account,
    defaultRegion: defaults.region,
    defaultPartition: defaults.partition,
    sessionDurationSeconds: config.accounts.sessionDurationSeconds,
  });
}

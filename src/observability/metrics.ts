// Prometheus metrics on a registry of our own (never prom-client's global
// one, so two gateways in one process, as tests run them, do not mix). Every
// label value comes from a fixed set or passes through a bound: no function
// name, ARN, token or caller ID ever becomes a label.
import type { DescMethod } from "@bufbuild/protobuf";
import type { AuditObserver } from "../audit/retry-buffer.js";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { CODE_COUNT, PROTOCOLS, codeName, createMethodCache, rpcName, type StatusCode } from "./call-labels.js";
import { OTHER_LABEL, createChildCache, createLabelBound } from "./label-bound.js";

export const IDEMPOTENCY_OUTCOMES = [
  "claimed",
  "reclaimed",
  "replayed",
  "mismatch",
  "waited",
  "in_flight",
  "store_error",
] as const;
export type IdempotencyOutcome = (typeof IDEMPOTENCY_OUTCOMES)[number];

/** The shape the idempotency guard reports to. */
export interface IdempotencyObserver {
  onOutcome(kind: IdempotencyOutcome): void;
  /** One store command (a Redis script or the memory store's equivalent). */
  onStoreCommand(operation: string, ms: number, failed: boolean): void;
}

/** Why a request was answered before any RPC ran. */
export const REJECT_REASONS = ["decode_error", "too_large", "unknown_path", "overloaded"] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type BackendService = "lambda" | "ram";

/** The metric children of one backend operation. */
export interface BackendSeries {
  /** `errorName`: the AWS error name (or the failure's class name); undefined on success. */
  observe(ms: number, errorName: string | undefined): void;
}

/** The metric children of one RPC, made on its first call. */
export interface RpcSeries {
  readonly duration: Histogram.Internal<string>;
  readonly inFlight: Gauge.Internal<string>;
  /** Calls by protocol and code; index PROTOCOLS.indexOf(protocol) * CODE_COUNT + code. */
  calls(protocolIndex: number, code: StatusCode): Counter.Internal;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly idempotency: IdempotencyObserver;
  readonly audit: AuditObserver;
  /** The series of one backend operation, e.g. ("lambda", "RemovePermission"); ask once, observe every call. */
  backendSeries(service: BackendService, operation: string): BackendSeries;
  countRejectedRequest(reason: RejectReason): void;
  /** For the metrics interceptor. */
  rpcSeries(method: DescMethod): RpcSeries;
  /** The text exposition format. */
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsOptions {
  /** prom-client's process and Node.js collectors. Default true. */
  readonly processMetrics?: boolean | undefined;
}

const prefix = "permission_gateway_";
/** Seconds: from a cached answer (sub-millisecond) to a slow AWS call. */
const rpcBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const storeBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * prom-client's defaults that break Prometheus' naming rules: gauges with a
 * counter's `_total` suffix (`promtool check metrics` flags them). Each is the
 * sum of the per-type gauge of its name without `_total` (nodejs_active_handles
 * and so on, by `type`), which stays: `sum(nodejs_active_handles)` is the total.
 */
export const DROPPED_DEFAULT_METRICS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
] as const;

export function createMetrics(options: MetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  const rpc = createRpcMetrics(registry);
  const idempotency = createIdempotencyMetrics(registry);
  const backend = createBackendMetrics(registry);
  const audit = createAuditMetrics(registry);
  const rejected = new Counter({
    name: `${prefix}rejected_requests_total`,
    help: "Requests answered before any RPC ran (undecodable, too large, unknown path, shed for overload), by reason.",
    labelNames: ["reason"],
    registers: [registry],
  });
  for (const reason of REJECT_REASONS) rejected.inc({ reason }, 0);
  const reasons = new Set<string>(REJECT_REASONS);
  return {
    registry,
    idempotency,
    audit,
    backendSeries: backend,
    countRejectedRequest(reason) {
      rejected.inc({ reason: reasons.has(reason) ? reason : OTHER_LABEL });
    },
    rpcSeries: rpc,
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

function createRpcMetrics(registry: Registry): (method: DescMethod) => RpcSeries {
  const calls = new Counter({
    name: `${prefix}rpc_calls_total`,
    help: "RPCs handled, by RPC, protocol and gRPC status code.",
    labelNames: ["rpc", "protocol", "code"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${prefix}rpc_duration_seconds`,
    help: "Time from a call's start to its last response message, by RPC.",
    labelNames: ["rpc"],
    buckets: rpcBuckets,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: `${prefix}rpc_in_flight`,
    help: "RPCs running right now, by RPC.",
    labelNames: ["rpc"],
    registers: [registry],
  });
  return createMethodCache((method) => {
    const name = rpcName(method);
    const children = new Array<Counter.Internal | undefined>(PROTOCOLS.length * CODE_COUNT);
    return {
      duration: duration.labels(name),
      inFlight: inFlight.labels(name),
      calls(protocolIndex, code) {
        const index = protocolIndex * CODE_COUNT + code;
        return (children[index] ??= calls.labels(name, PROTOCOLS[protocolIndex] ?? "connect", codeName(code)));
      },
    };
  });
}

function createIdempotencyMetrics(registry: Registry): IdempotencyObserver {
  const outcomes = new Counter({
    name: `${prefix}idempotency_outcomes_total`,
    help: "Idempotency decisions for calls with a token, by outcome.",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const commandDuration = new Histogram({
    name: `${prefix}idempotency_store_command_duration_seconds`,
    help: "Idempotency store commands (Redis scripts), by operation.",
    labelNames: ["operation"],
    buckets: storeBuckets,
    registers: [registry],
  });
  const commandErrors = new Counter({
    name: `${prefix}idempotency_store_command_errors_total`,
    help: "Idempotency store commands that failed (timeout, connection, script error), by operation.",
    labelNames: ["operation"],
    registers: [registry],
  });
  const outcomeChildren = new Map(IDEMPOTENCY_OUTCOMES.map((kind) => [kind as string, outcomes.labels(kind)]));
  for (const child of outcomeChildren.values()) child.inc(0);
  const command = createChildCache(createLabelBound(), (operation) => ({
    duration: commandDuration.labels(operation),
    errors: commandErrors.labels(operation),
  }));
  return {
    onOutcome(kind) {
      (outcomeChildren.get(kind) ?? outcomes.labels(OTHER_LABEL)).inc();
    },
    onStoreCommand(operation, ms, failed) {
      const series = command(operation);
      series.duration.observe(ms / 1000);
      if (failed) series.errors.inc();
    },
  };
}

const AUDIT_EVENTS = ["attempt", "outcome"] as const;

function createAuditMetrics(registry: Registry): AuditObserver {
  const failures = new Counter({
    name: `${prefix}audit_write_failures_total`,
    help: "Audit events the sink could not write when their call produced them (then refused, or kept for a retry), by event.",
    labelNames: ["event"],
    registers: [registry],
  });
  const dropped = new Counter({
    name: `${prefix}audit_events_dropped_total`,
    help: "Audit events never written: dropped from the full retry buffer, or still waiting at shutdown, by event.",
    labelNames: ["event"],
    registers: [registry],
  });
  for (const event of AUDIT_EVENTS) {
    failures.inc({ event }, 0);
    dropped.inc({ event }, 0);
  }
  return {
    onWriteFailure: (event) => failures.inc({ event }),
    onDropped: (event) => dropped.inc({ event }),
  };
}

function createBackendMetrics(registry: Registry): GatewayMetrics["backendSeries"] {
  const calls = new Counter({
    name: `${prefix}backend_calls_total`,
    help: "Calls to the backend (AWS or the fake), by service and AWS operation.",
    labelNames: ["service", "operation"],
    registers: [registry],
  });
  const errors = new Counter({
    name: `${prefix}backend_errors_total`,
    help: "Backend calls that failed, by service, AWS operation and AWS error name.",
    labelNames: ["service", "operation", "error"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${prefix}backend_duration_seconds`,
    help: "Backend call latency, the SDK's retries included, by service and AWS operation.",
    labelNames: ["service", "operation"],
    buckets: rpcBuckets,
    registers: [registry],
  });
  const operations = createLabelBound();
  return (service, operation) => {
    const labels = { service, operation: operations(operation) };
    const callsChild = calls.labels(labels);
    const durationChild = duration.labels(labels);
    const error = createChildCache(createLabelBound(), (name) => errors.labels({ ...labels, error: name }));
    return {
      observe(ms, errorName) {
        callsChild.inc();
        durationChild.observe(ms / 1000);
        if (errorName !== undefined) error(errorName).inc();
      },
    };
  };
}

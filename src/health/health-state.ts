// Readiness: the gateway's probes (the idempotency store answers, the backend
// is usable) polled on an interval and on demand, and the serving status
// derived from them, overall ("") and per service. gRPC Health, /readyz and
// Watch streams all read this one state. Shutting down turns everything
// NOT_SERVING at once, before the server stops accepting, so load balancers
// move traffic away while in-flight calls drain.
import type { Logger } from "../logger.js";
import { HEALTH_DEFAULTS } from "./config.js";
import { errorMessage } from "../util/error-message.js";
import { withTimeout } from "../util/with-timeout.js";
import type { Readiness } from "./readiness.js";

/** Must honour `signal`; a probe that throws or outlives its timeout counts as not ready. */
export type ReadinessProbe = (signal: AbortSignal) => Promise<Readiness>;

export type ServingStatus = "SERVING" | "NOT_SERVING";

export interface CheckState {
  readonly name: string;
  readonly ready: boolean;
  readonly detail?: string | undefined;
}

export interface HealthSnapshot {
  readonly ready: boolean;
  readonly shuttingDown: boolean;
  /** The last result of every probe, in the order of `checks`. */
  readonly checks: readonly CheckState[];
}

export interface HealthStateOptions {
  /** Probes by name, e.g. { store: ..., backend: ... }. */
  readonly checks: Readonly<Record<string, ReadinessProbe>>;
  /** Services and the checks each depends on; the overall status "" depends on every check. */
  readonly services?: Readonly<Record<string, readonly string[]>> | undefined;
  /** Time between the end of one round of probes and the start of the next. Default 5000. */
  readonly intervalMs?: number | undefined;
  /** Longest a probe may take. Default 1000. */
  readonly timeoutMs?: number | undefined;
  /** Readiness changes are logged here. */
  readonly logger?: Logger | undefined;
}

export interface HealthState {
  /** Runs the first round of probes, then keeps polling until close() or setShuttingDown(). */
  start(): Promise<HealthSnapshot>;
  /** Runs a round of probes now (joins one already running). */
  refresh(): Promise<HealthSnapshot>;
  snapshot(): HealthSnapshot;
  /** undefined for a service this state does not know. */
  status(service: string): ServingStatus | undefined;
  /** "" and every configured service. */
  services(): readonly string[];
  /** Increases on every change of any status; see changed(). */
  version(): number;
  /** Resolves once version() exceeds `since`, or when `signal` aborts. */
  changed(since: number, signal: AbortSignal): Promise<void>;
  /** Everything NOT_SERVING from now on; polling stops. */
  setShuttingDown(): void;
  /** Stops polling. */
  close(): void;
}

export const OVERALL = "";
/** The health service name for liveness probes: no check, NOT_SERVING only while shutting down. */
export const LIVENESS_SERVICE = "liveness";
const maxDetailLength = 200;

export function createHealthState(options: HealthStateOptions): HealthState {
  const names = Object.keys(options.checks);
  const services = new Map<string, readonly string[]>([[OVERALL, names], ...Object.entries(options.services ?? {})]);
  for (const [service, needs] of services) {
    const unknown = needs.filter((name) => !(name in options.checks));
    if (unknown.length > 0) throw new Error(`health: service "${service}" needs unknown checks: ${unknown.join(", ")}`);
  }
  const intervalMs = options.intervalMs ?? HEALTH_DEFAULTS.intervalMs;
  const timeoutMs = options.timeoutMs ?? HEALTH_DEFAULTS.timeoutMs;
  let results = new Map<string, CheckState>(
    names.map((name) => [name, { name, ready: false, detail: "not checked yet" }]),
  );
  let shuttingDown = false;
  let closed = false;
  let round: Promise<HealthSnapshot> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const changes = createChangeSignal();

  const statusOf = (service: string): ServingStatus | undefined => {
    const needs = services.get(service);
    if (needs === undefined) return undefined;
    if (shuttingDown) return "NOT_SERVING";
    return needs.every((name) => results.get(name)?.ready === true) ? "SERVING" : "NOT_SERVING";
  };
  const snapshot = (): HealthSnapshot => ({
    ready: statusOf(OVERALL) === "SERVING",
    shuttingDown,
    checks: names.map((name) => results.get(name) ?? { name, ready: false }),
  });
  const runRound = async (): Promise<HealthSnapshot> => {
    const before = [...services.keys()].map(statusOf);
    const states = await Promise.all(names.map((name) => runProbe(name, options.checks[name], timeoutMs)));
    results = new Map(states.map((state) => [state.name, state]));
    const after = [...services.keys()].map(statusOf);
    if (after.some((status, i) => status !== before[i])) {
      changes.bump();
      logChange(options.logger, snapshot());
    }
    return snapshot();
  };
  const schedule = (): void => {
    if (closed || shuttingDown) return;
    timer = setTimeout(() => void refresh().finally(schedule), intervalMs);
    timer.unref();
  };
  const refresh = (): Promise<HealthSnapshot> => {
    if (shuttingDown) return Promise.resolve(snapshot());
    round ??= runRound().finally(() => (round = undefined));
    return round;
  };

  return {
    async start() {
      const first = await refresh();
      schedule();
      return first;
    },
    refresh,
    snapshot,
    status: statusOf,
    services: () => [...services.keys()],
    version: changes.version,
    changed: changes.changed,
    setShuttingDown() {
      if (shuttingDown) return;
      shuttingDown = true;
      clearTimeout(timer);
      changes.bump();
      options.logger?.info("health: shutting down, every service NOT_SERVING");
    },
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}

/** A version number and a way to wait for it to move: Watch streams wait here. */
function createChangeSignal(): Pick<HealthState, "version" | "changed"> & { bump(): void } {
  let version = 0;
  const waiters = new Set<() => void>();
  return {
    version: () => version,
    bump() {
      version++;
      for (const wake of waiters) wake();
      waiters.clear();
    },
    changed(since, signal) {
      if (version > since || signal.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener("abort", wake);
          waiters.delete(wake);
          resolve();
        };
        waiters.add(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    },
  };
}

async function runProbe(name: string, probe: ReadinessProbe | undefined, timeoutMs: number): Promise<CheckState> {
  if (probe === undefined) return { name, ready: false, detail: "no probe" };
  const controller = new AbortController();
  let timedOut = false;
  try {
    const result = await withTimeout(probe(controller.signal), timeoutMs, () => {
      timedOut = true;
      return { ready: false, detail: `no answer within ${timeoutMs} ms` };
    });
    return { name, ready: result.ready, detail: shorten(result.detail) };
  } catch (error) {
    return { name, ready: false, detail: shorten(errorMessage(error)) };
  } finally {
    // Aborted once the race is decided, so the timeout is the reason given, not the probe's reaction to it.
    if (timedOut) controller.abort();
  }
}

function shorten(detail: string | undefined): string | undefined {
  return detail === undefined || detail.length <= maxDetailLength
    ? detail
    : detail.slice(0, maxDetailLength - 3) + "...";
}

function logChange(logger: Logger | undefined, snapshot: HealthSnapshot): void {
  const failing = snapshot.checks.filter((check) => !check.ready).map(({ name, detail }) => ({ name, detail }));
  if (snapshot.ready) logger?.info("health: ready", {});
  else logger?.warn("health: not ready", { failing });
}

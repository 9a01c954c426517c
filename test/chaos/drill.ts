// The chaos drill: gateway replicas as real processes (BACKEND=aws, each
// with its own fake AWS endpoint, all over one fake model in this process),
// Redis as a primary, a replica and three Sentinels, and clients that retry
// each operation with its own idempotency token. Meanwhile AWS throttles
// (and the throttled replica is then paused with SIGSTOP past its lease),
// answers 500 or drops the connection after making the change, replicas are
// SIGKILLed and restarted, and the Redis primary is killed so the Sentinels
// fail over. At the end, verdict.ts judges what the fake AWS recorded
// against what the clients were told. All traffic stays on loopback.
//
// The fault decisions come from one seeded generator, in the order requests
// arrive; which request arrives when is up to the machine, so two runs with
// one seed inject the same mix, not the same interleaving.
import { setTimeout as sleep } from "node:timers/promises";
import { Code } from "@connectrpc/connect";
import type { PermissionBackend } from "../../src/backend/backend.js";
import { decorateBackend } from "../../src/backend/decorate.js";
import { UpstreamOutcomeUnknownError } from "../../src/backend/errors.js";
import { createAwsError } from "../../src/backend/fake/aws-errors.js";
import { createFakeBackend, type FakeSeed } from "../../src/backend/fake/fake-backend.js";
import { startFakeAwsServer, type FakeAwsServer } from "../../src/fake-aws/server.js";
import { createGatewayClient, type GatewayClient } from "../support/clients.js";
import { freePort } from "../support/redis-server.js";
import { SENTINEL_MASTER_NAME, startSentinelGroup, type SentinelGroup } from "../support/redis-sentinel-group.js";
import { listRamPermissions, postJson, spawnGateway, type GatewayProcess } from "../process/gateway-process.js";
import { judgeDrill, type Answer, type Effect, type Operation, type Verdict } from "./verdict.js";

export interface DrillOptions {
  readonly seed: number;
  /** How long new operations are started; the ones running then are finished. */
  readonly durationMs: number;
  readonly replicas: number;
  readonly lanes: number;
  /** Share of Lambda mutation requests answered each way, 0..1. */
  readonly rates: {
    readonly throttle: number;
    /** Throttled, and the replica is then paused past its lease. */
    readonly throttleThenPause: number;
    readonly serverErrorAfterExecution: number;
    readonly dropAfterExecution: number;
  };
  /** A replica is SIGKILLed (and restarted) this often. */
  readonly killEveryMs: number;
  /** The Redis primary is killed this often (the first one at half this). */
  readonly failoverEveryMs: number;
  /** LAMBDA_REVISION_FENCING of the replicas. */
  readonly fencing?: boolean | undefined;
  readonly log?: ((line: string) => void) | undefined;
}

export type FaultKind =
  | "throttle"
  | "throttle then pause past the lease"
  | "500 after execution"
  | "connection dropped after execution"
  | "replica SIGKILL and restart"
  | "Redis primary killed, Sentinel failover";

export interface DrillReport {
  readonly seed: number;
  readonly durationMs: number;
  readonly verdict: Verdict;
  readonly faults: Readonly<Record<FaultKind, number>>;
  /** Requests that reached the fake AWS endpoints, every attempt included, by operation. */
  readonly awsRequests: Readonly<Record<string, number>>;
  /**
   * Failovers the drill did not ask for: the Sentinels took a slow primary
   * for a dead one. Redis replication is asynchronous, so the writes the old
   * primary acknowledged last may be lost, idempotency records included.
   */
  readonly unplannedFailovers: number;
  /** Sends the replicas refused because the lease had run out (from their logs). */
  readonly sendsRefusedWithoutLease: number;
  readonly answers: Readonly<Record<string, number>>;
  /** The replicas' error log lines (the first few): each is a bug to look at. */
  readonly replicaErrors: readonly string[];
}

/** The gRPC codes after which a client retries with the same token. */
const RETRYABLE = new Set<Code>([Code.Unavailable, Code.Aborted, Code.DeadlineExceeded, Code.ResourceExhausted]);

/**
 * A failure of the client's own connection to a replica (killed mid-call: the
 * write hits EPIPE, the read ECONNRESET), which connect-node reports as
 * INTERNAL. It is no answer from a gateway: every gateway error carries an
 * ErrorInfo reason. A client retries it like UNAVAILABLE.
 */
function isTransportFailure(error: { readonly reason?: string | undefined; readonly message: string }): boolean {
  return error.reason === undefined && /\b(EPIPE|ECONNRESET|ECONNREFUSED)\b|socket hang up/i.test(error.message);
}
const LEASE_SECONDS = 2;
/** A pause past the lease: its heartbeat timers and the SDK's retry are all due when it wakes. */
const PAUSE_MS = 3_500;
const CALL_TIMEOUT_MS = 4_000;
/** An operation still without a definitive answer after this is given up (a lost success if it took effect). */
const GIVE_UP_MS = 45_000;
const SID = "chaos";

/** mulberry32: a small seeded generator, enough to pick faults. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const functionOf = (lane: number): string => `chaos-${lane}`;
const laneOf = (functionName: string): number => Number(/chaos-(\d+)$/.exec(functionName)?.[1] ?? -1);

function seedFor(lanes: number): FakeSeed {
  return {
    lambda: {
      functions: Array.from({ length: lanes }, (_, lane) => ({
        name: functionOf(lane),
        account: "123456789012",
        region: "us-east-1",
      })),
    },
  };
}

/** The tag (SourceArn) of a statement's JSON. */
function tagOf(statement: unknown): string | undefined {
  const condition = (statement as { Condition?: { ArnLike?: Record<string, unknown> } }).Condition;
  const tag = condition?.ArnLike?.["AWS:SourceArn"];
  return typeof tag === "string" ? tag : undefined;
}

interface Replica {
  readonly index: number;
  readonly port: number;
  process: GatewayProcess | undefined;
  /** Output of the processes it had before a restart. */
  pastOutput: string;
  state: "up" | "paused" | "down";
}

export async function runChaosDrill(options: DrillOptions): Promise<DrillReport> {
  const logLine = options.log ?? (() => {});
  // Stamped with the clock the verdict's operations use, to line findings up with faults.
  const log = (line: string): void => logLine(`${Math.round(performance.now())} ms: ${line}`);
  const random = seededRandom(options.seed);
  const runId = `${options.seed}-${Date.now().toString(36)}`;
  const faults: Record<FaultKind, number> = {
    throttle: 0,
    "throttle then pause past the lease": 0,
    "500 after execution": 0,
    "connection dropped after execution": 0,
    "replica SIGKILL and restart": 0,
    "Redis primary killed, Sentinel failover": 0,
  };
  const effects: Effect[] = [];
  const model = createFakeBackend({ seed: seedFor(options.lanes) });

  // Every change the model makes, with the statement it added or removed.
  const recorded: PermissionBackend = decorateBackend(model, undefined, {
    async addLambdaPermission(input, call) {
      const output = await model.addLambdaPermission(input, call);
      const lane = laneOf(input.function.name);
      effects.push({ kind: "add", lane, tag: input.sourceArn ?? "", at: performance.now() });
      return output;
    },
    async removeLambdaPermission(input, call) {
      const output = await model.removeLambdaPermission(input, call);
      const removed =
        output.removedStatement === undefined ? undefined : (JSON.parse(output.removedStatement) as unknown);
      effects.push({
        kind: "remove",
        lane: laneOf(input.function.name),
        tag: tagOf(removed) ?? "",
        at: performance.now(),
      });
      return output;
    },
  });

  let redis: SentinelGroup | undefined;
  const replicas: Replica[] = [];
  /** The fake AWS endpoint of each replica: its throttles are known to be its own. */
  const endpoints: FakeAwsServer[] = [];
  const clients: GatewayClient[] = [];
  try {
    redis = await startSentinelGroup();
    const sentinels = redis.sentinelsEnv;

    const pause = (replica: Replica): void => {
      // Shortly after the 429 reached it: the SDK's retry timer is set, the heartbeat's are too.
      setTimeout(
        () => {
          if (replica.state !== "up" || replica.process === undefined) return;
          replica.state = "paused";
          replica.process.signalGroup("SIGSTOP");
          setTimeout(() => {
            if (replica.state !== "paused") return;
            replica.process?.signalGroup("SIGCONT");
            replica.state = "up";
          }, PAUSE_MS);
        },
        Math.floor(random() * 40),
      );
    };
    const othersUp = (replica: Replica): boolean => replicas.some((other) => other !== replica && other.state === "up");

    /** The Lambda mutations of one replica's endpoint, with the drill's faults. */
    const faulted = (replica: Replica): PermissionBackend => {
      const mutate = async <T>(run: () => Promise<T>): Promise<T> => {
        const { throttle, throttleThenPause, serverErrorAfterExecution, dropAfterExecution } = options.rates;
        const draw = random();
        if (draw < throttleThenPause && replica.state === "up" && othersUp(replica)) {
          faults["throttle then pause past the lease"] += 1;
          pause(replica);
          throw createAwsError("lambda", "TooManyRequestsException", { retryAfterSeconds: 0 });
        }
        if (draw < throttleThenPause + throttle) {
          faults.throttle += 1;
          throw createAwsError("lambda", "TooManyRequestsException", { retryAfterSeconds: 0 });
        }
        const output = await run();
        if (draw < throttleThenPause + throttle + serverErrorAfterExecution) {
          faults["500 after execution"] += 1;
          throw createAwsError("lambda", "ServiceException");
        }
        if (draw < throttleThenPause + throttle + serverErrorAfterExecution + dropAfterExecution) {
          faults["connection dropped after execution"] += 1;
          // The endpoint answers this by dropping the connection.
          throw new UpstreamOutcomeUnknownError("lambda", "the drill drops the answer");
        }
        return output;
      };
      return decorateBackend(recorded, undefined, {
        addLambdaPermission: (input, call) => mutate(() => recorded.addLambdaPermission(input, call)),
        removeLambdaPermission: (input, call) => mutate(() => recorded.removeLambdaPermission(input, call)),
      });
    };

    const envOf = (replica: Replica): Record<string, string> => ({
      HOST: "127.0.0.1",
      PORT: String(replica.port),
      BACKEND: "aws",
      AWS_ENDPOINT_URL_LAMBDA: endpoints[replica.index]?.url ?? "",
      AWS_ENDPOINT_URL_RAM: endpoints[replica.index]?.url ?? "",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: "us-east-1",
      AWS_MAX_ATTEMPTS: "3",
      AWS_REQUEST_TIMEOUT_MS: "1000",
      IDEMPOTENCY_STORE: "redis",
      REDIS_SENTINELS: sentinels,
      REDIS_SENTINEL_NAME: SENTINEL_MASTER_NAME,
      IDEMPOTENCY_LEASE_SECONDS: String(LEASE_SECONDS),
      IDEMPOTENCY_MAX_WAIT_MS: "1500",
      LOG_LEVEL: "warn",
      LAMBDA_REVISION_FENCING: String(options.fencing ?? false),
    });
    const start = async (replica: Replica): Promise<void> => {
      const gateway = spawnGateway("tsx-import", envOf(replica));
      replica.process = gateway;
      // LOG_LEVEL=warn prints no listening line: the fixed port answering is the sign.
      const deadline = performance.now() + 60_000;
      let exit: unknown;
      void gateway.exited.then((e) => (exit = e));
      while ((await postJson(replica.port, listRamPermissions.path, listRamPermissions.body).catch(() => 0)) !== 200) {
        if (exit !== undefined || performance.now() > deadline)
          throw new Error(`replica ${replica.index} did not start: ${JSON.stringify(gateway.output())}`);
        await sleep(50);
      }
      replica.state = "up";
    };

    for (let index = 0; index < options.replicas; index++) {
      const replica: Replica = { index, port: await freePort(), process: undefined, pastOutput: "", state: "down" };
      replicas.push(replica);
      endpoints.push(await startFakeAwsServer({ backend: faulted(replica) }));
    }
    await Promise.all(replicas.map(start));
    log(`${replicas.length} replicas serving; Redis primary on ${await redis.masterPort()}`);
    for (const replica of replicas)
      clients.push(createGatewayClient("connect-json", `http://127.0.0.1:${replica.port}`));

    const started = performance.now();
    const running = (): boolean => performance.now() - started < options.durationMs;
    /** Sleeps `ms`, or until the drill's duration ends; true when it is still running then. */
    const waitWhileRunning = async (ms: number): Promise<boolean> => {
      const left = started + options.durationMs - performance.now();
      // A timer may fire a little early: waiting out the rest means the drill is over.
      await sleep(Math.max(0, Math.min(ms, left)));
      return ms < left && running();
    };

    // ---- the clients -------------------------------------------------------
    const operations: Operation[] = [];
    const answers: Record<string, number> = {};
    const readTag = async (lane: number): Promise<string | undefined> => {
      try {
        const policy = await model.getLambdaPolicy(
          { function: { functionName: functionOf(lane), name: functionOf(lane) } },
          { signal: new AbortController().signal },
        );
        const statements = (JSON.parse(policy.policy) as { Statement?: { Sid?: string }[] }).Statement ?? [];
        return tagOf(statements.find((s) => s.Sid === SID));
      } catch {
        return undefined; // no policy
      }
    };

    const runLane = async (lane: number): Promise<void> => {
      const laneRandom = seededRandom(options.seed * 1000 + lane);
      for (let k = 0; running(); k++) {
        const present = await readTag(lane);
        const kind = present === undefined ? "add" : "remove";
        const tag = present ?? `arn:aws:s3:::chaos-${lane}-${k}`;
        const token = `chaos-${runId}-${lane}-${k}`;
        const request =
          kind === "add"
            ? {
                functionName: functionOf(lane),
                statementId: SID,
                action: "lambda:InvokeFunction",
                principal: "s3.amazonaws.com",
                sourceArn: tag,
                idempotencyKey: token,
              }
            : { functionName: functionOf(lane), statementId: SID, idempotencyKey: token };
        const startedAt = performance.now();
        let attempts = 0;
        let answer: Answer | undefined;
        while (answer === undefined) {
          const client = clients[Math.floor(laneRandom() * clients.length)];
          if (client === undefined) throw new Error("no clients");
          attempts += 1;
          const result = await client.call(kind === "add" ? "addLambdaPermission" : "removeLambdaPermission", request, {
            timeoutMs: CALL_TIMEOUT_MS,
          });
          if (result.ok) answer = { kind: "ok" };
          else if (!RETRYABLE.has(result.error.code) && !isTransportFailure(result.error))
            answer = { kind: "failed", code: Code[result.error.code], message: result.error.message };
          else {
            const last = `${Code[result.error.code]} ${result.error.reason ?? ""}`.trim();
            answers[last] = (answers[last] ?? 0) + 1;
            if (performance.now() - startedAt > GIVE_UP_MS) answer = { kind: "gave-up", last };
            else await sleep(50 + laneRandom() * 200);
          }
        }
        const label = answer.kind === "failed" ? answer.code : answer.kind === "ok" ? "OK" : "gave up";
        answers[`final: ${label}`] = (answers[`final: ${label}`] ?? 0) + 1;
        operations.push({ lane, kind, tag, startedAt, endedAt: performance.now(), attempts, answer });
      }
    };

    // ---- the process faults ------------------------------------------------
    const killer = async (): Promise<void> => {
      while (await waitWhileRunning(options.killEveryMs)) {
        const candidates = replicas.filter((replica) => replica.state === "up" && othersUp(replica));
        const victim = candidates[Math.floor(random() * candidates.length)];
        if (victim?.process === undefined) continue;
        faults["replica SIGKILL and restart"] += 1;
        victim.state = "down";
        victim.process.kill();
        await victim.process.exited;
        const { stdout, stderr } = victim.process.output();
        victim.pastOutput += stdout + stderr;
        log(`replica ${victim.index} SIGKILLed; restarting`);
        await start(victim);
      }
    };
    let expectedMaster = await redis.masterPort();
    let plannedFailover = false;
    let unplannedFailovers = 0;
    const watchMaster = async (): Promise<void> => {
      while (await waitWhileRunning(250)) {
        const now = await redis?.masterPort().catch(() => expectedMaster);
        if (now === undefined || now === expectedMaster || plannedFailover) continue;
        unplannedFailovers += 1;
        log(`the Sentinels moved the primary from ${expectedMaster} to ${now} unasked`);
        expectedMaster = now;
      }
    };
    const failovers = async (): Promise<void> => {
      let wait = options.failoverEveryMs / 2;
      while (await waitWhileRunning(wait)) {
        wait = options.failoverEveryMs;
        if (redis === undefined) return;
        faults["Redis primary killed, Sentinel failover"] += 1;
        plannedFailover = true;
        const moved = await redis.failOver().finally(() => (plannedFailover = false));
        expectedMaster = moved.to;
        log(`Redis primary ${moved.from} killed; Sentinel promoted ${moved.to} in ${moved.tookMs} ms`);
      }
    };

    await Promise.all([
      ...Array.from({ length: options.lanes }, (_, lane) => runLane(lane)),
      killer(),
      failovers(),
      watchMaster(),
    ]);
    const durationMs = Math.round(performance.now() - started);

    // Every paused replica wakes, so its stale sends (if any) land before the judging.
    for (const replica of replicas) {
      if (replica.state === "paused") {
        replica.process?.signalGroup("SIGCONT");
        replica.state = "up";
      }
    }
    await sleep(PAUSE_MS);

    const finalTags = new Map<number, string | undefined>();
    for (let lane = 0; lane < options.lanes; lane++) finalTags.set(lane, await readTag(lane));
    const verdict = judgeDrill(operations, effects, finalTags);
    const output = replicas
      .map((replica) => {
        const now = replica.process?.output();
        return replica.pastOutput + (now === undefined ? "" : now.stdout + now.stderr);
      })
      .join("\n");
    return {
      seed: options.seed,
      durationMs,
      verdict,
      faults,
      unplannedFailovers,
      awsRequests: Object.fromEntries(
        ["AddPermission", "RemovePermission", "GetPolicy"].map((operation) => [
          operation,
          endpoints.reduce((sum, endpoint) => sum + endpoint.callCount(operation), 0),
        ]),
      ),
      sendsRefusedWithoutLease: output.match(/ran out before a send to AWS/g)?.length ?? 0,
      answers,
      replicaErrors: output
        .split("\n")
        .filter((line) => line.includes('"level":"error"'))
        .slice(0, 10),
    };
  } finally {
    for (const client of clients) client.close();
    for (const replica of replicas) {
      replica.process?.signalGroup("SIGCONT");
      replica.process?.kill();
      if (replica.process !== undefined) await replica.process.exited;
    }
    for (const endpoint of endpoints) await endpoint.close();
    await redis?.close();
    await model.close();
  }
}

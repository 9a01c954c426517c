// Real redis-server processes for tests: each on a free loopback port, in its
// own temp dir, with persistence off. A server can be stopped and started
// again on the same port (outage tests). Without the binary, tests fall back
// to REDIS_URL (standalone only) or skip loudly; with REQUIRE_REDIS=1|true
// (CI) a missing Redis fails the test instead.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { findOnPath, skipWithoutTool } from "./require-tool.js";

export const LOOPBACK = "127.0.0.1";

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Whether the process is running right now. */
  running(): boolean;
  /** Sends `signal` to the running process (SIGSTOP/SIGCONT to stall it, for example). */
  kill(signal: NodeJS.Signals): void;
  /** Stops the process (SIGTERM, then SIGKILL); the port and dir are kept. */
  stop(): Promise<void>;
  /** Starts it again on the same port (data is gone: persistence is off). */
  start(): Promise<void>;
  /** Stops it for good and removes its dir. */
  close(): Promise<void>;
}

export interface StartRedisServerOptions {
  /** Extra redis-server arguments, e.g. ["--cluster-enabled", "yes"]. */
  readonly args?: readonly string[] | undefined;
  readonly port?: number | undefined;
  /** Written to <dir>/redis.conf and loaded first (Sentinel needs a writable config file). */
  readonly configText?: string | undefined;
  /** Ready means "PING answers PONG" unless this says otherwise. */
  readonly readyTimeoutMs?: number | undefined;
  /** The program to run; default redis-server on PATH (redis-sentinel for a Sentinel of its own package). */
  readonly binary?: string | undefined;
}

export function redisServerBinary(): string | undefined {
  return findOnPath("redis-server");
}

/** Skips the test loudly, or fails it when REQUIRE_REDIS=1|true. */
export function skipWithoutRedis(t: TestContext, reason: string): void {
  skipWithoutTool(t, "REQUIRE_REDIS", `redis-server not installed: ${reason}`);
}

/** A port that was free a moment ago on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? redisServerBinary();
  if (binary === undefined) throw new Error("redis-server is not on PATH");
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), "pg-redis-"));
  const configFile = join(dir, "redis.conf");
  if (options.configText !== undefined) await writeFile(configFile, options.configText);
  const args = [
    ...(options.configText === undefined ? [] : [configFile]),
    "--port",
    String(port),
    "--bind",
    LOOPBACK,
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--protected-mode",
    "no",
    "--daemonize",
    "no",
    ...(options.args ?? []),
  ];
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  let child: ChildProcess | undefined;
  let output = "";
  // Kill the child if the test process exits without closing it.
  const killOnExit = (): void => {
    child?.kill("SIGKILL");
  };

  const start = async (): Promise<void> => {
    if (child !== undefined) return;
    output = "";
    const proc = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    process.once("exit", killOnExit);
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString("utf8")).slice(-4000);
    };
    proc.stdout?.on("data", keep);
    proc.stderr?.on("data", keep);
    let exited = false;
    proc.once("exit", () => {
      exited = true;
      if (child === proc) child = undefined;
      process.removeListener("exit", killOnExit);
    });
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (exited) throw new Error(`redis-server on port ${port} exited during start-up:\n${output}`);
      if (await pingOk(LOOPBACK, port)) return;
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`redis-server on port ${port} not ready after ${readyTimeoutMs} ms:\n${output}`);
      }
      await sleep(25);
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    const exited = new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once("exit", () => resolve());
    });
    proc.kill("SIGTERM");
    proc.kill("SIGCONT"); // a test may have left it stopped
    // Unreferenced: a timer left running after the exit would hold the test
    // file's process open for its full 5 s.
    const killed = await Promise.race([exited.then(() => true), sleep(5_000, false, { ref: false })]);
    if (!killed) {
      proc.kill("SIGKILL");
      await exited;
    }
    child = undefined;
  };

  await start();
  return {
    host: LOOPBACK,
    port,
    url: `redis://${LOOPBACK}:${port}`,
    dir,
    running: () => child !== undefined,
    kill(signal) {
      if (child === undefined) throw new Error(`redis-server on port ${port} is not running`);
      child.kill(signal);
    },
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One RESP PING over a fresh socket; true when the server answers +PONG (or, with requirepass, NOAUTH: it is up). */
export async function pingOk(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let reply = "";
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("utf8");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG") || reply.startsWith("-NOAUTH"));
    });
  });
}

/** A Sentinel on loopback that monitors the master at `masterPort` as `masterName`. */
export async function startRedisSentinel(masterName: string, masterPort: number): Promise<RedisServer> {
  return startRedisServer({
    configText: [
      `sentinel monitor ${masterName} ${LOOPBACK} ${masterPort} 1`,
      `sentinel down-after-milliseconds ${masterName} 1000`,
      "",
    ].join("\n"),
    args: ["--sentinel"],
  });
}

/** A standalone Redis for a test file: our own server, else REDIS_URL. */
export type StandaloneRedis =
  | { readonly kind: "server"; readonly url: string; readonly server: RedisServer; close(): Promise<void> }
  | { readonly kind: "url"; readonly url: string; close(): Promise<void> }
  | { readonly kind: "none"; readonly reason: string; close(): Promise<void> };

export async function acquireStandaloneRedis(): Promise<StandaloneRedis> {
  if (redisServerBinary() !== undefined) {
    const server = await startRedisServer();
    return { kind: "server", url: server.url, server, close: () => server.close() };
  }
  const url = process.env["REDIS_URL"];
  if (url) return { kind: "url", url, close: async () => {} };
  return { kind: "none", reason: "redis-server is not on PATH and REDIS_URL is not set", close: async () => {} };
}

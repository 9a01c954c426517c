// The gateway as an operator runs it: a real process, started the way one of
// the package scripts starts it, with an environment of its own (nothing
// leaks in from the test runner's). Shared by the process tests and
// bench/startup.ts, which both wait for the first served call.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/**
 * How the process is started:
 * - `node`: the compiled build, as `npm start` execs it (`node dist/src/main.js`);
 * - `npm`: `npm start` itself, so signals go to npm first;
 * - `tsx-import`: the TypeScript source under tsx's loader (tests of the source);
 * - `tsx-cli`: `tsx src/main.ts`, what `npm start` ran before the build existed.
 */
export type Launcher = "node" | "npm" | "tsx-import" | "tsx-cli";

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly output: () => { stdout: string; stderr: string };
  /** Settles when the process has exited and its output is read (or held open by a process it left behind). */
  readonly exited: Promise<Exit>;
  /** Resolves with the first match of `pattern` on stdout or stderr; rejects if the process exits first. */
  readonly printed: (pattern: RegExp) => Promise<RegExpExecArray>;
  /** Sends `signal` to the whole process group (npm and node together, as Ctrl-C in a terminal does). */
  readonly signalGroup: (signal: NodeJS.Signals) => void;
  /** SIGKILL to the whole group: also ends a gateway that npm left orphaned, which would hold the pipes open. */
  readonly kill: () => void;
}

export interface SpawnOptions {
  /** Arguments after the entry point (for npm, after `--`). */
  readonly args?: readonly string[];
  /** The package script or entry point: the gateway (default) or the fake AWS endpoint. */
  readonly program?: "gateway" | "fake-aws";
  /** For the npm launcher: the package script to run instead of the program's own (e.g. "dev"). */
  readonly script?: string;
  /** The package directory to run in; default the repository. */
  readonly cwd?: string;
}

const entryPoints = {
  gateway: { script: "start", dist: "dist/src/main.js", source: "src/main.ts" },
  "fake-aws": { script: "fake-aws", dist: "dist/src/fake-aws/main.js", source: "src/fake-aws/main.ts" },
} as const;

function commandLine(launcher: Launcher, options: SpawnOptions): [string, string[]] {
  const entry = entryPoints[options.program ?? "gateway"];
  const args = options.args ?? [];
  switch (launcher) {
    case "node":
      return [process.execPath, [entry.dist, ...args]];
    case "npm":
      return ["npm", ["run", options.script ?? entry.script, ...(args.length > 0 ? ["--", ...args] : [])]];
    case "tsx-import":
      return [process.execPath, ["--import", "tsx", entry.source, ...args]];
    case "tsx-cli":
      return [join(repoRoot, "node_modules/.bin/tsx"), [entry.source, ...args]];
  }
}

export function spawnGateway(
  launcher: Launcher,
  env: Record<string, string>,
  options: SpawnOptions = {},
): GatewayProcess {
  const [command, args] = commandLine(launcher, options);
  const child = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? repoRoot, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, which signalGroup() and kill() address.
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      // Its output is complete at "close", unless a process it left behind
      // holds the pipes open: then the exit is reported all the same.
      const leftBehind = setTimeout(() => resolve({ code, signal }), 2_000);
      child.once("close", () => {
        clearTimeout(leftBehind);
        resolve({ code, signal });
      });
    });
  });
  const signalGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch (error) {
      if ((error as { code?: unknown }).code !== "ESRCH") throw error; // the group is gone already
    }
  };
  const printed = (pattern: RegExp): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(stdout) ?? pattern.exec(stderr);
        if (match !== null) resolve(match);
      };
      child.stdout?.on("data", check);
      child.stderr?.on("data", check);
      void exited.then((exit) =>
        reject(new Error(`exited ${JSON.stringify(exit)} before printing ${pattern}: ${stderr}`)),
      );
      check();
    });
  return {
    child,
    output: () => ({ stdout, stderr }),
    exited,
    printed,
    signalGroup,
    kill: () => signalGroup("SIGKILL"),
  };
}

export const listRamPermissionsPath = "/permission.v1.PermissionService/ListRamPermissions";

export interface Probe {
  readonly path: string;
  readonly body: unknown;
  /** The HTTP status that counts as served. */
  readonly status: number;
}

/** The first served call of the start-up benchmark. */
export const listRamPermissions: Probe = { path: listRamPermissionsPath, body: {}, status: 200 };

/**
 * Waits for the port the process says it listens on (it starts with PORT=0,
 * so no other process can take the port first), then calls `probe` (Connect
 * JSON over HTTP/1.1) until it answers its status. A call that gets no HTTP
 * answer is retried; the process exiting first, another status, or
 * `timeoutMs` passing is an error carrying the process's output. Resolves to
 * the port.
 */
export async function waitUntilServing(
  gateway: GatewayProcess,
  probe = listRamPermissions,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  const failure = (what: string): Error => new Error(`${what}: ${JSON.stringify(gateway.output())}`);
  const announced = await Promise.race([
    gateway.printed(/http:\/\/127\.0\.0\.1:(\d+)/),
    sleep(timeoutMs, undefined, { ref: false }),
  ]);
  if (announced === undefined) throw failure(`no listening URL printed within ${timeoutMs} ms`);
  const port = Number(announced[1]);
  let exit: Exit | undefined;
  void gateway.exited.then((e) => (exit = e));
  let lastError: unknown;
  for (;;) {
    const status = await postJson(port, probe.path, probe.body).catch((error: unknown) => {
      lastError = error;
      return undefined;
    });
    if (status === probe.status) return port;
    if (status !== undefined) throw failure(`${probe.path} answered HTTP ${status}`);
    if (exit !== undefined) throw failure(`the process exited (${JSON.stringify(exit)}) before serving`);
    if (performance.now() > deadline)
      throw failure(`no call served within ${timeoutMs} ms (last: ${String(lastError)})`);
    await sleep(5);
  }
}

/** One Connect JSON call over a fresh HTTP/1.1 connection; resolves to the HTTP status. */
export function postJson(port: number, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: "POST", agent: false, headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.once("end", () => resolve(res.statusCode ?? 0));
        res.once("error", reject);
      },
    );
    req.once("error", reject);
    req.end(JSON.stringify(body));
  });
}

/** The processes whose parent is `pid`, with their command lines (Linux /proc; empty elsewhere). */
export async function childProcesses(pid: number): Promise<{ pid: number; command: string[] }[]> {
  const entries = await readdir("/proc").catch(() => [] as string[]);
  const children: { pid: number; command: string[] }[] = [];
  for (const entry of entries.filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      // The command name may hold spaces and parentheses: fields resume after the last ")".
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent !== pid) continue;
      const command = (await readFile(`/proc/${entry}/cmdline`, "utf8")).split("\0").filter((part) => part !== "");
      children.push({ pid: Number(entry), command });
    } catch {
      // gone between the listing and the read
    }
  }
  return children;
}

/** Whether a process with this id still exists (a zombie counts as gone). */
export async function processExists(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

/**
 * Compiles src and gen with tsconfig.build.json, as `npm run build` does,
 * into `outDir` (default: the repository's dist/), so process tests run the
 * code as it is now rather than whatever build was left behind.
 */
export async function buildDist(outDir?: string): Promise<void> {
  const tsc = join(repoRoot, "node_modules/typescript/bin/tsc");
  await run(
    process.execPath,
    [tsc, "-p", "tsconfig.build.json", ...(outDir === undefined ? [] : ["--outDir", outDir])],
    { cwd: repoRoot },
  );
}

/** The URL of the gateway's "permission-gateway listening" log line, once it has printed it (within `timeoutMs`). */
export async function listeningUrl(gateway: GatewayProcess, timeoutMs = 60_000): Promise<string> {
  const line = await Promise.race([
    gateway.printed(/^.*"permission-gateway listening".*$/m),
    sleep(timeoutMs, undefined, { ref: false }).then(() => {
      throw new Error(`no "listening" line within ${timeoutMs} ms: ${gateway.output().stderr}`);
    }),
  ]);
  const entry = JSON.parse(line[0]) as { url?: unknown };
  if (typeof entry.url !== "string") throw new Error(`a "listening" line without a URL: ${line[0]}`);
  return entry.url;
}

export interface ServingGateway {
  readonly url: string;
  readonly process: GatewayProcess;
  /** Its log (stderr) so far, a line each. */
  lines(): string[];
  /** Resolves with the exit code (or the signal's name). */
  exitCode(): Promise<number | string>;
  /** SIGKILL to its process group, unless it has ended; waits for the exit. */
  stop(): Promise<void>;
}

/**
 * The gateway from its TypeScript source, on a free port of loopback, with
 * `env` (audit events off, logs at info), once it says it listens.
 */
export async function startGatewayProcess(env: Record<string, string>): Promise<ServingGateway> {
  const gateway = spawnGateway("tsx-import", {
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "info",
    AUDIT_SINK: "off",
    ...env,
  });
  const url = await listeningUrl(gateway);
  const exitCode = async (): Promise<number | string> => {
    const exit = await gateway.exited;
    return exit.code ?? String(exit.signal);
  };
  return {
    url,
    process: gateway,
    lines: () => gateway.output().stderr.split("\n"),
    exitCode,
    async stop() {
      if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.kill();
      await gateway.exited;
    },
  };
}

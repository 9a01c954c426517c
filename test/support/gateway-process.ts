// The gateway as an operator runs it: its own process (src/main.ts), told
// everything by environment variables, found by its "listening" log line.
// For what only a separate process shows: SIGKILL in the middle of a call,
// signals, exit codes.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

export interface GatewayProcess {
  readonly url: string;
  readonly pid: number;
  /** The log lines so far (JSON, stderr). */
  readonly lines: readonly string[];
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL unless it has already ended. */
  stop(): Promise<void>;
}

const root = new URL("../..", import.meta.url);

/** Variables of the test's own environment that would change the gateway under test. */
const inherited = ["IDEMPOTENCY_STORE", "REDIS_URL", "REDIS_SENTINELS", "REDIS_CLUSTER_NODES", "BACKEND", "AUTH_MODE", "AUTHZ_POLICIES"];

export async function startGatewayProcess(env: Record<string, string>, readyTimeoutMs = 60_000): Promise<GatewayProcess> {
  const base = { ...process.env };
  for (const name of inherited) delete base[name];
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    env: { ...base, HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", AUDIT_SINK: "off", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = once(child, "exit").then(([code, signal]) => (code ?? String(signal)) as number | string);
  const lines: string[] = [];
  const reader = createInterface({ input: child.stderr });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line within ${readyTimeoutMs} ms:\n${lines.join("\n")}`)), readyTimeoutMs);
    reader.on("line", (line) => {
      lines.push(line);
      try {
        const entry = JSON.parse(line) as { message?: string; url?: string };
        if (entry.message === "permission-gateway listening" && entry.url !== undefined) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited (${String(code)}) before listening:\n${lines.join("\n")}`));
    });
  });
  return {
    url,
    pid: child.pid ?? 0,
    lines,
    exited,
    signal: (signal) => child.kill(signal),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

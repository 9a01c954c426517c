// A server under test in its own process: spawned without a shell, stopped
// with SIGTERM (then SIGKILL), and measured at the process that serves.
// Launchers such as tsx run the program in a child process, so the measured
// process is found by walking down the process tree while there is exactly
// one child.
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface ServiceProcess {
  readonly label: string;
  /** The spawned process (a launcher, or the server itself). */
  readonly launcherPid: number;
  /** The process that serves: measured for RSS. */
  servingPid(): Promise<number>;
  /** The last few KB of its stderr and stdout, for error messages. */
  output(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

export interface SpawnServiceOptions {
  readonly label: string;
  readonly root: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export function spawnService(options: SpawnServiceOptions): ServiceProcess {
  const [program, ...args] = options.argv;
  if (program === undefined) throw new Error(`${options.label}: empty command line`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    // As npm does for its scripts.
    PATH: [join(options.root, "node_modules", ".bin"), process.env["PATH"] ?? ""].join(delimiter),
  };
  const child: ChildProcess = spawn(program, args, { cwd: options.root, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString("utf8")).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let hasExited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => (hasExited = true));
  child.once("error", (error) => {
    hasExited = true;
    keep(Buffer.from(`\nspawn failed: ${error.message}\n`));
  });
  // If the harness dies, its servers go with it.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  const pid = child.pid ?? -1;
  return {
    label: options.label,
    launcherPid: pid,
    servingPid: () => leafProcess(pid),
    output: () => output,
    exited: () => hasExited,
    async stop() {
      process.removeListener("exit", killOnExit);
      if (hasExited) return;
      child.kill("SIGTERM");
      const stopped = await Promise.race([exit.then(() => true), sleep(15_000).then(() => false)]);
      if (!stopped) {
        child.kill("SIGKILL");
        await exit;
      }
    },
  };
}

/**
 * The only child's only child ..., from /proc: the node process a launcher
 * runs. A helper the server itself spawns (not node) is not descended into.
 */
export async function leafProcess(pid: number): Promise<number> {
  let current = pid;
  for (let depth = 0; depth < 8; depth++) {
    const children = await childrenOf(current);
    const only = children.length === 1 ? children[0] : undefined;
    if (only === undefined || (await commandName(only)) !== "node") return current;
    current = only;
  }
  return current;
}

async function commandName(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/comm`, "utf8")).trim();
  } catch {
    return "";
  }
}

async function childrenOf(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8");
    return text
      .split(/\s+/)
      .filter((word) => word !== "")
      .map(Number);
  } catch {
    return [];
  }
}

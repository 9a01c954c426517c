// How the gateway is started: read from package.json's `start` script, so the
// harness follows a change of `npm start` (today plain node on the compiled
// build in dist/) without edits. The baseline is started with the same
// launcher and the same node flags, so both pay the same runtime overheads.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export interface LaunchCommand {
  /** The program: `node`, `tsx`, ... resolved through node_modules/.bin as npm does. */
  readonly launcher: string;
  /** Leading options of the launcher (`--enable-source-maps`, ...). */
  readonly flags: readonly string[];
  /** The entry point and its arguments. */
  readonly args: readonly string[];
  /** `NAME=value` words before the program. */
  readonly env: Readonly<Record<string, string>>;
}

export class StartScriptError extends Error {
  override readonly name = "StartScriptError";
}

/** Splits `[exec] [NAME=value ...] program [-flags ...] entry [args]`; shell syntax beyond that is refused. */
export function parseStartScript(script: string): LaunchCommand {
  if (/["'`$\\|&;<>()*?~]/.test(script)) {
    throw new StartScriptError(
      `package.json "start" is ${JSON.stringify(script)}: the bench runs it without a shell, so it must be plain words ([exec] [NAME=value] program [flags] entry)`,
    );
  }
  const words = script
    .trim()
    .split(/\s+/)
    .filter((word) => word !== "");
  if (words[0] === "exec") words.shift();
  const env: Record<string, string> = {};
  while (words[0] !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) {
    const word = words.shift() ?? "";
    const at = word.indexOf("=");
    env[word.slice(0, at)] = word.slice(at + 1);
  }
  const launcher = words.shift();
  if (launcher === undefined)
    throw new StartScriptError(`package.json "start" is ${JSON.stringify(script)}: no program to run`);
  const flags: string[] = [];
  while (words[0]?.startsWith("-")) flags.push(words.shift() ?? "");
  if (words.length === 0)
    throw new StartScriptError(`package.json "start" is ${JSON.stringify(script)}: no entry point after ${launcher}`);
  return { launcher, flags, args: words, env };
}

export async function readStartCommand(root: string): Promise<LaunchCommand> {
  const packageJson = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
    scripts?: Record<string, string>;
  };
  const script = packageJson.scripts?.["start"];
  if (script === undefined) throw new StartScriptError(`${join(root, "package.json")} has no "start" script`);
  return parseStartScript(script);
}

/** The command line, with the launcher resolved as npm resolves it (node_modules/.bin first). */
export function commandLine(root: string, command: LaunchCommand, extraFlags: readonly string[] = []): string[] {
  const local = join(root, "node_modules", ".bin", command.launcher);
  const program = command.launcher.includes("/") || !existsSync(local) ? command.launcher : local;
  return [program, ...command.flags, ...extraFlags, ...command.args];
}

/** V8's CPU profiler, written when the process exits (the gateway exits on SIGTERM). */
export function cpuProfileFlags(dir: string): string[] {
  return ["--cpu-prof", `--cpu-prof-dir=${dir}`];
}

/** A compiled entry point that is not built yet, said plainly instead of as a crash of the first gateway. */
export function missingEntry(root: string, command: LaunchCommand): string | undefined {
  const entry = command.args[0];
  if (entry === undefined || !/\.[cm]?[jt]s$/.test(entry) || existsSync(join(root, entry))) return undefined;
  return `the start script runs ${entry}, which does not exist: build it first (npm ci, or npm run build)`;
}

// What the two programs (the gateway and `npm run fake-aws`) do alike as
// processes: run only when node was started with their file (tests import
// them), and exit with the code the program answers.
import * as nodeModule from "node:module";
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { errorMessage } from "./util/error-message.js";

/**
 * Whether `moduleUrl` (the caller's import.meta.url) is the script node was
 * started with, also through a symlink (npm's node_modules/.bin links).
 */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  if (moduleUrl === pathToFileURL(script).href) return true;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

/** Exits with the program's code; a failure it did not handle is one `<program>: fatal: ...` line and exit 1. */
export function exitWhenDone(program: string, run: Promise<number>): void {
  run.then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${program}: fatal: ${errorMessage(error)}\n`);
      process.exit(1);
    },
  );
}

/**
 * Calls `onEnd` once the process that started this one has ended (this one
 * was re-parented), checking every `intervalMs`; returns the function that
 * stops checking. For `npm start`: npm does not forward SIGHUP and dies of it.
 */
export function whenParentEnds(onEnd: (parentPid: number) => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onEnd(parent);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Turns on Node's on-disk cache of compiled modules (Node 22.1+) for every
 * module loaded from here on, so a start after the first one skips most of
 * the compiling. The directory is NODE_COMPILE_CACHE when set, else
 * node-compile-cache in the system's temporary directory;
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off. A directory that cannot be
 * written (a read-only root filesystem with no writable /tmp) only costs the
 * saving: Node answers with a status, never an exception. Node 20 has no
 * such cache and is left as it is.
 */
export function enableModuleCompileCache(): void {
  if (typeof nodeModule.enableCompileCache === "function") nodeModule.enableCompileCache();
}

/** Where the compile cache lives, or why there is none: for the start-up log. */
export function compileCacheState(): { compileCache: string } {
  const dir = typeof nodeModule.getCompileCacheDir === "function" ? nodeModule.getCompileCacheDir() : undefined;
  return { compileCache: dir ?? "off (disabled, unwritable directory, or a Node without it)" };
}

/**
 * Writes what was compiled so far to the cache now instead of at exit, so a
 * process that is killed (OOM, SIGKILL after a grace period) has still left
 * it for the next start.
 */
export function flushModuleCompileCache(): void {
  if (typeof nodeModule.flushCompileCache === "function") nodeModule.flushCompileCache();
}

// What the two programs (the gateway and `npm run fake-aws`) do alike as
// processes: run only when node was started with their file (tests import
// them), and exit with the code the program answers.
import { pathToFileURL } from "node:url";

/** Whether `moduleUrl` (the caller's import.meta.url) is the script node was started with. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && moduleUrl === pathToFileURL(script).href;
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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

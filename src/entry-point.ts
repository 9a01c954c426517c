// What the two programs (the gateway and `npm run fake-aws`) do alike as
// processes: run only when node was started with their file (tests import
// them), and exit with the code the program answers.
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";

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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

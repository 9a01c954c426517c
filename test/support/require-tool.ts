// Tests that need a Debian package the machine may lack (chromium,
// python3-grpcio, ...) skip loudly without it, unless the REQUIRE_<THING>
// variable named by the test is set: then a missing tool fails the test, so
// CI cannot go green on a machine where the install step did nothing.
import assert from "node:assert/strict";
import { accessSync, constants as fsConstants } from "node:fs";
import { delimiter, join } from "node:path";
import type { TestContext } from "node:test";

/** The path of `binary` on PATH, if it is there. */
export function findOnPath(binary: string, path = process.env["PATH"] ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** REQUIRE_<THING>=1|true: the tool must be there. */
export function toolRequired(variable: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[variable]?.toLowerCase();
  return value === "1" || value === "true";
}

/** Skips the test with a loud line, or fails it when `variable` is set. */
export function skipWithoutTool(t: TestContext, variable: string, reason: string): void {
  if (toolRequired(variable)) assert.fail(`${reason} (${variable} is set, so this is a failure)`);
  const why = `${reason} (set ${variable}=1 to make this a failure)`;
  console.warn(`\n*** SKIPPED ${t.name}: ${why} ***\n`);
  t.skip(why);
}

/**
 * Skips the test (or fails it, when `variable` is set) unless `command` is
 * on PATH; `install` says how to get it. True when the test must stop.
 */
export function skipWithoutCommand(t: TestContext, command: string, variable: string, install: string): boolean {
  if (findOnPath(command) !== undefined) return false;
  skipWithoutTool(t, variable, `${command} not installed (${install})`);
  return true;
}

/** The README's commands are run with curl. */
export function skipWithoutCurl(t: TestContext): boolean {
  return skipWithoutCommand(t, "curl", "REQUIRE_CURL", ".ci/run installs it");
}

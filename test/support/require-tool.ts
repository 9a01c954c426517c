// Tests that need a Debian package the machine may lack (chromium,
// python3-grpcio, ...) skip loudly without it, unless the REQUIRE_<THING>
// variable named by the test is set: then a missing tool fails the test, so
// CI cannot go green on a machine where the install step did nothing.
import assert from "node:assert/strict";
import type { TestContext } from "node:test";

/** REQUIRE_<THING>=1|true: the tool must be there. */
export function toolRequired(variable: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[variable]?.toLowerCase();
  return value === "1" || value === "true";
}

/** Skips the test with a loud line, or fails it when `variable` is set. */
export function skipWithoutTool(t: TestContext, variable: string, reason: string): void {
  if (toolRequired(variable)) assert.fail(`${reason} (${variable} is set, so this is a failure)`);
  console.warn(`\n*** SKIPPED ${t.name}: ${reason} (set ${variable}=1 to make this a failure) ***\n`);
  t.skip(reason);
}

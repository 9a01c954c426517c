// /dev/full: a real file whose every write fails with ENOSPC (Linux has it).
// Elsewhere the tests that need it skip loudly, or fail with REQUIRE_DEV_FULL=1.
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";
import { skipWithoutTool } from "../support/require-tool.js";

export const DEV_FULL = "/dev/full";

/** True when the test must stop: the machine has no /dev/full. */
export function skipWithoutDevFull(t: TestContext): boolean {
  if (existsSync(DEV_FULL)) return false;
  skipWithoutTool(t, "REQUIRE_DEV_FULL", `${DEV_FULL} does not exist on this machine`);
  return true;
}

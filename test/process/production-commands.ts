// The production install as the README gives it, one command a line: run
// by production-install.test.ts, and held against the image's Dockerfile by
// test/deploy/dockerfile.test.ts, so the image installs and starts the
// gateway exactly as the tested install does.
import { readmeBlock } from "../support/readme.js";

/** Where the README installs the runtime copy; the tests substitute a temp directory. */
export const readmeTarget = "/opt/permission-gateway";

/** The README's production block, one command a line, without its comments. */
export async function productionCommands(): Promise<string[]> {
  const block = await readmeBlock("sh", "npm ci --omit=dev");
  return block
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "");
}

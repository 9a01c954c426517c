// The production install as docs/operations.md gives it, one command a line: run
// by production-install.test.ts, and held against the image's Dockerfile by
// test/deploy/dockerfile.test.ts, so the image installs and starts the
// gateway exactly as the tested install does.
import { docBlock } from "../support/readme.js";

/** Where docs/operations.md installs the runtime copy; the tests substitute a temp directory. */
export const readmeTarget = "/opt/permission-gateway";

/** docs/operations.md's production block, one command a line, without its comments. */
export async function productionCommands(): Promise<string[]> {
  const block = await docBlock("docs/operations.md", "sh", "npm ci --omit=dev");
  return block
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "");
}

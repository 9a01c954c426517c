// The two tiers of the test suite, in one place. `npm run test:fast` is the
// inner loop: unit tests and in-process integration (real servers and
// redis-server on loopback, no child processes of our own); `npm run
// test:slow` is everything else: the gateway and CLI as processes, the
// production install, the browser, the clients in other languages and
// their code generators, Redis Cluster and Sentinel, the fuzz run and the
// benchmark's smoke run. `npm test` runs both. A file is slow when it is
// listed here (a directory or a file, relative to the repository), measured
// with the durations the summary reporter prints at the end of a run.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const SLOW_TESTS: readonly string[] = [
  "test/process/",
  "test/browser/",
  "test/clients/",
  "test/cli/call.test.ts",
  "test/bench/",
  // ESLint over a file per rule: 28 s of a loaded full run.
  "test/lint-boundaries.test.ts",
  "test/http/fuzz.test.ts",
  "test/idempotency/redis-cluster.test.ts",
  "test/idempotency/redis-cluster-coverage.test.ts",
  "test/idempotency/redis-sentinel.test.ts",
  // Gateway processes, Redis behind three Sentinels, a failover: about a minute.
  "test/chaos/chaos-drill.test.ts",
  "test/fake-aws/main.test.ts",
  "test/fake-aws/aws-tools.test.ts",
];

export type Tier = "fast" | "slow" | "all";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Every test file, sorted, relative to the repository (test/.../x.test.ts). */
export function allTestFiles(): string[] {
  return readdirSync(`${root}test`, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".test.ts"))
    .map((file) => `test/${file}`)
    .sort();
}

export function isSlow(file: string): boolean {
  return SLOW_TESTS.some((entry) => (entry.endsWith("/") ? file.startsWith(entry) : file === entry));
}

export function testFiles(tier: Tier): string[] {
  const files = allTestFiles();
  return tier === "all" ? files : files.filter((file) => isSlow(file) === (tier === "slow"));
}

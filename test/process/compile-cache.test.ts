// The module compile cache as a container runs it: the built gateway fills a
// writable cache directory as soon as it serves (not only at a clean exit, so
// a killed process has still left it), the next start uses it, and a cache
// directory that cannot exist (a read-only root filesystem) costs the cache
// and nothing else.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildDist, listeningUrl, spawnGateway, waitUntilServing } from "./gateway-process.js";

let scratch = "";
before(async () => {
  await buildDist();
  scratch = await mkdtemp(join(tmpdir(), "compile-cache-"));
});
after(() => rm(scratch, { recursive: true, force: true }));

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
}

function compileCacheOf(listeningLine: string): unknown {
  return (JSON.parse(listeningLine) as { compileCache?: unknown }).compileCache;
}

async function listeningLine(gateway: ReturnType<typeof spawnGateway>): Promise<string> {
  await listeningUrl(gateway);
  const line = gateway
    .output()
    .stderr.split("\n")
    .find((l) => l.includes('"permission-gateway listening"'));
  assert.ok(line !== undefined);
  return line;
}

// NODE_COMPILE_CACHE, which node itself reads before the entry runs; and
// without it the entry's own enableCompileCache(), in the temporary directory.
const writableCaches = [
  { name: "NODE_COMPILE_CACHE", env: (dir: string) => ({ NODE_COMPILE_CACHE: dir }), cacheDir: (dir: string) => dir },
  {
    name: "TMPDIR",
    env: (dir: string) => ({ TMPDIR: dir }),
    cacheDir: (dir: string) => join(dir, "node-compile-cache"),
  },
];

for (const writable of writableCaches) {
  test(`the build fills its compile cache (${writable.name}) once it serves, even when killed, and the next start uses it`, async () => {
    const dir = await mkdtemp(join(scratch, "writable-"));
    const cacheDir = writable.cacheDir(dir);
    for (const round of ["first", "second"]) {
      const gateway = spawnGateway("node", { PORT: "0", ...writable.env(dir) });
      try {
        const line = await listeningLine(gateway);
        await waitUntilServing(gateway);
        assert.equal(typeof compileCacheOf(line), "string", `${round} start: ${line}`);
        assert.ok(String(compileCacheOf(line)).startsWith(cacheDir), `${round} start: ${line}`);
        assert.ok((await filesUnder(cacheDir)).length > 100, `${round} start: the cache holds the compiled modules`);
      } finally {
        // SIGKILL: nothing is written at exit, so what is there was written while serving.
        gateway.kill();
        await gateway.exited;
      }
    }
  });
}

test("a compile cache directory that cannot be created leaves the gateway serving and stopping cleanly", async () => {
  // A path under a regular file: not even root can create it, like a read-only root filesystem.
  const file = join(scratch, "a-file");
  await writeFile(file, "");
  const unusable = join(file, "cache");
  // Without a usable NODE_COMPILE_CACHE Node falls back to the temporary directory; neither usable: off.
  for (const env of [{ TMPDIR: file }, { NODE_COMPILE_CACHE: unusable, TMPDIR: file }]) {
    const gateway = spawnGateway("node", { PORT: "0", ...env });
    try {
      const line = await listeningLine(gateway);
      await waitUntilServing(gateway);
      assert.match(String(compileCacheOf(line)), /^off/, JSON.stringify(env));
      gateway.child.kill("SIGTERM");
      assert.deepEqual(await gateway.exited, { code: 0, signal: null }, JSON.stringify(env));
      assert.doesNotMatch(gateway.output().stderr, /fatal|uncaught/i);
    } finally {
      gateway.kill();
      await gateway.exited;
    }
  }
});

// docs/operations.md's production install, run as written (with a temp directory for
// /opt/permission-gateway): a build, then `npm ci --omit=dev` in a copy that
// has only package.json, package-lock.json and dist/. The copy must hold no
// dev dependency, every module of dist/ must load from it, `npm start` must
// serve a call and stop with 0 on SIGTERM, and without dist/ its prepare must
// refuse clearly instead of half-installing.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import ts from "typescript";
import { buildDist, repoRoot, spawnGateway, waitUntilServing } from "./gateway-process.js";
import { productionCommands, readmeTarget } from "./production-commands.js";

const run = promisify(execFile);

/** An environment of its own: npm settings of an outer `npm test` must not leak into the installs. */
function installEnv(): Record<string, string> {
  return {
    PATH: process.env["PATH"] ?? "",
    HOME: process.env["HOME"] ?? repoRoot,
    npm_config_prefer_offline: "true",
    npm_config_audit: "false",
    npm_config_fund: "false",
  };
}

/** Every package the lockfile marks dev-only: none may be in a production install. */
async function devOnlyPackages(dir: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(dir, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path !== "" && entry.dev === true)
    .map(([path]) => path);
}

// Imports every module under dist/ from inside the install: an import that
// only resolves through a dev dependency fails here.
const importEveryModule = `
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
const files = readdirSync("dist", { recursive: true }).filter((f) => f.endsWith(".js"));
for (const file of files) await import(pathToFileURL(resolve(join("dist", file))).href);
console.log(files.length);
`;

/** The packages that the modules of `dist` import, statically or dynamically (node: built-ins aside). */
async function importedPackages(dist: string): Promise<string[]> {
  const files = (await readdir(dist, { recursive: true })).filter((file) => file.endsWith(".js"));
  const packages = new Set<string>();
  for (const file of files) {
    const code = await readFile(join(dist, file), "utf8");
    for (const { fileName: specifier } of ts.preProcessFile(code, true, true).importedFiles) {
      if (specifier.startsWith(".") || specifier.startsWith("node:")) continue;
      packages.add(
        specifier
          .split("/")
          .slice(0, specifier.startsWith("@") ? 2 : 1)
          .join("/"),
      );
    }
  }
  return [...packages].sort();
}

/** docs/operations.md's commands between the build and `npm start`, run from `build` with `target` for /opt/permission-gateway. */
async function installAsTheReadmeSays(build: string, target: string): Promise<void> {
  const commands = await productionCommands();
  assert.equal(commands[0], "npm ci", "the block starts with the build");
  assert.equal(commands.at(-1), "npm start", "the block ends by starting the gateway");
  const install = commands
    .slice(1, -1)
    .map((line) => line.replaceAll(readmeTarget, target))
    .join("\n");
  await run("bash", ["-euo", "pipefail", "-c", install], {
    cwd: build,
    env: installEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
}

describe("the compiled build and docs/operations.md's production install", { timeout: 300_000 }, () => {
  let dir = "";
  let build = "";
  let target = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pg-production-"));
    // `npm ci` on the build machine: this tree is installed already, so only its build is made again, in a copy.
    build = join(dir, "build");
    await buildDist(join(build, "dist"));
    for (const file of ["package.json", "package-lock.json", ".npmrc"])
      await copyFile(join(repoRoot, file), join(build, file));
    await cp(join(repoRoot, "authz"), join(build, "authz"), { recursive: true });
    target = join(dir, "opt");
    await installAsTheReadmeSays(build, target);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("the runtime dependencies are exactly the packages dist/ imports", async () => {
    const manifest = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    assert.deepEqual(await importedPackages(join(build, "dist")), Object.keys(manifest.dependencies).sort());
  });

  test("the install holds no dev dependency, and every module of dist/ loads from it", async () => {
    const present = (await devOnlyPackages(target)).filter((path) => existsSync(join(target, path)));
    assert.deepEqual(present, [], "no dev dependency is installed");
    for (const tool of ["typescript", "tsx"]) assert.equal(existsSync(join(target, "node_modules", tool)), false, tool);
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", importEveryModule], { cwd: target });
    const built = (await readdir(join(target, "dist"), { recursive: true })).filter((file) => file.endsWith(".js"));
    assert.equal(Number(stdout), built.length);
  });

  test("npm start there serves a call, with Cedar authorization on, and stops with 0 on SIGTERM", async (t) => {
    // Authorization reads the shipped schema at run time: the copy must have brought it.
    await writeFile(join(target, "allow-all.cedar"), '@id("allow-all")\npermit (principal, action, resource);\n');
    const gateway = spawnGateway(
      "npm",
      { PORT: "0", AUTHZ_POLICIES: join(target, "allow-all.cedar") },
      { cwd: target },
    );
    t.after(() => gateway.kill());
    await waitUntilServing(gateway);
    gateway.child.kill("SIGTERM");
    assert.deepEqual(await gateway.exited, { code: 0, signal: null }, gateway.output().stderr);
  });

  test("without dist/ and without TypeScript, prepare refuses, naming what is missing", async () => {
    await rename(join(target, "dist"), join(target, "dist.moved"));
    const refused = await run("npm", ["run", "prepare"], { cwd: target, env: installEnv() }).then(
      () => assert.fail("prepare succeeded without dist/ and without TypeScript"),
      (error: { code?: number; stderr?: string }) => error,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr ?? "", /no build in dist\/ and no TypeScript to make one/);
  });
});

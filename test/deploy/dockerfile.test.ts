// No container engine runs here and no base image can be pulled, so the
// image is held to what is tested instead: its build and install commands
// are docs/operations.md's production install that test/process/production-install
// runs (same commands, same files copied, same directory), its start command
// is what `npm start` execs there, and its defaults are safe (the image's
// environment alone is refused by the gateway's own configuration check).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { loadConfig } from "../../src/config.js";
import { ConfigError } from "../../src/config-values.js";
import { repoRoot } from "../process/gateway-process.js";
import { productionCommands, readmeTarget } from "../process/production-commands.js";

interface Instruction {
  readonly keyword: string;
  /** The arguments, flags such as --mount=... or --from=... removed. */
  readonly args: string;
  readonly flags: readonly string[];
}

interface Stage {
  readonly name: string;
  readonly instructions: readonly Instruction[];
}

/** The Dockerfile's stages: comments dropped, continuation lines joined, flags split off. */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const stages: { name: string; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const [keyword = "", ...words] = line.split(/\s+/);
    const flags: string[] = [];
    while (words[0]?.startsWith("--") === true) flags.push(words.shift() ?? "");
    const instruction = { keyword: keyword.toUpperCase(), args: words.join(" "), flags };
    if (instruction.keyword === "FROM") {
      stages.push({ name: /\bAS\s+(\S+)$/i.exec(instruction.args)?.[1] ?? String(stages.length), instructions: [] });
    } else if (instruction.keyword !== "ARG" || stages.length > 0) {
      const stage = stages.at(-1);
      assert.ok(stage !== undefined, `${instruction.keyword} before the first FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

function all(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

function only(stage: Stage, keyword: string): Instruction {
  const found = all(stage, keyword);
  assert.equal(found.length, 1, `stage ${stage.name} has exactly one ${keyword}`);
  return found[0] as Instruction;
}

/** An exec-form (JSON array) argument: the shell form would put sh between the runtime and node. */
function execForm(instruction: Instruction): string[] {
  const parsed: unknown = JSON.parse(instruction.args);
  assert.ok(Array.isArray(parsed) && parsed.every((word) => typeof word === "string"), instruction.args);
  return parsed;
}

/** `ENV A=1 B=2` (the only form used here) as a record. */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of all(stage, "ENV")) {
    for (const pair of args.split(/\s+/)) {
      const [name = "", ...value] = pair.split("=");
      assert.ok(value.length > 0, `ENV ${pair}: the NAME=value form`);
      env[name] = value.join("=");
    }
  }
  return env;
}

async function readRepoFile(path: string): Promise<string> {
  return readFile(new URL(path, `file://${repoRoot}`), "utf8");
}

describe("the Dockerfile", async () => {
  const stages = parseDockerfile(await readRepoFile("Dockerfile"));
  const runtime = stages.at(-1) as Stage;
  const commands = await productionCommands();
  // docs/operations.md's block: `npm ci`, mkdir, `cp -R <files> <target>/`, cd, the install, `npm start`.
  const copy = commands.find((command) => command.startsWith("cp "));
  assert.ok(copy !== undefined, "docs/operations.md's block copies the build");
  const copied = copy.split(/\s+/).slice(2, -1);
  const install = commands.slice(commands.indexOf(`cd ${readmeTarget}`) + 1, -1);

  test("builds in its own stage with docs/operations.md's build command, and ships from another", () => {
    assert.equal(stages.length, 2, "a build stage and a runtime stage");
    const build = stages[0] as Stage;
    assert.deepEqual(
      all(build, "RUN").map((run) => run.args),
      [commands[0]],
      "the build stage runs exactly docs/operations.md's build command",
    );
    for (const instruction of all(runtime, "COPY"))
      assert.deepEqual(instruction.flags, [`--from=${build.name}`], "the runtime stage copies only from the build");
  });

  test("the runtime stage holds what docs/operations.md copies, where it copies it, installed as the test installs it", () => {
    assert.equal(only(runtime, "WORKDIR").args, readmeTarget);
    const shipped = all(runtime, "COPY").flatMap(({ args }) =>
      args
        .split(/\s+/)
        .slice(0, -1)
        .map((source) => source.replace(/^\/build\//, "")),
    );
    assert.deepEqual(shipped.sort(), [...copied].sort(), "the files of docs/operations.md's cp, no more and no fewer");
    assert.deepEqual(
      all(runtime, "RUN").map((run) => run.args),
      install,
      "the runtime stage's RUN is docs/operations.md's production install, word for word",
    );
    assert.deepEqual(install, ["npm ci --omit=dev"]);
  });

  test("starts the gateway with node itself, as `npm start` execs it, and stops it with SIGTERM", async () => {
    const manifest = JSON.parse(await readRepoFile("package.json")) as { scripts: Record<string, string> };
    const start = manifest.scripts["start"] ?? "";
    assert.match(start, /^exec /, "npm start execs node, so the test of npm start runs this same command");
    assert.equal(commands.at(-1), "npm start", "the production test starts the gateway with npm start");
    assert.deepEqual(execForm(only(runtime, "ENTRYPOINT")), start.replace(/^exec /, "").split(" "));
    assert.equal(all(runtime, "CMD").length, 0, "no CMD: arguments given to the container go to the gateway");
    assert.equal(only(runtime, "STOPSIGNAL").args, "SIGTERM");
  });

  test("runs as a numeric non-root user, so runAsNonRoot can verify it", () => {
    const user = only(runtime, "USER").args;
    assert.match(user, /^\d+:\d+$/);
    assert.notEqual(user.split(":")[0], "0");
  });

  test("its defaults are safe: listening beyond loopback, the gateway refuses to start without authentication", () => {
    const env = envOf(runtime);
    assert.equal(env["HOST"], "0.0.0.0", "reachable from outside the container");
    assert.throws(
      () => loadConfig(env),
      (error: unknown) => error instanceof ConfigError && error.variable === "HOST" && /AUTH_MODE/.test(error.message),
    );
    // The minimal working set of docs/deployment.md: an authentication mode and its credentials.
    const config = loadConfig({ ...env, AUTH_MODE: "api-key", API_KEYS_FILE: "/etc/permission-gateway/keys/api-keys" });
    assert.equal(config.auth.authentication.mode, "api-key");
    assert.equal(String(config.port), only(runtime, "EXPOSE").args, "EXPOSE is the port the gateway listens on");
  });

  test(".dockerignore keeps the local install and build out of the build context", async () => {
    const ignored = (await readRepoFile(".dockerignore")).split("\n").map((line) => line.trim());
    for (const path of ["node_modules/", "dist/", ".git/"]) assert.ok(ignored.includes(path), path);
  });
});

// The README is the front door: its configuration table must list every
// variable the gateway reads, and its set-up commands must be the ones the
// package really has.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { ENV_HELP } from "../src/config.js";
import { readReadme, repoRoot } from "./support/readme.js";

const readme = await readReadme();
const packageJson = JSON.parse(await readFile(new URL("package.json", repoRoot), "utf8")) as {
  scripts: Record<string, string>;
};

test("the configuration table lists every variable of --help", () => {
  for (const { name } of ENV_HELP)
    assert.ok(readme.includes(`| \`${name}\` |`), `${name} is missing from the README table`);
});

test("the set-up commands exist", () => {
  assert.match(readme, /npm ci && npm start/);
  assert.match(readme, /npm ci && npm test/);
  for (const script of ["start", "test", "bench", "fake-aws", "generate", "check:gen"]) {
    assert.ok(packageJson.scripts[script] !== undefined, `npm run ${script}`);
  }
});

// The README is the front door: its set-up commands must be the ones the
// package really has, and the configuration table it links to
// (docs/configuration.md) must list every variable the gateway reads.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { ENV_HELP } from "../src/config.js";
import { CONFIGURATION_DOC, readDoc, readReadme, repoRoot } from "./support/readme.js";

const readme = await readReadme();
const packageJson = JSON.parse(await readFile(new URL("package.json", repoRoot), "utf8")) as {
  scripts: Record<string, string>;
};

test("the configuration table lists every variable of --help", async () => {
  const table = await readDoc(CONFIGURATION_DOC);
  for (const { name } of ENV_HELP)
    assert.ok(table.includes(`| \`${name}\` |`), `${name} is missing from the table of ${CONFIGURATION_DOC}`);
});

test("the set-up commands exist", () => {
  assert.match(readme, /npm ci && npm start/);
  assert.match(readme, /npm ci && npm test/);
  for (const script of ["start", "test", "bench", "fake-aws", "generate", "check:gen"]) {
    assert.ok(packageJson.scripts[script] !== undefined, `npm run ${script}`);
  }
});

// The README's curl walk-through, run as written against a real gateway on
// the demo seed: each command must answer what the comment under it shows.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { skipWithoutCurl } from "./support/require-tool.js";
import { startTestGateway } from "./support/gateway.js";
import { readmeBlock } from "./support/readme.js";

const run = promisify(execFile);

test("the README's curl walk-through answers as the README says", async (t) => {
  if (skipWithoutCurl(t)) return;
  const block = await readmeBlock("sh", "curl -s $S/");

  // One expectation per curl command: the code in the first "# {" comment after it.
  const expected: string[] = [];
  const lines = block.split("\n");
  lines.forEach((line, i) => {
    if (!line.startsWith("curl ")) return;
    const shown = lines.slice(i + 1).find((l) => l.startsWith("# {"));
    expected.push(/"code":"(\w+)"/.exec(shown ?? "")?.[1] ?? "ok");
  });
  assert.ok(expected.length >= 6, "the walk-through has its steps");

  const gateway = await startTestGateway();
  try {
    const script = block.replaceAll("http://localhost:8080", gateway.url).replaceAll("curl -s ", "curl -s -w '\\n' ");
    const { stdout } = await run("bash", ["-c", script]);
    const answers = stdout
      .trim()
      .split("\n")
      .map((line) => /^\{"code":"(\w+)"/.exec(line)?.[1] ?? "ok");
    assert.deepEqual(answers, expected);
  } finally {
    await gateway.close();
  }
});

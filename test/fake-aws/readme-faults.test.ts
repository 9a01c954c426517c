// docs/fake.md's fault commands for the fake AWS endpoint, run as written
// (curl against a real endpoint, only the address changed): every fault it
// shows is accepted, and the listing and clearing commands answer.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { startFakeAwsServer } from "../../src/fake-aws/server.js";
import { docBlock } from "../support/readme.js";
import { skipWithoutCurl } from "../support/require-tool.js";

const run = promisify(execFile);

test("docs/fake.md's fake AWS endpoint fault commands work as written", async (t) => {
  if (skipWithoutCurl(t)) return;
  const block = await docBlock("docs/fake.md", "sh", "/__fake/faults");
  const commands = block.split("\n").filter((line) => line.startsWith("curl "));
  assert.ok(commands.length >= 8, "the block shows its faults");

  const backend = createFakeBackend();
  const server = await startFakeAwsServer({ backend });
  try {
    const script = block
      .replaceAll("localhost:4010", `127.0.0.1:${server.port}`)
      .replaceAll("curl -s ", "curl -s -o /dev/null -w '%{http_code}\\n' ");
    const { stdout } = await run("bash", ["-c", script]);
    const statuses = stdout.trim().split("\n");
    const expected = commands.map((command) =>
      command.includes("-X POST") ? "201" : command.includes("-X DELETE") ? "204" : "200",
    );
    assert.deepEqual(statuses, expected);
  } finally {
    await server.close();
    await backend.close();
  }
});

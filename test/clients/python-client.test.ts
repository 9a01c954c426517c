// The Python client of docs/clients.md, as written: generated with
// clients/buf.gen.python.local.yaml (Debian's protoc and grpc_python_plugin)
// and run against a real gateway over gRPC (h2c). The script decodes the
// NOT_FOUND's grpc-status-details-bin into google.rpc.Status itself; this
// test asserts on the JSON it prints. Skipped loudly without the Debian
// packages, a failure when REQUIRE_PYTHON_GRPC=1 (CI).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startTestGateway } from "../support/gateway.js";
import { docBlock, repoRoot } from "../support/readme.js";
import { findOnPath, skipWithoutTool } from "../support/require-tool.js";

const run = promisify(execFile);

/** docs/clients.md runs Debian's python3: a bare python3 may be pyenv's or a venv's, without grpc. */
const PYTHON = "/usr/bin/python3";

async function pythonHasGrpc(): Promise<boolean> {
  try {
    await run(PYTHON, ["-c", "import grpc, google.protobuf"], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

interface ScriptOutput {
  add: { statement: { Sid: string; Principal: unknown }; replayed: boolean }[];
  removeMissing: {
    code: string;
    statusCode: number;
    detailTypes: string[];
    errorInfo: { reason: string; domain: string; metadata: Record<string, string> }[];
  };
}

test("docs/clients.md's Python client, generated offline, calls the gateway and decodes google.rpc details", async (t) => {
  const hasGrpc = await pythonHasGrpc();
  const missing = [
    ...(hasGrpc ? [] : [`${PYTHON} with grpc (Debian python3-grpcio)`]),
    ...["protoc", "grpc_python_plugin"].filter((tool) => findOnPath(tool) === undefined),
  ];
  if (missing.length > 0) {
    return skipWithoutTool(t, "REQUIRE_PYTHON_GRPC", `not installed: ${missing.join(", ")}`);
  }
  const block = await docBlock("docs/clients.md", "sh", "clients/buf.gen.python.local.yaml");
  assert.ok(block.includes(`${PYTHON} test/clients/python/call_gateway.py`), "the doc names Debian's python3");
  const scratch = await mkdtemp(join(tmpdir(), "pg-python-client-"));
  const gateway = await startTestGateway();
  try {
    const script = block.replaceAll("127.0.0.1:8080", new URL(gateway.url).host);
    const { stdout } = await run("bash", ["-euo", "pipefail", "-c", script], {
      cwd: fileURLToPath(repoRoot),
      env: { ...process.env, TMPDIR: scratch },
      timeout: 120_000,
    });
    const output = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as ScriptOutput;

    const [first, retry] = output.add;
    assert.equal(first?.statement.Sid, "python-client");
    assert.deepEqual(first?.statement.Principal, { Service: "s3.amazonaws.com" });
    assert.equal(first?.replayed, false);
    assert.deepEqual(retry, { ...first, replayed: true }, "the retry replays the first answer");
    assert.equal(gateway.backend.callCount("AddPermission"), 1, "the replay did not reach the backend");

    const notFound = output.removeMissing;
    assert.equal(notFound.code, "NOT_FOUND");
    assert.equal(notFound.statusCode, 5, "google.rpc.Status carries the same code");
    assert.equal(notFound.errorInfo.length, 1, "exactly one ErrorInfo");
    assert.equal(notFound.errorInfo[0]?.reason, "RESOURCE_NOT_FOUND");
    assert.equal(notFound.errorInfo[0]?.domain, "lambda.amazonaws.com");
    assert.equal(notFound.errorInfo[0]?.metadata["awsErrorCode"], "ResourceNotFoundException");
    assert.ok(notFound.detailTypes.includes("google.rpc.ResourceInfo"), notFound.detailTypes.join(", "));
  } finally {
    await gateway.close();
    await rm(scratch, { recursive: true, force: true });
  }
});

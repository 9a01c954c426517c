// docs/clients.md's `buf curl --reflect` command with authentication, as
// written, against a gateway with AUTH_MODE=api-key: with the credential in
// -H and --reflect-header it is served; with -H alone the reflection call
// is refused and buf fails. buf is @bufbuild/buf in node_modules.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Gateway } from "../../src/gateway.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { docBlock, repoRoot } from "../support/readme.js";

const repo = fileURLToPath(repoRoot);
let dir: string;
let gateway: Gateway;
const key = `pgk_${randomBytes(32).toString("hex")}`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "pg-buf-curl-"));
  await writeFile(join(dir, "keys"), `${createHash("sha256").update(key).digest("hex")} buf-user\n`);
  gateway = await startConfiguredGateway({ AUTH_MODE: "api-key", API_KEYS_FILE: join(dir, "keys") });
});
after(async () => {
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

function bash(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      ["-eo", "pipefail", "-c", script],
      { cwd: repo, env: { ...process.env, KEY: key }, timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr }),
    );
  });
}

test("buf curl --reflect with --reflect-header is served by a gateway with API keys; without it, it is refused", async () => {
  const block = (await docBlock("docs/clients.md", "sh", "--reflect-header")).replaceAll(
    "http://localhost:8080",
    gateway.url,
  );
  const served = await bash(block);
  assert.equal(served.code, 0, served.stderr);
  const names = (JSON.parse(served.stdout) as { permissions: { name: string }[] }).permissions.map((p) => p.name);
  assert.ok(names.includes("AWSRAMDefaultPermissionEC2Subnet"), names.join(", "));

  const withoutReflectHeader = block.replace(/ --reflect-header "[^"]*"/, "");
  assert.notEqual(withoutReflectHeader, block);
  const refused = await bash(withoutReflectHeader);
  assert.notEqual(refused.code, 0, "buf cannot reflect without the credential");
  assert.equal(refused.stdout, "");
});

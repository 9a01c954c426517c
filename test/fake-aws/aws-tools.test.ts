// docs/fake-aws.md as written: its AWS CLI block with each AWS CLI found
// (Debian's /usr/bin/aws, 2.9 on Debian 12, and the one on PATH, which may be
// v1), and its boto3 script with Debian's /usr/bin/python3, against a fake
// AWS endpoint with the demo seed on a free port. Skipped loudly without
// them, a failure when REQUIRE_AWSCLI=1 (CI).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { realpathSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { promisify } from "node:util";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { startFakeAwsServer, type FakeAwsServer } from "../../src/fake-aws/server.js";
import { docBlock } from "../support/readme.js";
import { findOnPath, skipWithoutTool } from "../support/require-tool.js";

const run = promisify(execFile);
const DOC = "docs/fake-aws.md";
const DOC_ENDPOINT = "http://127.0.0.1:4010";

/** Each distinct AWS CLI that runs here: [path, version line]. */
async function awsClis(): Promise<[string, string][]> {
  const found = new Map<string, [string, string]>();
  for (const candidate of ["/usr/bin/aws", findOnPath("aws")]) {
    if (candidate === undefined) continue;
    try {
      const { stdout, stderr } = await run(candidate, ["--version"], { timeout: 60_000 });
      const version = (stdout + stderr).trim();
      found.set(version, [realpathSync(candidate), version]);
    } catch {
      // not installed, or a shim without a CLI behind it
    }
  }
  return [...found.values()];
}

async function withFakeAws<T>(body: (server: FakeAwsServer) => Promise<T>): Promise<T> {
  const backend = createFakeBackend();
  const server = await startFakeAwsServer({ backend, host: "127.0.0.1", port: 0 });
  try {
    return await body(server);
  } finally {
    await server.close();
    await backend.close();
  }
}

/** A clean environment: no AWS settings of the machine's own, nothing but what the doc sets. */
function cleanEnv(path: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: path, HOME: process.env["HOME"] ?? "/tmp" };
  return env;
}

function skipWithout(t: TestContext, what: string): void {
  skipWithoutTool(t, "REQUIRE_AWSCLI", `not installed: ${what} (Debian: apt-get install awscli python3-boto3)`);
}

describe("docs/fake-aws.md", () => {
  test("the AWS CLI block runs against the fake AWS endpoint with each AWS CLI found", async (t) => {
    const clis = await awsClis();
    if (clis.length === 0) return skipWithout(t, "aws");
    const block = await docBlock(DOC, "sh", "aws --endpoint-url");
    for (const [cli, version] of clis) {
      await withFakeAws(async (server) => {
        const scratch = await mkdtemp(join(tmpdir(), "pg-awscli-"));
        try {
          // "aws" in the doc is this CLI; nothing else of the machine's AWS set-up is seen.
          const bin = join(scratch, "bin");
          await mkdir(bin);
          await symlink(cli, join(bin, "aws"));
          const { stdout } = await run("bash", ["-euo", "pipefail", "-c", block.replaceAll(DOC_ENDPOINT, server.url)], {
            cwd: scratch,
            env: { ...cleanEnv(`${bin}${delimiter}/usr/bin${delimiter}/bin`), HOME: scratch },
            timeout: 180_000,
          });
          assert.match(stdout, /"Statement": "\{\\"Sid\\":\\"from-cli\\"/, version);
          assert.match(stdout, /"name": "AWSRAMDefaultPermissionEC2Subnet"/, version);
          assert.match(stdout, /demo-permission\s+demo-attached/, version);
          assert.equal(server.callCount("RemovePermission"), 1, `${version}: the calls reached the fake, not AWS`);
          assert.equal(server.callCount("AddPermission"), 1, version);
        } finally {
          await rm(scratch, { recursive: true, force: true });
        }
      });
    }
  });

  test("the boto3 script runs with Debian's python3 against the fake AWS endpoint", async (t) => {
    try {
      await run("/usr/bin/python3", ["-c", "import boto3"], { timeout: 60_000 });
    } catch {
      return skipWithout(t, "boto3 for /usr/bin/python3");
    }
    const script = await docBlock(DOC, "python", "import boto3");
    await withFakeAws(async (server) => {
      const scratch = await mkdtemp(join(tmpdir(), "pg-boto3-"));
      try {
        await writeFile(join(scratch, "fake_aws.py"), script.replaceAll(DOC_ENDPOINT, server.url));
        const { stdout } = await run("/usr/bin/python3", ["fake_aws.py"], {
          cwd: scratch,
          env: { ...cleanEnv("/usr/bin:/bin"), HOME: scratch },
          timeout: 120_000,
        });
        assert.deepEqual(JSON.parse(stdout.trim().split("\n").at(-1) ?? ""), {
          added: "from-boto3",
          sids: ["from-boto3"],
          missing: "ResourceNotFoundException",
          ram: "AWSRAMDefaultPermissionEC2Subnet",
        });
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    });
  });
});

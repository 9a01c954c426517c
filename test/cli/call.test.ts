// `permission-gateway call` (src/cli/) as a process, as a person runs it,
// against real gateways on loopback: each protocol's answer and its errors
// with their google.rpc details decoded, the API-key and mTLS options
// (command-line mistakes: usage.test.ts, in-process).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Gateway } from "../../src/gateway.js";
import { createTestCa, skipWithoutOpenssl, type IssuedCertificate, type TestCa } from "../auth/support/pki.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { buildDist } from "../process/gateway-process.js";
import { docBlock, repoRoot } from "../support/readme.js";

const repo = fileURLToPath(repoRoot);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `permission-gateway <args>`, from the source under tsx (the build runs the same code). */
function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", ...args],
      { cwd: repo, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface ErrorOutput {
  code: string;
  message: string;
  details: ({ "@type": string } & Record<string, unknown>)[];
}

function errorOf(run: Run): ErrorOutput {
  assert.equal(run.code, 1, `exit 1 on an RPC error; stderr: ${run.stderr}`);
  assert.equal(run.stdout, "");
  return JSON.parse(run.stderr) as ErrorOutput;
}

function detail(error: ErrorOutput, type: string): Record<string, unknown> {
  const found = error.details.filter((d) => d["@type"] === `type.googleapis.com/google.rpc.${type}`);
  assert.equal(found.length, 1, `one ${type} in ${JSON.stringify(error.details)}`);
  return found[0]!;
}

describe("permission-gateway call", () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway();
  });
  after(() => gateway.close());

  for (const protocol of ["connect", "grpc", "grpc-web"]) {
    test(`${protocol}: prints the response as JSON, and an error with its ErrorInfo and ResourceInfo decoded`, async () => {
      const ok = await cli(
        "call",
        "GetRamPermission",
        '{"permissionArn":"arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet"}',
        "--url",
        gateway.url,
        "--protocol",
        protocol,
      );
      assert.equal(ok.code, 0, ok.stderr);
      const response = JSON.parse(ok.stdout) as { permission: { name: string; permissionType: string } };
      assert.equal(response.permission.name, "AWSRAMDefaultPermissionEC2Subnet");
      assert.equal(response.permission.permissionType, "PERMISSION_TYPE_AWS_MANAGED");

      const error = errorOf(
        await cli(
          "call",
          "permission.v1.PermissionService/RemoveLambdaPermission",
          '{"functionName":"demo","statementId":"not-there"}',
          "--url",
          gateway.url,
          "--protocol",
          protocol,
        ),
      );
      assert.equal(error.code, "NOT_FOUND");
      assert.equal(error.message, "No policy is associated with the given resource.");
      const info = detail(error, "ErrorInfo") as { reason: string; domain: string; metadata: Record<string, string> };
      assert.equal(info.reason, "RESOURCE_NOT_FOUND");
      assert.equal(info.domain, "lambda.amazonaws.com");
      assert.equal(info.metadata["awsErrorCode"], "ResourceNotFoundException");
      assert.equal(detail(error, "ResourceInfo")["resourceName"], "demo");
    });
  }

  test("BadRequest field violations, PreconditionFailure and RetryInfo are decoded", async () => {
    const bad = errorOf(
      await cli(
        "call",
        "AddLambdaPermission",
        '{"functionName":"demo","statementId":"bad id!","action":"lambda:InvokeFunction","principal":"s3.amazonaws.com"}',
        "--url",
        gateway.url,
        "--protocol",
        "grpc",
      ),
    );
    assert.equal(bad.code, "INVALID_ARGUMENT");
    assert.equal(detail(bad, "ErrorInfo")["reason"], "INVALID_REQUEST");
    const violations = detail(bad, "BadRequest")["fieldViolations"] as { field: string; description: string }[];
    assert.deepEqual(
      violations.map((v) => v.field),
      ["statementId"],
    );

    const attached = errorOf(
      await cli(
        "call",
        "DeleteRamPermission",
        '{"permissionArn":"arn:aws:ram:us-east-1:123456789012:permission/demo-attached"}',
        "--url",
        gateway.url,
      ),
    );
    assert.equal(attached.code, "FAILED_PRECONDITION");
    assert.equal(detail(attached, "ErrorInfo")["reason"], "OPERATION_NOT_PERMITTED");
    assert.ok(Array.isArray(detail(attached, "PreconditionFailure")["violations"]));

    gateway.backend.setFaults({ errorRate: 1, operations: ["GetPolicy"] });
    try {
      const throttled = errorOf(
        await cli("call", "GetLambdaPolicy", '{"functionName":"demo"}', "--url", gateway.url, "--protocol", "grpc-web"),
      );
      assert.equal(throttled.code, "RESOURCE_EXHAUSTED");
      assert.equal(detail(throttled, "ErrorInfo")["reason"], "TOO_MANY_REQUESTS");
      assert.match(String(detail(throttled, "RetryInfo")["retryDelay"]), /^\d+(\.\d+)?s$/);
    } finally {
      gateway.backend.setFaults({});
    }
  });

  test("docs/clients.md's lines, npm run call and npx permission-gateway, run from the build", async () => {
    await buildDist();
    await chmod(join(repo, "dist/src/cli/main.js"), 0o755); // as npm run build does
    const lines = (await docBlock("docs/clients.md", "sh", "npm run call --")).split("\n").filter((l) => l.trim());
    assert.equal(lines.length, 2);
    for (const line of lines) {
      const run = await new Promise<Run>((resolve) =>
        execFile(
          "bash",
          ["-c", `${line} --url ${gateway.url}`],
          { cwd: repo, timeout: 120_000 },
          (error, stdout, stderr) =>
            resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr }),
        ),
      );
      assert.equal(run.code, 1, `${line}: ${run.stderr}`);
      assert.match(run.stderr, /"reason": "RESOURCE_NOT_FOUND"/, line);
    }
  });

  test("a gateway that cannot be reached is UNAVAILABLE, exit 1", async () => {
    const closed = await startTestGateway();
    await closed.close();
    const error = errorOf(await cli("call", "GetLambdaPolicy", '{"functionName":"demo"}', "--url", closed.url));
    assert.equal(error.code, "UNAVAILABLE");
    assert.match(error.message, /ECONNREFUSED/);
  });
});

describe("permission-gateway call with credentials", () => {
  let dir: string;
  let gateway: Gateway;
  const key = `pgk_${randomBytes(32).toString("hex")}`;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pg-cli-auth-"));
    await writeFile(join(dir, "keys"), `${createHash("sha256").update(key).digest("hex")} cli-user ops\n`);
    await writeFile(join(dir, "token"), `${key}\n`);
    gateway = await startConfiguredGateway({ AUTH_MODE: "api-key", API_KEYS_FILE: join(dir, "keys") });
  });
  after(async () => {
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("an API key by --token or --token-file is accepted; none is UNAUTHENTICATED with its reason", async () => {
    for (const protocol of ["connect", "grpc"]) {
      for (const credential of [
        ["--token", key],
        ["--token-file", join(dir, "token")],
      ]) {
        const ok = await cli(
          "call",
          "ListRamPermissions",
          "{}",
          "--url",
          gateway.url,
          "--protocol",
          protocol,
          ...credential,
        );
        assert.equal(ok.code, 0, `${protocol} ${credential[0]}: ${ok.stderr}`);
        assert.ok(Array.isArray((JSON.parse(ok.stdout) as { permissions: unknown[] }).permissions));
      }
      const refused = errorOf(await cli("call", "ListRamPermissions", "--url", gateway.url, "--protocol", protocol));
      assert.equal(refused.code, "UNAUTHENTICATED");
      assert.equal(detail(refused, "ErrorInfo")["reason"], "CREDENTIALS_MISSING");
    }
  });
});

describe("permission-gateway call over mutual TLS", () => {
  let dir: string;
  let gateway: Gateway | undefined;
  let serverCa: TestCa;
  let client: IssuedCertificate;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pg-cli-mtls-"));
    try {
      serverCa = await createTestCa(dir, "server-ca");
      const clientCa = await createTestCa(dir, "client-ca");
      client = await clientCa.issue("cli", { uris: ["spiffe://example.org/cli"], usage: "client" });
      const server = await serverCa.issue("gateway", { dns: ["localhost"], ips: ["127.0.0.1"], usage: "server" });
      gateway = await startConfiguredGateway({
        AUTH_MODE: "mtls",
        TLS_CERT_FILE: server.certPath,
        TLS_KEY_FILE: server.keyPath,
        TLS_CLIENT_CA_FILE: clientCa.certPath,
      });
    } catch {
      // openssl missing: the test skips (or fails with REQUIRE_OPENSSL)
    }
  });
  after(async () => {
    await gateway?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("--cert, --key and --cacert make the call over each protocol; without a certificate it is UNAUTHENTICATED", async (t) => {
    if (skipWithoutOpenssl(t) || gateway === undefined) return;
    const url = gateway.url;
    assert.match(url, /^https:/);
    for (const protocol of ["connect", "grpc", "grpc-web"]) {
      const tls = ["--cert", client.certPath, "--key", client.keyPath, "--cacert", serverCa.certPath];
      const ok = await cli("call", "ListRamPermissions", "--url", url, "--protocol", protocol, ...tls);
      assert.equal(ok.code, 0, `${protocol}: ${ok.stderr}`);
      const refused = errorOf(
        await cli("call", "ListRamPermissions", "--url", url, "--protocol", protocol, "--cacert", serverCa.certPath),
      );
      assert.equal(refused.code, "UNAUTHENTICATED", protocol);
    }
    const half = await cli("call", "ListRamPermissions", "--url", url, "--cert", client.certPath);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /--cert and --key go together/);
  });
});

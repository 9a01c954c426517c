// The Go and Java blocks of docs/clients.md, run as written with the local
// templates and Debian's plugins: Go generates; Java generates (with
// com.google.rpc), compiles against Debian's jars with
// test/clients/java/CallGateway.java and calls a real gateway, decoding the
// error's com.google.rpc.Status. The remote templates (buf.build,
// unreachable here) must lay out the same files as their local twins.
// Skipped loudly without the tools, a failure when REQUIRE_CLIENT_CODEGEN=1 (CI).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startTestGateway } from "../support/gateway.js";
import { docBlock, repoRoot } from "../support/readme.js";
import { findOnPath, skipWithoutTool } from "../support/require-tool.js";

const run = promisify(execFile);
const DOC = "docs/clients.md";
const repo = fileURLToPath(repoRoot);

/** Runs a doc block with bash in the repository; its mktemp -d lands in a scratch dir, removed after. */
async function runBlock(block: string, check: (stdout: string, out: string) => Promise<void>): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), "pg-client-"));
  try {
    const { stdout } = await run("bash", ["-euo", "pipefail", "-c", block], {
      cwd: repo,
      env: { ...process.env, TMPDIR: scratch },
      timeout: 280_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    // mktemp -d names its directory tmp.XXXXXXXXXX (node may add a compile cache beside it).
    const made = (await readdir(scratch)).filter((name) => name.startsWith("tmp."));
    assert.equal(made.length, 1, "the block made its $OUT with mktemp -d");
    const out = made[0] ?? "";
    await check(stdout, join(scratch, out));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function contains(file: string, line: string): Promise<void> {
  assert.ok((await readFile(file, "utf8")).includes(line), `${file} contains ${line}`);
}

describe("client templates", () => {
  test("docs/clients.md's Go block generates with the local template", async (t) => {
    const missing = ["protoc-gen-go", "protoc-gen-go-grpc"].filter((tool) => findOnPath(tool) === undefined);
    if (missing.length > 0) return skipWithoutTool(t, "REQUIRE_CLIENT_CODEGEN", `not installed: ${missing.join(", ")}`);
    await runBlock(await docBlock(DOC, "sh", "clients/buf.gen.go.local.yaml"), async (stdout, out) => {
      assert.deepEqual(stdout.trim().split(/\s+/).sort(), ["permission.pb.go", "permission_grpc.pb.go"]);
      await contains(join(out, "go/permission/v1/permission.pb.go"), "package permissionv1");
      await contains(join(out, "go/permission/v1/permission_grpc.pb.go"), "type PermissionServiceClient interface {");
    });
  });

  test("docs/clients.md's Java block generates, compiles against Debian's jars and decodes com.google.rpc.Status from a gateway", async (t) => {
    const block = await docBlock(DOC, "sh", "clients/buf.gen.java.local.yaml");
    // The jars the block's classpath names (printf '/usr/share/java/%s.jar:' <names>).
    const names = /printf '\/usr\/share\/java\/%s\.jar:' ([^)]*)\)/
      .exec(block)?.[1]
      ?.split(/[\s\\]+/)
      .filter(Boolean);
    assert.ok(names !== undefined && names.length > 0, "the block lists its jars");
    const missing = [
      ...["protoc", "grpc_java_plugin", "javac", "java"].filter((tool) => findOnPath(tool) === undefined),
      ...names.map((name) => `/usr/share/java/${name}.jar`).filter((jar) => !existsSync(jar)),
    ];
    if (missing.length > 0) return skipWithoutTool(t, "REQUIRE_CLIENT_CODEGEN", `not installed: ${missing.join(", ")}`);
    const gateway = await startTestGateway();
    try {
      await runBlock(block.replaceAll("127.0.0.1:8080", new URL(gateway.url).host), async (stdout, out) => {
        const java = join(out, "java");
        await contains(
          join(java, "com/permissiongateway/permission/v1/PermissionServiceGrpc.java"),
          "package com.permissiongateway.permission.v1;",
        );
        await contains(
          join(java, "com/permissiongateway/permission/v1/RemoveLambdaPermissionRequest.java"),
          "public final class RemoveLambdaPermissionRequest extends",
        );
        await contains(join(java, "com/google/rpc/Status.java"), "public final class Status extends");
        await contains(join(java, "com/google/rpc/ErrorInfo.java"), "public final class ErrorInfo extends");
        assert.equal(
          stdout.trim().split("\n").at(-1),
          "permissions=7 code=NOT_FOUND reason=RESOURCE_NOT_FOUND domain=lambda.amazonaws.com awsErrorCode=ResourceNotFoundException",
        );
      });
      assert.equal(gateway.backend.callCount("RemovePermission"), 1, "the Java client's call reached the gateway");
    } finally {
      await gateway.close();
    }
  });

  test("every remote template lays out the same files as its local twin", async () => {
    const templates = (await readdir(join(repo, "clients"))).filter((file) => /^buf\.gen\.\w+\.yaml$/.test(file));
    assert.deepEqual(templates.sort(), ["buf.gen.go.yaml", "buf.gen.java.yaml", "buf.gen.python.yaml"]);
    for (const remote of templates) {
      const local = remote.replace(/\.yaml$/, ".local.yaml");
      const [remoteLayout, localLayout] = await Promise.all([layout(remote), layout(local)]);
      assert.deepEqual(remoteLayout, localLayout, `${remote} and ${local} differ beyond their plugins`);
      assert.ok((await readFile(join(repo, "clients", remote), "utf8")).includes("remote: buf.build/"), remote);
    }
  });
});

/** A template without comments and plugin names: inputs, outputs and options. */
async function layout(file: string): Promise<string[]> {
  const text = await readFile(join(repo, "clients", file), "utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"))
    .map((line) => line.replace(/^(\s*)- (remote|local|protoc_builtin): .*$/, "$1- plugin"));
}

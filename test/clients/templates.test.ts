// The Go and Java templates of the README: the local ones generate here, as
// the README runs them, with Debian's plugins; the remote ones (buf.build,
// unreachable here) must lay out the same files as their local twins. The
// Java code is compiled against Debian's protobuf and grpc-java jars.
// Skipped loudly without the tools, a failure when REQUIRE_CLIENT_CODEGEN=1 (CI).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { access, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { readmeBlock, repoRoot } from "../support/readme.js";
import { findOnPath, skipWithoutTool } from "../support/require-tool.js";

const run = promisify(execFile);

interface Language {
  readonly name: "go" | "java";
  /** Programs on PATH and files the test needs. */
  readonly tools: readonly string[];
  readonly files?: readonly string[];
  /** Generated file (under $OUT) -> a line it must contain. */
  readonly expected: Readonly<Record<string, string>>;
  /** Proves the generated code builds against the language's runtime. */
  readonly build?: (out: string) => Promise<void>;
}

// Debian's protobuf and grpc-java runtimes (libprotobuf-java, libgrpc-java).
const javaClasspath = [
  "protobuf",
  "grpc-api",
  "grpc-stub",
  "grpc-protobuf",
  "grpc-protobuf-lite",
  "guava",
  "geronimo-annotation-1.3-spec",
].map((name) => `/usr/share/java/${name}.jar`);

async function compileJava(out: string): Promise<void> {
  const sources = (await readdir(join(out, "java"), { recursive: true })).filter((file) => file.endsWith(".java"));
  assert.ok(sources.length > 0, "Java sources were generated");
  await run(
    "javac",
    [
      "-nowarn",
      "-d",
      join(out, "classes"),
      "-cp",
      javaClasspath.join(":"),
      ...sources.map((file) => join(out, "java", file)),
    ],
    {
      timeout: 300_000,
    },
  );
  await access(
    join(out, "classes/com/permissiongateway/permission/v1/PermissionServiceGrpc$PermissionServiceBlockingStub.class"),
  );
}

const languages: readonly Language[] = [
  {
    name: "go",
    tools: ["protoc-gen-go", "protoc-gen-go-grpc"],
    expected: {
      "go/permission/v1/permission.pb.go": "package permissionv1",
      "go/permission/v1/permission_grpc.pb.go": "type PermissionServiceClient interface {",
    },
  },
  {
    name: "java",
    tools: ["protoc", "grpc_java_plugin", "javac"],
    files: javaClasspath,
    expected: {
      "java/com/permissiongateway/permission/v1/PermissionServiceGrpc.java":
        "package com.permissiongateway.permission.v1;",
      // java_multiple_files: one file per message, beside the outer class.
      "java/com/permissiongateway/permission/v1/RemoveLambdaPermissionRequest.java":
        "public final class RemoveLambdaPermissionRequest extends",
      "java/com/permissiongateway/permission/v1/PermissionProto.java": "public final class PermissionProto {",
    },
    build: compileJava,
  },
];

const repo = fileURLToPath(repoRoot);

describe("client templates", () => {
  for (const language of languages) {
    test(`the README's ${language.name} command generates with the local template${language.build ? ", and the code compiles" : ""}`, async (t) => {
      const missing = [
        ...language.tools.filter((tool) => findOnPath(tool) === undefined),
        ...(language.files ?? []).filter((file) => !existsSync(file)),
      ];
      if (missing.length > 0)
        return skipWithoutTool(t, "REQUIRE_CLIENT_CODEGEN", `not installed: ${missing.join(", ")}`);
      const template = `clients/buf.gen.${language.name}.local.yaml`;
      const command = (await readmeBlock("sh", template)).split("\n").find((line) => line.includes(template));
      assert.ok(command !== undefined);
      const out = await mkdtemp(join(tmpdir(), `pg-${language.name}-client-`));
      try {
        await run("bash", ["-euo", "pipefail", "-c", command], {
          cwd: repo,
          env: { ...process.env, OUT: out },
          timeout: 120_000,
        });
        for (const [file, line] of Object.entries(language.expected)) {
          const text = await readFile(join(out, file), "utf8");
          assert.ok(text.includes(line), `${file} contains ${line}`);
        }
        await language.build?.(out);
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    });
  }

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

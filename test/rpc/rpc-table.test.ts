// The RPC table against the generated service: one row per method, each for
// its own method, with mutation read from the proto; and the typecheck that
// refuses a table with a row missing (test/rpc/rpc-table.type-test.ts, run
// here through tsc with its `@ts-expect-error` lines taken out).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, test } from "node:test";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { rowOf, rpcTable } from "../../src/rpc/rpc-table.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("the RPC table", () => {
  test("has exactly one row per method of PermissionService, each for its own method", () => {
    assert.deepEqual(Object.keys(rpcTable).sort(), Object.keys(PermissionService.method).sort());
    assert.equal(Object.keys(rpcTable).length, PermissionService.methods.length);
    for (const method of PermissionService.methods) {
      assert.equal(rowOf(method.localName)?.method, method, method.name);
    }
    assert.equal(rowOf("toString"), undefined, "only the table's own rows");
  });

  test("a row mutates unless its method is NO_SIDE_EFFECTS in the proto", () => {
    const reads = PermissionService.methods.filter((m) => rowOf(m.localName)?.mutation === false).map((m) => m.name);
    assert.deepEqual(reads.sort(), ["GetLambdaPolicy", "GetRamPermission", "ListRamPermissions"]);
    for (const method of PermissionService.methods) {
      const read = method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
      assert.equal(rowOf(method.localName)?.mutation, !read, method.name);
    }
  });

  test("the typecheck fails when a row is missing, extra, for another method, or an RPC name is not the proto's", async (t) => {
    await mkdir(join(root, "tmp"), { recursive: true });
    const dir = await mkdtemp(join(root, "tmp", "rpc-table-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const fixture = await readFile(join(root, "test/rpc/rpc-table.type-test.ts"), "utf8");
    const unguarded = fixture
      .replace(/^\s*\/\/ @ts-expect-error.*$/gm, "")
      .replaceAll("../../src/", join(root, "src") + "/");
    await writeFile(join(dir, "unguarded.ts"), unguarded);
    await writeFile(
      join(dir, "tsconfig.json"),
      JSON.stringify({ extends: join(root, "tsconfig.json"), include: ["unguarded.ts"] }),
    );
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const result = await promisify(execFile)(process.execPath, [tsc, "--noEmit", "-p", dir]).then(
      () => ({ failed: false, stdout: "" }),
      (error: { stdout?: string }) => ({ failed: true, stdout: error.stdout ?? "" }),
    );
    assert.ok(result.failed, "tsc accepted the table without its guards");
    const errors = result.stdout.split("\n").filter((line) => line.includes("error TS"));
    assert.match(errors.join("\n"), /Property 'getRamPermission' is missing/);
    assert.match(errors.join("\n"), /'shareLambdaPermission' does not exist in type 'RpcTable'/);
    assert.match(errors.join("\n"), /"ShareLambdaPermission"' is not assignable to type/);
    // One error per guarded line, and none elsewhere.
    assert.equal(errors.length, (fixture.match(/^\s*\/\/ @ts-expect-error/gm) ?? []).length, errors.join("\n"));
  });
});

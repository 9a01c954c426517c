// withTimeout: the work's outcome when it settles first, the timeout's
// otherwise (returned or thrown), and no timer left behind either way.
import assert from "node:assert/strict";
import { test } from "node:test";
import { withTimeout } from "../../src/util/with-timeout.js";

const never = new Promise<string>(() => {});

test("the work's value or error when it settles before the timeout", async () => {
  assert.equal(await withTimeout(Promise.resolve("done"), 10_000, () => "late"), "done");
  await assert.rejects(
    withTimeout(Promise.reject(new Error("broke")), 10_000, () => "late"),
    /broke/,
  );
});

test("what onTimeout returns, or throws, when the work is still running", async () => {
  assert.equal(await withTimeout(never, 1, () => "late"), "late");
  await assert.rejects(
    withTimeout(never, 1, () => {
      throw new RangeError("took too long");
    }),
    RangeError,
  );
});

test("the timer is cleared when the work wins: the process has nothing left to wait for", async () => {
  const before = process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
  await withTimeout(Promise.resolve(1), 60_000, () => 0);
  const after = process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
  assert.equal(after, before);
});

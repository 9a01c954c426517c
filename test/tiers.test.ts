// The tier list (test/support/tiers.ts) stays true: every entry names test
// files that exist, and the two tiers split the suite with nothing lost.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SLOW_TESTS, allTestFiles, isSlow, testFiles } from "./support/tiers.js";

test("every slow-tier entry names existing test files, and fast + slow is the whole suite", () => {
  const all = allTestFiles();
  for (const entry of SLOW_TESTS)
    assert.ok(
      all.some((file) => isSlow(file) && (entry.endsWith("/") ? file.startsWith(entry) : file === entry)),
      `${entry} matches no test file`,
    );
  const fast = testFiles("fast");
  const slow = testFiles("slow");
  assert.ok(fast.length > 0 && slow.length > 0);
  assert.deepEqual([...fast, ...slow].sort(), all);
  assert.ok(!fast.some((file) => slow.includes(file)));
  assert.ok(fast.includes("test/tiers.test.ts"));
});

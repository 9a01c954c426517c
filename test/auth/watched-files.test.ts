// watchFiles on its own: what a reload reports, what it logs, and that a
// file that goes missing or empty keeps the last good value.
import assert from "node:assert/strict";
import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { watchFiles } from "../../src/auth/watched-files.js";
import { createRecordingLogger } from "../support/recording-logger.js";

test("reload reports changes, keeps the last good value through missing, empty and invalid files, and logs each problem once", async () => {
  const dir = await mkdtemp(join(tmpdir(), "pg-watch-"));
  const path = join(dir, "number");
  await writeFile(path, "1");
  const logger = createRecordingLogger();
  const source = await watchFiles({
    what: "number",
    files: [{ variable: "NUMBER_FILE", path }],
    parse: ([contents]) => {
      const value = Number(contents?.toString("utf8"));
      if (!Number.isInteger(value)) throw new Error("not an integer");
      return value;
    },
    logger,
    pollIntervalMs: 0,
  });
  try {
    const seen: number[] = [];
    const unsubscribe = source.onChange((value) => seen.push(value));
    assert.equal(source.current(), 1);
    assert.equal(await source.reload(), false, "unchanged");

    await writeFile(path, "2");
    assert.equal(await source.reload(), true);
    assert.equal(source.current(), 2);

    await unlink(path);
    assert.deepEqual(await Promise.all([source.reload(), source.reload(), source.reload()]), [false, false, false]);
    await writeFile(path, "");
    assert.equal(await source.reload(), false);
    await writeFile(path, "two");
    assert.equal(await source.reload(), false);
    assert.equal(source.current(), 2, "the last good value stays");
    const errors = logger.lines.filter((line) => line.level === "error").map((line) => line.message);
    assert.deepEqual(errors, [
      "number: cannot read, keeping the previous one",
      "number: cannot read, keeping the previous one",
      "number changed but is not valid, keeping the previous one",
    ]);

    await writeFile(path, "3");
    assert.equal(await source.reload(), true);
    unsubscribe();
    await writeFile(path, "4");
    assert.equal(await source.reload(), true);
    assert.deepEqual(seen, [2, 3], "listeners hear each change until they unsubscribe");
  } finally {
    source.close();
    await rm(dir, { recursive: true, force: true });
  }
});

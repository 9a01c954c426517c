// The audit sink on a real file and on a stream standing for stdout: one
// JSON line per event, appended after what the file held, every write out
// before close() resolves, and failures reported rather than crashing.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { describe, test, type TestContext } from "node:test";
import { buildAuditEvent, type AuditEvent } from "../../src/audit/event.js";
import { AuditSinkError, createAuditSink } from "../../src/audit/sink.js";
import { silentLogger } from "../../src/logger.js";
import { createRecordingLogger } from "../support/recording-logger.js";
import { DEV_FULL, skipWithoutDevFull } from "./dev-full.js";

const event = (n: number): AuditEvent =>
  buildAuditEvent({
    time: 0,
    id: `call-${n}`,
    rpc: "RemoveLambdaPermission",
    tokens: {},
    code: undefined,
    replayed: false,
    durationMs: n,
  });

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pg-audit-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("audit sink", () => {
  test("a file gets one JSON line per event, appended, all written when close() resolves", async (t) => {
    const file = join(await tempDir(t), "audit.jsonl");
    await writeFile(file, '{"earlier":true}\n');
    const sink = await createAuditSink({ target: { file }, logger: silentLogger });
    const writes = Array.from({ length: 500 }, (_, n) => sink.write(event(n)));
    await sink.close();
    await Promise.all(writes);
    const lines = (await readFile(file, "utf8")).split("\n");
    assert.equal(lines.pop(), "", "the file ends with a newline");
    assert.deepEqual(JSON.parse(lines[0] ?? ""), { earlier: true });
    assert.deepEqual(
      lines.slice(1).map((line) => (JSON.parse(line) as AuditEvent).durationMs),
      Array.from({ length: 500 }, (_, n) => n),
    );
    await assert.rejects(
      sink.write(event(0)),
      (error: unknown) => error instanceof AuditSinkError && /is closed/.test(error.message),
    );
  });

  test("a write resolves once its line is out", async (t) => {
    const file = join(await tempDir(t), "audit.jsonl");
    const sink = await createAuditSink({ target: { file }, logger: silentLogger });
    t.after(() => sink.close());
    await sink.write(event(7));
    assert.equal((JSON.parse(await readFile(file, "utf8")) as AuditEvent).durationMs, 7);
  });

  test("a file that cannot be opened stops start-up with the path and the reason", async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(
      createAuditSink({ target: { file: join(dir, "no-such-dir", "audit.jsonl") }, logger: silentLogger }),
      (error: unknown) =>
        error instanceof AuditSinkError &&
        /no-such-dir\/audit\.jsonl: cannot be opened for appending: ENOENT/.test(error.message),
    );
    await assert.rejects(
      createAuditSink({ target: { file: dir }, logger: silentLogger }),
      (error: unknown) =>
        error instanceof AuditSinkError && /cannot be opened for appending: EISDIR/.test(error.message),
    );
  });

  test("stdout: lines go to the stream, which stays open after close()", async () => {
    const stdout = new PassThrough();
    const chunks: string[] = [];
    stdout.on("data", (chunk: Buffer) => chunks.push(chunk.toString("utf8")));
    const sink = await createAuditSink({ target: "stdout", logger: silentLogger, stdout });
    await sink.write(event(1));
    await sink.write(event(2));
    await sink.close();
    assert.equal(stdout.writableEnded, false);
    assert.deepEqual(
      chunks
        .join("")
        .trimEnd()
        .split("\n")
        .map((line) => (JSON.parse(line) as AuditEvent).durationMs),
      [1, 2],
    );
  });

  test("a failing stream rejects the write and is logged, without crashing the process", async () => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error("disk full"));
      },
    });
    const logger = createRecordingLogger();
    const sink = await createAuditSink({ target: "stdout", logger, stdout: broken });
    await assert.rejects(
      sink.write(event(1)),
      (error: unknown) => error instanceof AuditSinkError && /disk full/.test(error.message),
    );
    await sink.close();
    assert.ok(logger.lines.some((entry) => entry.level === "error" && entry.message === "audit sink failed"));
  });

  test("a file that fails is opened again on the next write: the path may lead to a writable file by then", async (t) => {
    if (skipWithoutDevFull(t)) return;
    const dir = await tempDir(t);
    const path = join(dir, "audit.jsonl");
    await symlink(DEV_FULL, path);
    const sink = await createAuditSink({ target: { file: path }, logger: silentLogger });
    t.after(() => sink.close());
    await assert.rejects(
      sink.write(event(1)),
      (error: unknown) => error instanceof AuditSinkError && /write failed: ENOSPC/.test(error.message),
    );
    await assert.rejects(sink.write(event(2)), /ENOSPC/, "still full");
    await unlink(path);
    await symlink(join(dir, "real.jsonl"), path);
    await sink.write(event(3));
    assert.equal((JSON.parse(await readFile(join(dir, "real.jsonl"), "utf8")) as AuditEvent).durationMs, 3);
  });

  test("a write that does not finish in time is rejected, and so is every write to a stream that died", async () => {
    const stuck = new Writable({ write: () => undefined }); // never calls back: a hung disk, a pipe nobody reads
    const sink = await createAuditSink({ target: "stdout", logger: silentLogger, stdout: stuck, writeTimeoutMs: 20 });
    await assert.rejects(
      sink.write(event(1)),
      (error: unknown) => error instanceof AuditSinkError && /not done within 20 ms/.test(error.message),
    );
    await sink.close(); // gives up on the hung write rather than holding shutdown

    const reader = new PassThrough();
    const dead = await createAuditSink({ target: "stdout", logger: silentLogger, stdout: reader });
    reader.destroy(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    await assert.rejects(
      dead.write(event(2)),
      (error: unknown) => error instanceof AuditSinkError && /EPIPE/.test(error.message),
    );
    await dead.close();
  });
});

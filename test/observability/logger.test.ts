// The Logger port on pino: JSON lines with the level names and fields the
// code base relies on, errors with their cause, secrets censored, and the
// default destination (stderr, written asynchronously) flushed when the
// process exits.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { promisify } from "node:util";
import { LOG_LEVELS, REDACTED, createJsonLogger, createLogger, type LogLevel } from "../../src/logger.js";

const run = promisify(execFile);

function recording(level: LogLevel, redact?: string[]) {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const logger = createLogger({
    level,
    redact,
    destination: {
      write(chunk: string) {
        raw.push(chunk);
        lines.push(JSON.parse(chunk) as Record<string, unknown>);
      },
    },
  });
  return { logger, lines, raw };
}

test("one JSON line per entry: time, level name, message, fields", () => {
  const { logger, lines, raw } = recording("debug");
  logger.debug("a", { n: 1 });
  logger.info("b");
  logger.warn("c", { nested: { ok: true } });
  logger.error("d", { list: [1, 2] });
  assert.deepEqual(
    lines.map((l) => [l["level"], l["message"]]),
    [
      ["debug", "a"],
      ["info", "b"],
      ["warn", "c"],
      ["error", "d"],
    ],
  );
  assert.equal(lines[0]?.["n"], 1);
  assert.deepEqual(lines[2]?.["nested"], { ok: true });
  assert.ok(raw.every((chunk) => chunk.endsWith("\n") && chunk.indexOf("\n") === chunk.length - 1));
  const time = String(lines[0]?.["time"]);
  assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(Math.abs(Date.parse(time) - Date.now()) < 60_000, "the time is now (a minute's margin on a busy machine)");
  assert.ok(!("pid" in (lines[0] ?? {})) && !("hostname" in (lines[0] ?? {})));
});

test("levels filter, and silent drops everything", () => {
  assert.deepEqual(LOG_LEVELS, ["debug", "info", "warn", "error", "silent"]);
  for (const [level, expected] of [
    ["debug", 4],
    ["info", 3],
    ["warn", 2],
    ["error", 1],
    ["silent", 0],
  ] as const) {
    const { logger, lines } = recording(level);
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    assert.equal(lines.length, expected, level);
  }
});

test("errors keep name, message, stack and cause, under any field name", () => {
  const { logger, lines } = recording("info");
  class StoreError extends Error {
    override readonly name = "StoreError";
  }
  logger.error("failed", {
    error: new StoreError("claim failed", { cause: new Error("ECONNREFUSED") }),
    reason: new TypeError("x"),
  });
  const error = lines[0]?.["error"] as Record<string, unknown>;
  assert.equal(error["name"], "StoreError");
  assert.equal(error["message"], "claim failed");
  assert.match(String(error["stack"]), /StoreError: claim failed/);
  assert.deepEqual((error["cause"] as Record<string, unknown>)["message"], "ECONNREFUSED");
  assert.equal((lines[0]?.["reason"] as Record<string, unknown>)["name"], "TypeError");
  logger.info("odd cause", { error: new Error("outer", { cause: "a string" }) });
  assert.equal((lines[1]?.["error"] as Record<string, unknown>)["cause"], "a string");
});

test("whatever was thrown is logged as `error` without converting it; an object only by its kind", () => {
  const { logger, lines } = recording("info");
  logger.warn("thrown", { error: "a string" });
  logger.warn("thrown", { error: 42 });
  logger.warn("thrown", { error: new Map([["password", "hunter2"]]) });
  logger.warn("thrown", { error: undefined });
  // A plain record is a description made by the caller (redactedError's), written as it is.
  logger.warn("described", { error: { name: "ReplyError", message: "WRONGPASS" } });
  assert.deepEqual(
    lines.map((line) => line["error"]),
    ["a string", "42", "[object Map]", undefined, { name: "ReplyError", message: "WRONGPASS" }],
  );
});

test("secrets are censored at the top level and in headers, request and metadata; more paths by option", () => {
  const { logger, raw } = recording("info", ["upstream.credentials"]);
  const secret = (n: number) => `s3cr3t-value-${n}`;
  logger.warn("with secrets", {
    authorization: secret(1),
    password: secret(2),
    token: secret(3),
    clientToken: secret(4),
    idempotencyKey: secret(5),
    headers: {
      authorization: secret(6),
      cookie: secret(7),
      "x-api-key": secret(8),
      "content-type": "application/json",
    },
    request: { idempotencyKey: secret(9), functionName: "demo" },
    metadata: { sessionToken: secret(10) },
    upstream: { credentials: secret(11) },
  });
  const line = raw.join("");
  for (let n = 1; n <= 11; n++) assert.ok(!line.includes(secret(n)), `secret ${n} leaked: ${line}`);
  const parsed = JSON.parse(line) as { headers: Record<string, string>; request: Record<string, string> };
  assert.equal(parsed.headers["authorization"], REDACTED);
  assert.equal(parsed.headers["content-type"], "application/json", "other fields are kept");
  assert.equal(parsed.request["functionName"], "demo");
});

test("createJsonLogger keeps its old signature: lines without their newline", () => {
  const lines: string[] = [];
  const logger = createJsonLogger("warn", (line) => lines.push(line));
  logger.info("dropped");
  logger.warn("kept", { a: 1 });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]?.endsWith("\n"));
  assert.deepEqual((JSON.parse(lines[0] ?? "{}") as { message?: unknown }).message, "kept");
});

test("the default destination is stderr, and every line is there when the process exits at once", async () => {
  const logger = fileURLToPath(new URL("../../src/logger.ts", import.meta.url));
  const script = `import { createLogger } from ${JSON.stringify(logger)};
    const log = createLogger({ level: "info" });
    for (let i = 0; i < 2000; i++) log.info("line", { i, padding: "x".repeat(200) });
    process.exit(0);`;
  const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    maxBuffer: 16 * 1024 * 1024,
  });
  assert.equal(stdout, "");
  const lines = stderr
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { i: number });
  assert.equal(lines.length, 2000);
  assert.equal(lines.at(-1)?.i, 1999);
});

// The handler of errors that escape every request path: one log line, the
// gateway's graceful stop, then exit 1, whatever the stop does (finishes,
// fails, throws at once, never finishes); a second error only logs. The
// exit and the stop are injected; the process test of the same handler is
// test/process/fatal-error.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createFatalErrorHandler } from "../../src/fatal-error.js";
import { createRecordingLogger } from "../support/recording-logger.js";

function harness(drain: () => Promise<unknown> | undefined, deadlineMs = 60_000) {
  const logger = createRecordingLogger();
  const events: string[] = [];
  let exited: (code: number) => void = () => undefined;
  const exitCode = new Promise<number>((resolve) => (exited = resolve));
  const handle = createFatalErrorHandler({
    logger,
    drain: () => {
      events.push("drain");
      return drain();
    },
    deadlineMs,
    exit: (code) => {
      events.push(`exit ${code}`);
      exited(code);
    },
  });
  return { logger, events, exitCode, handle };
}

describe("an uncaught error", () => {
  test("is logged as a bug, the gateway drains, and only then the process exits with 1", async () => {
    let finishDrain: () => void = () => undefined;
    const { logger, events, exitCode, handle } = harness(() => new Promise<void>((resolve) => (finishDrain = resolve)));
    handle(new Error("boom"));
    assert.deepEqual(events, ["drain"], "the drain starts at once; no exit while it runs");
    const line = await logger.waitFor((l) => l.level === "error" && /uncaught error \(a bug\)/.test(l.message));
    assert.equal((line.fields?.["error"] as Error).message, "boom");
    finishDrain();
    assert.equal(await exitCode, 1);
    assert.deepEqual(events, ["drain", "exit 1"]);
  });

  test("a second error while draining is logged and changes nothing", async () => {
    let finishDrain: () => void = () => undefined;
    const { logger, events, exitCode, handle } = harness(() => new Promise<void>((resolve) => (finishDrain = resolve)));
    handle(new Error("first"));
    handle("second, not even an Error");
    await logger.waitFor(
      (l) => /another uncaught error/.test(l.message) && l.fields?.["error"] === "second, not even an Error",
    );
    finishDrain();
    assert.equal(await exitCode, 1);
    assert.deepEqual(events, ["drain", "exit 1"], "one drain, one exit");
  });

  test("a drain that fails, or throws at once, still ends in exit 1", async () => {
    for (const drain of [
      () => Promise.reject(new Error("close failed")),
      () => {
        throw new Error("close threw");
      },
    ]) {
      const { logger, exitCode, handle } = harness(drain);
      handle(new Error("boom"));
      assert.equal(await exitCode, 1);
      assert.ok(logger.lines.some((l) => l.message === "the drain after an uncaught error failed"));
    }
  });

  test("before the gateway has started there is nothing to drain: exit 1", async () => {
    const { exitCode, handle } = harness(() => undefined);
    handle(new Error("during start-up"));
    assert.equal(await exitCode, 1);
  });

  test("a drain that never finishes is cut at the deadline: exit 1", async () => {
    const { logger, exitCode, handle } = harness(() => new Promise(() => undefined), 10);
    handle(new Error("boom"));
    assert.equal(await exitCode, 1);
    assert.ok(logger.lines.some((l) => /did not finish in time/.test(l.message)));
  });
});

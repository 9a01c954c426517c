// The drill's judge on hand-made records: each kind of finding, and the
// issue's case (a paused replica's RemovePermission, sent after its lease,
// removes the statement of the next Add).
import assert from "node:assert/strict";
import { test } from "node:test";
import { judgeDrill, type Effect, type Operation } from "./verdict.js";

const op = (o: Partial<Operation> & Pick<Operation, "kind" | "tag" | "startedAt" | "endedAt">): Operation => ({
  lane: 0,
  attempts: 1,
  answer: { kind: "ok" },
  ...o,
});
const effect = (kind: Effect["kind"], tag: string, at: number): Effect => ({ kind, lane: 0, tag, at });

test("a clean history: every change inside its operation, answers and final policy agree", () => {
  const verdict = judgeDrill(
    [
      op({ kind: "add", tag: "a", startedAt: 0, endedAt: 10 }),
      op({ kind: "remove", tag: "a", startedAt: 11, endedAt: 20 }),
    ],
    [effect("add", "a", 5), effect("remove", "a", 15)],
    new Map([[0, undefined]]),
  );
  assert.deepEqual(verdict, { operations: 2, doubleExecutions: 0, wrongAnswers: 0, lostSuccesses: 0, findings: [] });
});

test("the issue's case: a stale RemovePermission removes the next Add's statement", () => {
  const verdict = judgeDrill(
    [
      op({ kind: "add", tag: "a", startedAt: 0, endedAt: 10 }),
      op({ kind: "remove", tag: "a", startedAt: 11, endedAt: 20 }),
      op({ kind: "add", tag: "b", startedAt: 21, endedAt: 30 }),
    ],
    [effect("add", "a", 5), effect("remove", "a", 15), effect("add", "b", 25), effect("remove", "b", 40)],
    new Map([[0, undefined]]),
  );
  assert.equal(verdict.doubleExecutions, 1);
  assert.equal(verdict.wrongAnswers, 1, "the final policy is not what the answers say");
});

test("the same change made twice", () => {
  const verdict = judgeDrill(
    [op({ kind: "add", tag: "a", startedAt: 0, endedAt: 10 })],
    [effect("add", "a", 2), effect("remove", "a", 3), effect("add", "a", 4)],
    new Map([[0, "a"]]),
  );
  assert.equal(verdict.doubleExecutions, 2, "made twice, and a removal by no operation");
});

test("wrong answers: success with nothing made, a failure for a change made", () => {
  const verdict = judgeDrill(
    [
      op({ kind: "add", tag: "a", startedAt: 0, endedAt: 10 }),
      op({ kind: "add", tag: "b", startedAt: 11, endedAt: 20, answer: { kind: "failed", code: "AlreadyExists" } }),
    ],
    [effect("add", "b", 15)],
    new Map([[0, "b"]]),
  );
  assert.equal(verdict.wrongAnswers, 3, "a told success, b told ALREADY_EXISTS, the policy holds b");
});

test("a lost success: made, while the client only heard retryable answers", () => {
  const verdict = judgeDrill(
    [op({ kind: "add", tag: "a", startedAt: 0, endedAt: 10, answer: { kind: "gave-up", last: "Unavailable" } })],
    [effect("add", "a", 5)],
    new Map([[0, "a"]]),
  );
  assert.equal(verdict.lostSuccesses, 1);
  assert.equal(verdict.wrongAnswers, 0, "nothing certain to compare the final policy with");
});

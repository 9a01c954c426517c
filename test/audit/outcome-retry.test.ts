// Outcome events that the sink could not write: the caller is answered, the
// failure is counted, and the event waits in a bounded buffer for the sink to
// take writes again (the oldest dropped, and counted, when the buffer is
// full). Attempt events: refused with AUDIT_FAILURE_MODE=closed, kept for a
// retry with open. A real Connect server and a real file behind a sink whose
// writes fail on demand.
import assert from "node:assert/strict";
import { describe, test, type TestContext } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import type { AuditFailureMode } from "../../src/audit/config.js";
import type { AuditEvent, AuditEventKind } from "../../src/audit/event.js";
import type { AuditObserver } from "../../src/audit/retry-buffer.js";
import { AuditSinkError } from "../../src/audit/sink.js";
import { policyDir } from "../authz/fixtures.js";
import { startAuditedServer } from "./audited-server.js";

const POLICIES = `@id("all") permit (principal, action, resource);`;
const headers = { "x-test-caller": "pat" };
const remove = (statementId: string) => ({ functionName: "payments-api", statementId });

/** A sink that refuses the next `failures` writes of the given kind of event, then writes them. */
function failingSink() {
  const failures: Record<AuditEventKind, number> = { attempt: 0, outcome: 0 };
  return {
    failures,
    wrap: (real: { write(event: AuditEvent): Promise<void> }) => ({
      write(event: AuditEvent): Promise<void> {
        if (failures[event.event] > 0) {
          failures[event.event]--;
          return Promise.reject(new AuditSinkError("test", "write failed: ENOSPC"));
        }
        return real.write(event);
      },
    }),
  };
}

function countingObserver() {
  const counts = { attempt: 0, outcome: 0, dropped: 0 };
  const observer: AuditObserver = {
    onWriteFailure: (event) => counts[event]++,
    onDropped: () => counts.dropped++,
  };
  return { counts, observer };
}

async function setUp(t: TestContext, options: { failureMode?: AuditFailureMode; retryBufferEvents?: number } = {}) {
  const sink = failingSink();
  const { counts, observer } = countingObserver();
  const server = await startAuditedServer(t, {
    policies: await policyDir(t, { "p.cedar": POLICIES }),
    wrapSink: sink.wrap,
    observer,
    ...options,
  });
  return { ...server, failures: sink.failures, counts };
}

describe("audit events the sink could not write", () => {
  test("an outcome is kept, counted and written once the sink takes writes again, after failing twice more", async (t) => {
    const { client, trail, events, failures, counts } = await setUp(t);
    failures.outcome = 3;
    await client.removeLambdaPermission(remove("one"), { headers });
    assert.deepEqual(
      (await events()).map((e) => e.event),
      ["attempt"],
      "the caller was answered; its outcome waits",
    );
    assert.equal(trail.pending(), 1);
    assert.equal(counts.outcome, 1);

    await trail.retryNow();
    await trail.retryNow();
    assert.equal(trail.pending(), 1, "still waiting after two more failures");
    await trail.retryNow();
    assert.equal(trail.pending(), 0);
    const [attempt, outcome] = await events();
    assert.deepEqual([attempt?.event, outcome?.event, outcome?.outcome], ["attempt", "outcome", "OK"]);
    assert.equal(attempt?.id, outcome?.id);
    assert.equal(counts.outcome, 1, "counted once, when the call produced it");
    assert.equal(counts.dropped, 0);
  });

  test("the next call's written attempt brings the waiting outcome out, ahead of its own", async (t) => {
    const { client, trail, events, failures } = await setUp(t);
    failures.outcome = 1;
    await client.removeLambdaPermission(remove("one"), { headers });
    assert.equal(trail.pending(), 1);
    await client.removeLambdaPermission(remove("two"), { headers });
    await trail.retryNow();
    assert.equal(trail.pending(), 0);
    const outcomes = (await events()).filter((e) => e.event === "outcome").map((e) => e.grant?.["statementId"]);
    assert.deepEqual(outcomes, ["one", "two"]);
  });

  test("a full buffer drops its oldest event, counted", async (t) => {
    const { client, trail, events, failures, counts } = await setUp(t, { retryBufferEvents: 2 });
    failures.outcome = 100;
    for (const id of ["one", "two", "three"]) await client.removeLambdaPermission(remove(id), { headers });
    assert.equal(trail.pending(), 2);
    assert.equal(counts.dropped, 1);
    failures.outcome = 0;
    await trail.retryNow();
    const outcomes = (await events()).filter((e) => e.event === "outcome").map((e) => e.grant?.["statementId"]);
    assert.deepEqual(outcomes, ["two", "three"], "the oldest was dropped");
  });

  test("fail-closed: an attempt that cannot be written refuses the call before the handler runs", async (t) => {
    const { client, trail, events, failures, counts } = await setUp(t);
    failures.attempt = 1;
    const refusal = await client.removeLambdaPermission(remove("one"), { headers }).then(
      () => assert.fail("the call ran without its attempt event"),
      (error: unknown) => ConnectError.from(error),
    );
    assert.equal(refusal.code, Code.Unavailable);
    assert.equal(refusal.findDetails(ErrorInfoSchema)[0]?.reason, "AUDIT_UNAVAILABLE");
    assert.ok(refusal.findDetails(RetryInfoSchema)[0]?.retryDelay !== undefined);
    const [outcome, ...more] = await events();
    assert.equal(more.length, 0, "no attempt: it was not written, and it is not kept");
    assert.deepEqual([outcome?.outcome, outcome?.reason], ["UNAVAILABLE", "AUDIT_UNAVAILABLE"]);
    assert.equal(trail.pending(), 0);
    assert.equal(counts.attempt, 1);
  });

  test("fail-open: the call runs and its attempt is kept for a retry", async (t) => {
    const { client, trail, events, failures, counts } = await setUp(t, { failureMode: "open" });
    failures.attempt = 1;
    await client.removeLambdaPermission(remove("one"), { headers });
    assert.equal(counts.attempt, 1);
    // Its outcome queued behind the kept attempt.
    assert.equal(trail.pending(), 2);
    await trail.retryNow();
    assert.deepEqual(
      (await events()).map((e) => [e.event, e.outcome]),
      [
        ["attempt", undefined],
        ["outcome", "OK"],
      ],
    );
  });

  test("reads are never refused for their event", async (t) => {
    const sink = failingSink();
    const server = await startAuditedServer(t, {
      policies: await policyDir(t, { "p.cedar": POLICIES }),
      wrapSink: sink.wrap,
      reads: true,
    });
    sink.failures.outcome = 1;
    sink.failures.attempt = 1;
    await server.client.getLambdaPolicy({ functionName: "payments-api" }, { headers });
    assert.equal(server.trail.pending(), 1, "its event waits for a retry");
    assert.equal(sink.failures.attempt, 1, "a read writes no attempt event");
  });
});

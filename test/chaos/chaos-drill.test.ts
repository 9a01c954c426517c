// The short chaos drill of `npm test` (test/chaos/drill.ts; `npm run chaos`
// runs the long one): three replicas, Redis behind Sentinel, every fault of
// the drill at least once, and then no double execution, no wrong answer,
// no lost success. Needs redis-server and redis-sentinel: it skips loudly
// without them, or fails with REQUIRE_REDIS_SENTINEL=1 (CI).
import assert from "node:assert/strict";
import { test } from "node:test";
import { haveSentinelTools } from "../support/redis-sentinel-group.js";
import { runChaosDrill, type FaultKind } from "./drill.js";
import { SHORT_DRILL } from "./settings.js";

test("chaos drill (short): no double execution, no wrong answer, no lost success", { timeout: 180_000 }, async (t) => {
  if (!haveSentinelTools(t)) return;
  const report = await runChaosDrill({ ...SHORT_DRILL, log: (line) => t.diagnostic(line) });
  t.diagnostic(JSON.stringify({ ...report, verdict: { ...report.verdict, findings: undefined } }));
  for (const finding of report.verdict.findings) t.diagnostic(`${finding.kind}: ${finding.detail}`);
  assert.deepEqual(
    report.verdict.findings,
    [],
    `${report.unplannedFailovers} failover(s) the drill did not ask for (Redis replication is asynchronous)`,
  );
  assert.equal(report.verdict.doubleExecutions, 0);
  assert.equal(report.verdict.wrongAnswers, 0);
  assert.equal(report.verdict.lostSuccesses, 0);
  assert.ok(report.verdict.operations >= 20, `only ${report.verdict.operations} operations ran`);
  for (const kind of Object.keys(report.faults) as FaultKind[])
    assert.ok(report.faults[kind] > 0, `the drill injected no "${kind}"`);
});

// The audit trail that cannot be skipped, through the whole gateway with a
// real sink that refuses every write (/dev/full: ENOSPC). Fail-closed (the
// default): a mutation is refused UNAVAILABLE AUDIT_UNAVAILABLE with
// RetryInfo in every protocol, nothing reaches the backend, its idempotency
// key is not consumed, and reads still work. Fail-open: the call runs and
// the failures are counted. A sink path that becomes writable again takes
// the retried call and the kept outcome of the refused one.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, symlink, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { Code } from "@connectrpc/connect";
import type { AuditEvent } from "../../src/audit/event.js";
import type { Gateway } from "../../src/gateway.js";
import type { Logger } from "../../src/logger.js";
import { clientKinds, createGatewayClient, failureOf, responseOf, type GatewayClient } from "../support/clients.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { eventually } from "../support/eventually.js";
import { createRecordingLogger } from "../support/recording-logger.js";
import { DEV_FULL, skipWithoutDevFull } from "./dev-full.js";

const grant = (statementId: string, idempotencyKey: string) => ({
  functionName: "demo",
  statementId,
  action: "lambda:InvokeFunction",
  principal: "s3.amazonaws.com",
  idempotencyKey,
});

async function start(t: TestContext, env: Record<string, string>, logger?: Logger): Promise<Gateway> {
  const gateway = await startConfiguredGateway(env, logger);
  t.after(() => gateway.close());
  return gateway;
}

function clientOf(t: TestContext, kind: (typeof clientKinds)[number], gateway: Gateway): GatewayClient {
  const client = createGatewayClient(kind, gateway.url);
  t.after(() => client.close());
  return client;
}

/** A sample of /metrics, e.g. 'permission_gateway_audit_write_failures_total{event="attempt"}'; undefined when absent. */
async function metric(gateway: Gateway, series: string): Promise<number | undefined> {
  const text = await (await fetch(gateway.url + "/metrics")).text();
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function trail(file: string): Promise<AuditEvent[]> {
  return (await readFile(file, "utf8"))
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as AuditEvent);
}

describe("an audit sink that cannot be written", () => {
  test("fail-closed: every protocol is refused UNAVAILABLE AUDIT_UNAVAILABLE with RetryInfo; AWS is never called", async (t) => {
    if (skipWithoutDevFull(t)) return;
    const logger = createRecordingLogger();
    const gateway = await start(t, { AUDIT_SINK: DEV_FULL }, logger);
    for (const kind of clientKinds) {
      const client = clientOf(t, kind, gateway);
      const refusal = failureOf(await client.call("addLambdaPermission", grant(`s3-${kind}`, `key-${kind}`)));
      assert.deepEqual(
        { code: refusal.code, reason: refusal.reason, domain: refusal.domain, errorInfos: refusal.errorInfoCount },
        { code: Code.Unavailable, reason: "AUDIT_UNAVAILABLE", domain: "permission-gateway", errorInfos: 1 },
        kind,
      );
      assert.ok(
        refusal.detailTypes.includes("google.rpc.RetryInfo"),
        `${kind}: RetryInfo in ${refusal.detailTypes.join(", ")}`,
      );
      assert.match(refusal.message, /audit trail cannot record this change/, kind);
      // A read is never refused for the audit trail; it shows the function's policy unchanged (still none).
      const policy = failureOf(await client.call("getLambdaPolicy", { functionName: "demo" }));
      assert.equal(policy.code, Code.NotFound, `${kind}: no statement was added`);
    }
    const remove = failureOf(
      await clientOf(t, "grpc", gateway).call("removeLambdaPermission", { functionName: "demo", statementId: "x" }),
    );
    assert.equal(remove.reason, "AUDIT_UNAVAILABLE", "every mutation, not only AddLambdaPermission");
    assert.equal(await metric(gateway, 'permission_gateway_audit_write_failures_total{event="attempt"}'), 5);
    const logged = logger.lines.filter(
      (l) => l.message === "audit event not written" && l.fields?.["event"] === "attempt",
    );
    assert.equal(logged.length, 5);
    assert.equal(logged[0]?.fields?.["then"], "call refused (AUDIT_UNAVAILABLE)");
    assert.match(String(logged[0]?.fields?.["error"]), /ENOSPC/);
    const backendCalls = (operation: string) =>
      metric(gateway, `permission_gateway_backend_calls_total{service="lambda",operation="${operation}"}`);
    assert.equal(await backendCalls("GetPolicy"), clientKinds.length, "the reads reached the backend");
    assert.equal(await backendCalls("AddPermission"), undefined, "no mutation reached the backend");
    assert.equal(await backendCalls("RemovePermission"), undefined, "no mutation reached the backend");
  });

  test("fail-closed: the idempotency key is not consumed; once the sink path is writable the retry runs and the refusal's outcome follows", async (t) => {
    if (skipWithoutDevFull(t)) return;
    const dir = await mkdtemp(join(tmpdir(), "pg-audit-full-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const sinkPath = join(dir, "audit.jsonl");
    const file = join(dir, "audit-2.jsonl");
    await symlink(DEV_FULL, sinkPath);
    const gateway = await start(t, { AUDIT_SINK: sinkPath });
    const client = clientOf(t, "connect-json", gateway);

    const refused = failureOf(await client.call("addLambdaPermission", grant("s3-invoke", "retry-me")));
    assert.equal(refused.reason, "AUDIT_UNAVAILABLE");

    // The disk "has space again": the same path now leads to a writable file.
    await unlink(sinkPath);
    await symlink(file, sinkPath);
    const retried = await client.call("addLambdaPermission", grant("s3-invoke", "retry-me"));
    assert.ok(JSON.stringify(responseOf(retried)).includes("s3-invoke"));
    assert.ok(retried.ok && retried.headers.get("idempotent-replayed") !== "true", "run afresh, not a replay");
    const policy = responseOf(await client.call("getLambdaPolicy", { functionName: "demo" }));
    assert.match(JSON.stringify(policy), /s3-invoke/);

    // The attempt and outcome of the retry, and the kept outcome of the refused call, written after the fact.
    const events = await eventually(
      "three events in the trail",
      () => trail(file),
      (all) => all.length >= 3,
      { timeoutMs: 5_000 },
    );
    const summary = events.map((e) => [e.event, e.outcome ?? "", e.reason ?? ""]);
    assert.deepEqual(
      new Set(summary.map((row) => row.join(" "))),
      new Set(["attempt  ", "outcome OK ", "outcome UNAVAILABLE AUDIT_UNAVAILABLE"]),
    );
    assert.equal(events.length, 3);
    const [attempt] = events.filter((e) => e.event === "attempt");
    const ok = events.find((e) => e.outcome === "OK");
    assert.equal(attempt?.id, ok?.id, "the retry's attempt and outcome share an id");
    assert.equal(await metric(gateway, 'permission_gateway_audit_events_dropped_total{event="outcome"}'), 0);
  });

  test("fail-open: the call runs, and the lost attempt and outcome are counted", async (t) => {
    if (skipWithoutDevFull(t)) return;
    const gateway = await start(t, { AUDIT_SINK: DEV_FULL, AUDIT_FAILURE_MODE: "open" });
    const client = clientOf(t, "grpc-js", gateway);
    responseOf(await client.call("addLambdaPermission", grant("s3-open", "open-1")));
    const policy = responseOf(await client.call("getLambdaPolicy", { functionName: "demo" }));
    assert.match(JSON.stringify(policy), /s3-open/);
    assert.equal(await metric(gateway, 'permission_gateway_audit_write_failures_total{event="attempt"}'), 1);
    assert.equal(await metric(gateway, 'permission_gateway_audit_write_failures_total{event="outcome"}'), 1);
  });
});

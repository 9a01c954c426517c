// The whole /metrics scrape of a real gateway, after calls over each
// protocol (answers, errors, an idempotent replay), passes
// `promtool check metrics`: the gateway's own metrics and the prom-client
// defaults it keeps. Skipped loudly without promtool (Debian: prometheus),
// a failure when REQUIRE_PROMTOOL=1 (CI).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { DROPPED_DEFAULT_METRICS } from "../../src/observability/metrics.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { skipWithoutCommand } from "../support/require-tool.js";

function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

test("promtool check metrics passes on the whole scrape of a gateway that served calls", async (t) => {
  if (skipWithoutCommand(t, "promtool", "REQUIRE_PROMTOOL", "Debian: apt-get install prometheus")) return;
  const gateway = await startConfiguredGateway({});
  try {
    const baseUrl = gateway.url;
    const transports: Transport[] = [
      createConnectTransport({ baseUrl, httpVersion: "1.1" }),
      createGrpcTransport({ baseUrl }),
      createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
    ];
    for (const [i, transport] of transports.entries()) {
      const client = createClient(PermissionService, transport);
      const add = {
        functionName: "demo",
        statementId: `promtool-${i}`,
        action: "lambda:InvokeFunction",
        principal: "s3.amazonaws.com",
        idempotencyKey: `promtool-key-${i}`,
      };
      await client.addLambdaPermission(add);
      await client.addLambdaPermission(add); // replayed
      await client.getLambdaPolicy({ functionName: "demo" });
      await assert.rejects(client.removeLambdaPermission({ functionName: "demo", statementId: "absent" }));
      await client.listRamPermissions({});
    }
    const response = await fetch(`${baseUrl}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /^permission_gateway_rpc_calls_total\{.*protocol="grpc_web".*\} \d+$/m);
    assert.match(text, /^permission_gateway_idempotency_outcomes_total\{outcome="replayed"\} [1-9]/m);
    assert.match(text, /^nodejs_active_handles\{type="\w+"\} \d+$/m, "the per-type gauges stay");
    for (const name of DROPPED_DEFAULT_METRICS) assert.doesNotMatch(text, new RegExp(`^(# TYPE )?${name}\\b`, "m"));

    const { code, output } = await promtoolCheck(text);
    assert.equal(output, "", "promtool finds nothing to report");
    assert.equal(code, 0);
  } finally {
    await gateway.close();
  }
});

// An uncaught exception in a real gateway process (thrown by a preloaded
// module, test/process/fixtures/throw-on-sigusr2.mjs): the process logs it,
// lets the call in flight finish, and exits with 1 so that its supervisor
// restarts it, instead of serving on in an unknown state.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { until } from "../support/eventually.js";
import { listRamPermissionsPath, postJson, spawnGateway, waitUntilServing } from "./gateway-process.js";

const injector = pathToFileURL(new URL("fixtures/throw-on-sigusr2.mjs", import.meta.url).pathname).href;

async function inFlightCalls(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await response.text();
  return [...text.matchAll(/^permission_gateway_rpc_in_flight(?:\{[^}]*\})? (\d+)$/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

test("an uncaught exception: logged as a bug, the call in flight answered, exit 1", { timeout: 60_000 }, async (t) => {
  const gateway = spawnGateway("tsx-import", {
    PORT: "0",
    FAKE_LATENCY_MS: "1500",
    NODE_OPTIONS: `--import ${injector}`,
  });
  t.after(() => gateway.kill());
  const port = await waitUntilServing(gateway);
  const slowCall = postJson(port, listRamPermissionsPath, {});
  await until("the slow call is in flight", async () => (await inFlightCalls(port)) === 1);
  gateway.child.kill("SIGUSR2");
  await gateway.printed(/uncaught error \(a bug\)/);
  assert.equal(await slowCall, 200, "the call in flight finished during the drain");
  assert.deepEqual(await gateway.exited, { code: 1, signal: null }, gateway.output().stderr);
  assert.match(gateway.output().stderr + gateway.output().stdout, /injected by the test/);
});

// `npm start`, the README's start command, as an operator runs it: stdout
// carries only audit events (npm's banner is kept off by the project's
// .npmrc), and SIGHUP reloads when sent to the pid the gateway logs; sent to
// npm instead (which does not forward it and dies of it), the gateway stops
// and says where SIGHUP must go, rather than run on with the old policies.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { buildDist, listeningUrl, postJson, processExists, spawnGateway } from "./gateway-process.js";
import { eventually } from "../support/eventually.js";

const addPath = "/permission.v1.PermissionService/AddLambdaPermission";
const listPath = "/permission.v1.PermissionService/ListRamPermissions";

before(() => buildDist(), { timeout: 120_000 });

async function pidOf(gateway: ReturnType<typeof spawnGateway>): Promise<number> {
  const [line] = await gateway.printed(/^.*"permission-gateway listening".*$/m);
  const { pid } = JSON.parse(line) as { pid?: unknown };
  assert.equal(typeof pid, "number", `the listening line names the gateway's pid: ${line}`);
  return pid as number;
}

test("under npm start, stdout carries only audit events, one JSON object a line", { timeout: 60_000 }, async (t) => {
  const gateway = spawnGateway("npm", { PORT: "0" });
  t.after(() => gateway.kill());
  const port = Number(new URL(await listeningUrl(gateway)).port);
  const status = await postJson(port, addPath, {
    functionName: "demo",
    statementId: "stdout-check",
    action: "lambda:InvokeFunction",
    principal: "s3.amazonaws.com",
  });
  assert.equal(status, 200);
  await gateway.printed(/"event":"outcome"/);
  gateway.child.kill("SIGTERM");
  assert.deepEqual(await gateway.exited, { code: 0, signal: null }, gateway.output().stderr);
  const lines = gateway
    .output()
    .stdout.split("\n")
    .filter((line) => line !== "");
  // Every line is an audit event: the mutation's attempt, then its outcome, with one id.
  const events = lines.map((line) => JSON.parse(line) as { id?: unknown; event?: unknown; rpc?: unknown });
  assert.deepEqual(
    events.map(({ event, rpc }) => ({ event, rpc })),
    [
      { event: "attempt", rpc: "AddLambdaPermission" },
      { event: "outcome", rpc: "AddLambdaPermission" },
    ],
    gateway.output().stdout,
  );
  assert.equal(events[0]?.id, events[1]?.id);
});

test(
  "SIGHUP to the logged pid reloads the policies; SIGHUP to npm stops the gateway, saying why",
  { timeout: 90_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "pg-sighup-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const policies = join(dir, "policies.cedar");
    await writeFile(
      policies,
      '@id("nobody")\nforbid (principal, action, resource);\n@id("all")\npermit (principal, action, resource);\n',
    );
    const gateway = spawnGateway("npm", { PORT: "0", AUDIT_SINK: "off", AUTHZ_POLICIES: policies });
    t.after(() => gateway.kill());
    const port = Number(new URL(await listeningUrl(gateway)).port);
    const nodePid = await pidOf(gateway);
    assert.notEqual(nodePid, gateway.child.pid, "the gateway is npm's child, not npm");
    assert.equal(await postJson(port, listPath, {}), 403, "the first policies forbid everything");

    await writeFile(policies, '@id("all")\npermit (principal, action, resource);\n');
    process.kill(nodePid, "SIGHUP");
    await eventually(
      "the new policies allow the call",
      () => postJson(port, listPath, {}),
      (status) => status === 200,
    );

    // To npm: npm dies of it; the gateway notices, logs where SIGHUP goes, and stops.
    gateway.child.kill("SIGHUP");
    assert.deepEqual(await gateway.exited, { code: null, signal: "SIGHUP" });
    await eventually(
      "the gateway stops",
      () => processExists(nodePid),
      (exists) => !exists,
    );
    assert.match(
      gateway.output().stderr,
      new RegExp(`npm does not forward SIGHUP: to reload, signal the gateway's own pid ${nodePid}`),
    );
  },
);

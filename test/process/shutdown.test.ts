// Stopping the compiled gateway the ways it gets stopped: SIGTERM or SIGINT
// to the node process, to the npm process that `npm start` is, and Ctrl-C
// (SIGINT to npm and node together, as a terminal sends it). Each time a slow
// call already in flight finishes successfully, a call made after the signal
// is refused, and the process (and npm with it) exits 0 with no gateway left
// behind. `npm run fake-aws` runs on the build too and stops the same way.
import assert from "node:assert/strict";
import { once } from "node:events";
import * as http2 from "node:http2";
import { before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  buildDist,
  childProcesses,
  listRamPermissionsPath,
  postJson,
  processExists,
  spawnGateway,
  waitUntilServing,
  type GatewayProcess,
  type Launcher,
} from "./gateway-process.js";

// Long enough that the signal lands while the call runs, even on a loaded
// machine (delivery takes milliseconds); well inside SHUTDOWN_GRACE_MS (10 s).
const slowCallMs = 3_000;
/** Only bounds a failure (a signal that never arrives); a working gateway answers in milliseconds. */
const signalReachesGatewayMs = 20_000;

/** A request that fails validation: answered at once, without the (slow) backend. */
const invalidRequest = { method: "GetRamPermission", body: { permissionArn: "not-an-arn" } };

interface H2Answer {
  readonly status: number;
  readonly body: string;
}

function h2Call(session: http2.ClientHttp2Session, method: string, body: unknown): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": `/permission.v1.PermissionService/${method}`,
      "content-type": "application/json",
    });
    let status = 0;
    let text = "";
    stream.setEncoding("utf8");
    stream.on("response", (headers) => (status = Number(headers[":status"])));
    stream.on("data", (chunk: string) => (text += chunk));
    stream.once("end", () => resolve({ status, body: text }));
    stream.once("error", reject);
    stream.end(JSON.stringify(body));
  });
}

/** The processes, from the spawned one down, that are node running `entry` (npm's child, tsx's child, ...). */
async function nodesRunning(entry: string, gateway: GatewayProcess): Promise<number[]> {
  const pid = gateway.child.pid;
  assert.ok(pid !== undefined, "the process started");
  const found: number[] = [];
  let level = [{ pid, command: gateway.child.spawnargs }];
  for (let depth = 0; depth < 4 && level.length > 0; depth++) {
    for (const { pid: candidate, command } of level) {
      if (/(^|\/)node$/.test(command[0] ?? "") && command.includes(entry)) found.push(candidate);
    }
    level = (await Promise.all(level.map((child) => childProcesses(child.pid)))).flat();
  }
  assert.ok(found.length > 0, `no node ${entry} below process ${pid}`);
  return found;
}

async function assertAllGone(pids: readonly number[]): Promise<void> {
  const left = [];
  for (const pid of pids) if (await processExists(pid)) left.push(pid);
  assert.deepEqual(left, [], "no process is left behind");
}

const cases: { launcher: Launcher; signal: NodeJS.Signals; to: "process" | "group"; title: string }[] = [
  { launcher: "node", signal: "SIGTERM", to: "process", title: "SIGTERM to node dist/src/main.js" },
  { launcher: "node", signal: "SIGINT", to: "process", title: "SIGINT to node dist/src/main.js" },
  { launcher: "npm", signal: "SIGTERM", to: "process", title: "SIGTERM to npm start" },
  { launcher: "npm", signal: "SIGINT", to: "process", title: "SIGINT to npm start" },
  { launcher: "npm", signal: "SIGINT", to: "group", title: "Ctrl-C to npm start (SIGINT to npm and node)" },
];

/** A slow AddLambdaPermission that the gateway is known to be running when this resolves. */
async function slowCallInFlight(
  session: http2.ClientHttp2Session,
): Promise<{ answer: Promise<H2Answer>; settled: () => boolean }> {
  let settled = false;
  const answer = h2Call(session, "AddLambdaPermission", {
    functionName: "demo",
    statementId: "drain",
    action: "lambda:InvokeFunction",
    principal: "s3.amazonaws.com",
  }).then(
    (ok) => ok,
    (error: unknown) => ({ status: -1, body: `stream error: ${String(error)}` }),
  );
  void answer.then(() => (settled = true));
  // One connection's streams are read in order: once the request sent after
  // the slow call is answered, the gateway is running the slow call.
  const quick = await h2Call(session, invalidRequest.method, invalidRequest.body);
  assert.equal(quick.status, 400, quick.body);
  return { answer, settled: () => settled };
}

/**
 * What happens first to the connection after the signal: GOAWAY (the drain
 * began), an error or the process's exit (it died instead), or nothing (the
 * signal never reached the gateway, which would otherwise show only as the
 * test's timeout).
 */
function drainBegan(session: http2.ClientHttp2Session, gateway: GatewayProcess): Promise<string> {
  return Promise.race([
    once(session, "goaway").then(
      () => "goaway",
      (error: unknown) => `connection error ${String(error)}`,
    ),
    gateway.exited.then((exit) => `process exited ${JSON.stringify(exit)}`),
    sleep(signalReachesGatewayMs, `no GOAWAY ${signalReachesGatewayMs} ms after the signal`, { ref: false }),
  ]);
}

/** A call on a new connection: "ECONNREFUSED" when the gateway no longer accepts. */
function newCall(port: number): Promise<string | undefined> {
  return postJson(port, listRamPermissionsPath, {}).then(
    (status) => `answered HTTP ${status}`,
    (error: unknown) => (error as { code?: string }).code,
  );
}

// One build of dist/ for every test here (they run npm start and npm run fake-aws on it).
let built: Promise<void> | undefined;
const buildOnce = (): Promise<void> => (built ??= buildDist());

describe("the compiled gateway drains on SIGTERM and SIGINT", { timeout: 240_000 }, () => {
  before(buildOnce, { timeout: 120_000 });

  for (const { launcher, signal, to, title } of cases) {
    test(`${title}: the call in flight finishes, a new call is refused, exit 0`, { timeout: 60_000 }, async (t) => {
      const gateway = spawnGateway(launcher, { PORT: "0", FAKE_LATENCY_MS: String(slowCallMs) });
      t.after(() => gateway.kill());
      // Serving means answering at all; a valid call would take slowCallMs.
      const port = await waitUntilServing(gateway, {
        path: `/permission.v1.PermissionService/${invalidRequest.method}`,
        body: invalidRequest.body,
        status: 400,
      });
      const nodes = await nodesRunning("dist/src/main.js", gateway);
      const session = http2.connect(`http://127.0.0.1:${port}`);
      t.after(() => session.destroy());
      session.on("error", () => {}); // reported through drainBegan and the calls
      const slow = await slowCallInFlight(session);

      if (to === "group") gateway.signalGroup(signal);
      else gateway.child.kill(signal);
      assert.equal(
        await drainBegan(session, gateway),
        "goaway",
        `the gateway stopped accepting and asked the connection to finish: ${gateway.output().stderr}`,
      );
      assert.equal(
        slow.settled(),
        false,
        `the slow call was still running when the drain began (FAKE_LATENCY_MS=${slowCallMs})`,
      );
      assert.equal(await newCall(port), "ECONNREFUSED", "a call made after the signal is refused");

      const answer = await slow.answer;
      assert.equal(answer.status, 200, answer.body);
      const statement = JSON.parse((JSON.parse(answer.body) as { statement: string }).statement) as { Sid: string };
      assert.equal(statement.Sid, "drain");
      assert.deepEqual(await gateway.exited, { code: 0, signal: null }, gateway.output().stderr);
      await assertAllGone(nodes);
    });
  }
});

test("npm run fake-aws runs node on dist/ and stops with 0 on SIGTERM to npm", { timeout: 60_000 }, async (t) => {
  await buildOnce();
  const fakeAws = spawnGateway("npm", { PORT: "0", LOG_LEVEL: "silent" }, { program: "fake-aws" });
  t.after(() => fakeAws.kill());
  const [, url] = await fakeAws.printed(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  const nodes = await nodesRunning("dist/src/fake-aws/main.js", fakeAws);
  assert.equal((await fetch(`${url}/__fake/calls`)).status, 200);
  fakeAws.child.kill("SIGTERM");
  assert.deepEqual(await fakeAws.exited, { code: 0, signal: null }, fakeAws.output().stderr);
  await assertAllGone(nodes);
});

test(
  "npm run dev serves the source under tsx watch and stops with 0 on SIGTERM to npm",
  { timeout: 60_000 },
  async (t) => {
    const dev = spawnGateway("npm", { PORT: "0" }, { script: "dev" });
    t.after(() => dev.kill());
    await waitUntilServing(dev);
    const nodes = await nodesRunning("src/main.ts", dev);
    dev.child.kill("SIGTERM");
    assert.deepEqual(await dev.exited, { code: 0, signal: null }, dev.output().stderr);
    await assertAllGone(nodes);
  },
);

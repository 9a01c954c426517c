// The benchmark harness is not part of npm test, but what it parses and the
// servers it builds on are: its options, the start script it reads, the
// authorization file, h2load's report, the bare baseline server, and the
// near-limit seed (through a real gateway).
import assert from "node:assert/strict";
import { ENV_HELP } from "../../src/config.js";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { startBaselineServer, parseBaselineArgs, type BaselineServer } from "../../bench/baseline/server.js";
import { BenchOptionsError, parseBenchOptions } from "../../bench/options.js";
import { parseStartScript, StartScriptError } from "../../bench/processes/launch.js";
import { parseH2loadSummary } from "../../bench/load/h2load.js";
import { percentile } from "../../bench/load/round.js";
import { authzNotReady, parseAuthzConfig } from "../../bench/scenarios/authz.js";
import { scenarioIds } from "../../bench/scenarios/index.js";
import { buildSeed, nearLimitFunction, policyLimitBytes, renderedStatementBytes } from "../../bench/seeds.js";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { docBlock, readDoc } from "../support/readme.js";

describe("bench options", () => {
  const parse = (...argv: string[]) => parseBenchOptions(argv, scenarioIds, "/tmp/profiles");

  test("defaults to the full run; --quick, --cpu-prof and --only are read", () => {
    assert.deepEqual(parse(), {
      mode: "full",
      cpuProfDir: undefined,
      only: undefined,
      authzConfig: "bench/authz.json",
      help: false,
    });
    const options = parse("--quick", "--cpu-prof", "--only=no-token-grpc,rss", "--authz-config=x.json");
    assert.equal(options.mode, "quick");
    assert.equal(options.cpuProfDir, "/tmp/profiles");
    assert.deepEqual(options.only, ["no-token-grpc", "rss"]);
    assert.equal(options.authzConfig, "x.json");
    assert.equal(parse("--cpu-prof=/var/tmp/p").cpuProfDir, "/var/tmp/p");
  });

  test("a bad option is refused naming it and what is accepted", () => {
    for (const [arg, accepted] of [
      ["--fast", /one of --quick/],
      ["--only=nope", /ids among .*no-token-grpc/],
      ["--only=", /--only=ID/],
      ["--quick=yes", /without a value/],
      ["--cpu-prof=", /a directory/],
    ] as const) {
      assert.throws(
        () => parse(arg),
        (error: unknown) =>
          error instanceof BenchOptionsError && error.message.startsWith(`${arg}:`) && accepted.test(error.message),
      );
    }
  });

  test("scenario ids are unique", () => {
    assert.equal(new Set(scenarioIds).size, scenarioIds.length);
  });

  test("every npm run bench line of docs/performance.md parses, and its table names every scenario", async () => {
    const block = await docBlock("docs/performance.md", "sh", "npm run bench -- --quick");
    const lines = block
      .split("\n")
      .map((line) => line.replace(/#.*$/, "").trim())
      .filter((line) => line.startsWith("npm run bench"));
    assert.ok(lines.length >= 4);
    for (const line of lines)
      parse(
        ...line
          .replace(/^npm run bench( --)?/, "")
          .split(/\s+/)
          .filter((word) => word !== ""),
      );
    const performance = await readDoc("docs/performance.md");
    for (const id of scenarioIds) assert.ok(performance.includes(`\`${id}\``), `docs/performance.md names ${id}`);
  });
});

describe("the start script", () => {
  test("is split into env, launcher, flags and entry; a leading exec is dropped", () => {
    assert.deepEqual(parseStartScript("tsx src/main.ts"), {
      launcher: "tsx",
      flags: [],
      args: ["src/main.ts"],
      env: {},
    });
    assert.deepEqual(parseStartScript("exec NODE_ENV=production node --enable-source-maps dist/src/main.js"), {
      launcher: "node",
      flags: ["--enable-source-maps"],
      args: ["dist/src/main.js"],
      env: { NODE_ENV: "production" },
    });
  });

  test("shell syntax and missing parts are refused with the script quoted", () => {
    for (const script of ["node a.js && node b.js", "node $ENTRY", "exec", "node --flag"]) {
      assert.throws(
        () => parseStartScript(script),
        (error: unknown) => error instanceof StartScriptError && error.message.includes(JSON.stringify(script)),
      );
    }
  });
});

describe("the authorization file", () => {
  test("the committed bench/authz.json turns Cedar on with a policy file that exists, and the gateway knows its variables", async () => {
    const text = await readFile(new URL("../../bench/authz.json", import.meta.url), "utf8");
    const config = parseAuthzConfig(text, "bench/authz.json");
    const policies = config.on.env["AUTHZ_POLICIES"];
    assert.ok(policies !== undefined, "on.env names AUTHZ_POLICIES");
    await readFile(new URL(`../../${policies}`, import.meta.url), "utf8");
    assert.equal(authzNotReady(config, ENV_HELP.map((h) => h.name).join(" "), "bench/authz.json"), undefined);
    assert.match(authzNotReady(config, "HOST PORT", "bench/authz.json") ?? "", /does not know AUTHZ_POLICIES/);
  });

  test("a variable --help does not list is named; known ones let it run", () => {
    const config = parseAuthzConfig(
      '{"off":{"env":{}},"on":{"env":{"AUTH_MODE":"api-key"},"headers":{"x-api-key":"k"}}}',
      "f.json",
    );
    assert.equal(authzNotReady(config, "  AUTH_MODE   how callers authenticate", "f.json"), undefined);
    assert.match(authzNotReady(config, "  HOST", "f.json") ?? "", /does not know AUTH_MODE/);
  });

  test("a wrong shape names the member", () => {
    assert.throws(() => parseAuthzConfig("{", "f.json"), /f.json: not JSON/);
    assert.throws(() => parseAuthzConfig('{"off":{}}', "f.json"), /"on" must be an object/);
    assert.throws(() => parseAuthzConfig('{"off":{},"on":{"env":{"A":1}}}', "f.json"), /"on.env.A" must be a string/);
  });
});

test("h2load's closing report is read: successes, failures and duration", () => {
  const report = [
    "finished in 2.00s, 2750.00 req/s, 96.85KB/s",
    "requests: 5500 total, 5510 started, 5500 done, 5490 succeeded, 10 failed, 3 errored, 2 timeout",
    "status codes: 5490 2xx, 0 3xx, 10 4xx, 0 5xx",
  ].join("\n");
  assert.deepEqual(parseH2loadSummary(report), { succeeded: 5490, failed: 15, seconds: 2, requestsPerSecond: 2745 });
  assert.throws(() => parseH2loadSummary("no report"), /printed no report/);
});

test("percentiles are nearest-rank", () => {
  const values = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(values, 0.5), 50);
  assert.equal(percentile(values, 0.99), 99);
  assert.ok(Number.isNaN(percentile(new Float64Array(0), 0.5)));
});

describe("the baseline server", () => {
  let server: BaselineServer;
  before(async () => {
    server = await startBaselineServer({ host: "127.0.0.1", h2cPort: 0, http1Port: 0 });
  });
  after(() => server.close());

  test("answers over gRPC (h2c) and Connect (HTTP/1.1) with constant responses", async () => {
    const grpc = createClient(PermissionService, createGrpcTransport({ baseUrl: server.h2cUrl }));
    const connect = createClient(
      PermissionService,
      createConnectTransport({ baseUrl: server.http1Url, httpVersion: "1.1" }),
    );
    for (const client of [grpc, connect]) {
      await client.removeLambdaPermission({ functionName: "demo", statementId: "x", allowMissing: true });
      assert.match((await client.addLambdaPermission({})).statement, /"Sid":"baseline"/);
      assert.equal((await client.deleteRamPermission({})).returnValue, true);
      assert.equal((await client.listRamPermissions({})).permissions.length, 1);
    }
  });

  test("its arguments are checked", () => {
    assert.deepEqual(parseBaselineArgs(["--h2c-port=1", "--http1-port=2"]), {
      host: "127.0.0.1",
      h2cPort: 1,
      http1Port: 2,
    });
    assert.throws(() => parseBaselineArgs(["--port=1"]), /unknown argument "--port=1"/);
    assert.throws(() => parseBaselineArgs(["--h2c-port=x"]), /--h2c-port="x" is not a port/);
  });
});

describe("the near-limit seed, served by a real gateway", () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway({
      backend: createFakeBackend({
        seed: buildSeed({ functions: 0, ramPermissions: 250, inFlightStatements: 4, addedIdLength: 8 }),
      }),
    });
  });
  after(() => gateway.close());

  test("leaves room for exactly the statements the scenario adds at once", async () => {
    const client = createClient(
      PermissionService,
      createConnectTransport({ baseUrl: gateway.url, httpVersion: "1.1" }),
    );
    const { policy } = await client.getLambdaPolicy({ functionName: nearLimitFunction });
    const statement = renderedStatementBytes(nearLimitFunction, "b0000000");
    assert.ok(Buffer.byteLength(policy) + 4 * (statement + 1) <= policyLimitBytes, "4 statements fit");
    const grant = {
      functionName: nearLimitFunction,
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
      sourceArn: "arn:aws:s3:::bench-bucket",
    };
    let fitted = 0;
    let refusal: ConnectError | undefined;
    while (refusal === undefined && fitted < 8) {
      await client.addLambdaPermission({ ...grant, statementId: `b000000${fitted}` }).then(
        () => fitted++,
        (error: unknown) => (refusal = ConnectError.from(error)),
      );
    }
    assert.ok(fitted >= 4 && fitted <= 5, `${fitted} statements fitted`);
    assert.equal(refusal?.code, Code.ResourceExhausted);
  });
});

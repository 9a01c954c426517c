// `npm run fake-aws` as a process: configuration errors stop it with a clear
// message and exit code 2, --help lists the variables, and a started
// endpoint prints the lines that point an SDK at it, serves the seed and
// stops cleanly on SIGTERM.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { GetPolicyCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetPermissionCommand, RAMClient } from "@aws-sdk/client-ram";
import { runFakeAws } from "../../src/fake-aws/main.js";
import { loadFakeAwsConfig } from "../../src/fake-aws/config.js";
import { ConfigError } from "../../src/config-values.js";
import { spawnGateway } from "../process/gateway-process.js";
import { PERMISSION_ARN, rejectionOf, testSeed } from "./harness.js";

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The source under tsx (test/process runs `npm run fake-aws` on the build). */
function runMain(env: Record<string, string>, args: string[] = []) {
  const fakeAws = spawnGateway("tsx-import", env, { program: "fake-aws", args });
  const exited = fakeAws.exited.then(({ code }): Exit => ({ code, ...fakeAws.output() }));
  return { child: fakeAws.child, exited, printed: fakeAws.printed, output: () => fakeAws.output().stdout };
}

describe("npm run fake-aws", () => {
  const badEnvironments: [Record<string, string>, RegExp][] = [
    [{ PORT: "abc" }, /PORT="abc" is not valid: expected an integer from 0 to 65535/],
    [{ PORT: "70000" }, /PORT="70000"/],
    [{ LOG_LEVEL: "loud" }, /LOG_LEVEL="loud" is not valid: expected one of debug, info, warn, error, silent/],
    [{ FAKE_SEED: "/nonexistent/seed.json" }, /FAKE_SEED="\/nonexistent\/seed.json" cannot be used/],
  ];
  for (const [env, message] of badEnvironments) {
    it(`exits 2 with a message naming the variable for ${JSON.stringify(env)}`, async () => {
      const { exited } = runMain(env);
      const exit = await exited;
      assert.equal(exit.code, 2, exit.stderr);
      assert.match(exit.stderr, message);
    });
  }

  it("--help lists HOST, PORT, FAKE_SEED and LOG_LEVEL and exits 0", async () => {
    const exit = await runMain({}, ["--help"]).exited;
    assert.equal(exit.code, 0);
    for (const name of ["HOST", "PORT", "FAKE_SEED", "LOG_LEVEL", "4010", "/__fake/faults"])
      assert.match(exit.stdout, new RegExp(name));
  });

  it("serves FAKE_SEED, prints the SDK environment and stops cleanly on SIGTERM", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "fake-aws-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const seedPath = join(dir, "seed.json");
    await writeFile(seedPath, JSON.stringify(testSeed));

    const { child, exited, printed, output } = runMain({ PORT: "0", FAKE_SEED: seedPath, LOG_LEVEL: "silent" });
    t.after(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    const url = (await printed(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1];
    assert.ok(url, "the endpoint printed its URL");
    for (const line of [
      `export AWS_ENDPOINT_URL_LAMBDA=${url}`,
      `export AWS_ENDPOINT_URL_RAM=${url}`,
      "export AWS_ACCESS_KEY_ID=test",
      "export AWS_SECRET_ACCESS_KEY=test",
      "export AWS_REGION=us-east-1",
      "export AWS_DEFAULT_REGION=us-east-1",
      `aws --endpoint-url ${url} lambda get-policy --function-name demo`,
      `boto3.client("lambda", endpoint_url="${url}")`,
    ]) {
      assert.ok(output().includes(line), line);
    }

    const config = {
      endpoint: url,
      region: "us-east-1",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      maxAttempts: 1,
    };
    const lambda = new LambdaClient(config);
    const ram = new RAMClient(config);
    try {
      const got = await ram.send(new GetPermissionCommand({ permissionArn: PERMISSION_ARN }));
      assert.equal(got.permission?.arn, PERMISSION_ARN);
      assert.equal(
        (await rejectionOf(lambda.send(new GetPolicyCommand({ FunctionName: "demo" })))).name,
        "ResourceNotFoundException",
      );
    } finally {
      lambda.destroy();
      ram.destroy();
    }

    child.kill("SIGTERM");
    const exit = await exited;
    assert.equal(exit.code, 0, exit.stderr);
  });

  it("starts on the demo seed by default (in-process, stopped by its stop signal)", async () => {
    let out = "";
    let stop: (signal: string) => void = () => {};
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    const running = runFakeAws(
      [],
      { PORT: "0", LOG_LEVEL: "silent" },
      {
        stdout: (text) => {
          out += text;
          const url = /listening on (\S+)/.exec(out)?.[1];
          if (url !== undefined) void probe(url).then(() => stop("test"));
        },
        stderr: () => {},
        stopSignal: () => stopped,
      },
    );
    let demoPermission: string | undefined;
    async function probe(url: string): Promise<void> {
      const ram = new RAMClient({
        endpoint: url,
        region: "us-east-1",
        credentials: { accessKeyId: "a", secretAccessKey: "b" },
        maxAttempts: 1,
      });
      try {
        demoPermission = (await ram.send(new GetPermissionCommand({ permissionArn: PERMISSION_ARN }))).permission?.name;
      } finally {
        ram.destroy();
      }
    }
    assert.equal(await running, 0);
    assert.equal(demoPermission, "demo-permission");
  });
});

describe("loadFakeAwsConfig", () => {
  it("defaults to 127.0.0.1:4010, the demo seed and info logs", () => {
    assert.deepEqual(loadFakeAwsConfig({}), { host: "127.0.0.1", port: 4010, seedPath: undefined, logLevel: "info" });
  });

  it("reads HOST, PORT, FAKE_SEED and LOG_LEVEL", () => {
    assert.deepEqual(
      loadFakeAwsConfig({ HOST: "0.0.0.0", PORT: "9000", FAKE_SEED: "/tmp/s.json", LOG_LEVEL: "debug" }),
      {
        host: "0.0.0.0",
        port: 9000,
        seedPath: "/tmp/s.json",
        logLevel: "debug",
      },
    );
  });

  it("throws a ConfigError naming PORT", () => {
    assert.throws(
      () => loadFakeAwsConfig({ PORT: "abc" }),
      (error: unknown) => error instanceof ConfigError && error.variable === "PORT",
    );
  });
});

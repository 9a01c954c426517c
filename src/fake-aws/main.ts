// `npm run fake-aws`: config -> fake backend -> listen; signals. The only
// reader of process.env for the fake AWS endpoint.
import { createFakeBackend, loadFakeSeedFile } from "../backend/fake/fake-backend.js";
import { FAKE_DEFAULT_ACCOUNT } from "../backend/fake/defaults.js";
import { demoSeed } from "../backend/fake/demo-seed.js";
import { createFakeIdentities } from "../backend/fake/identities.js";
import { systemClock } from "../clock.js";
import { ConfigError } from "../config-values.js";
import { exitWhenDone, isEntryPoint } from "../entry-point.js";
import { errorMessage } from "../util/error-message.js";
import { createJsonLogger } from "../logger.js";
import { fakeAwsHelpText, loadFakeAwsConfig, sdkEnvironment, type FakeAwsConfig } from "./config.js";
import { startFakeAwsServer } from "./server.js";

export interface FakeAwsMainIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Resolves when the process is asked to stop. */
  readonly stopSignal: () => Promise<string>;
}

const processIo: FakeAwsMainIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  // `on`, not `once`: a repeated signal (Ctrl-C under npm arrives twice) must
  // not kill the process while it stops.
  stopSignal: () =>
    new Promise((resolve) => {
      process.on("SIGINT", resolve);
      process.on("SIGTERM", resolve);
    }),
};

/** Runs the endpoint until a stop signal; resolves to the exit code (2: bad configuration). */
export async function runFakeAws(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: FakeAwsMainIo = processIo,
): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout(fakeAwsHelpText());
    return 0;
  }
  let config: FakeAwsConfig;
  try {
    config = loadFakeAwsConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`fake-aws: ${error.message}\nRun with --help to list the configuration.\n`);
      return 2;
    }
    throw error;
  }

  let seed;
  try {
    seed = config.seedPath === undefined ? undefined : await loadFakeSeedFile(config.seedPath);
  } catch (error) {
    io.stderr(`fake-aws: FAKE_SEED=${JSON.stringify(config.seedPath)} cannot be used: ${errorMessage(error)}\n`);
    return 2;
  }
  const logger = createJsonLogger(config.logLevel, (line) => io.stderr(line + "\n"));
  const backend = createFakeBackend({ ...(seed === undefined ? {} : { seed }), clock: systemClock });
  const stopped = io.stopSignal();

  let server;
  try {
    const roles = (seed ?? demoSeed).iam?.roles ?? [];
    const identities = createFakeIdentities({ roles, baseAccount: FAKE_DEFAULT_ACCOUNT, clock: systemClock });
    server = await startFakeAwsServer({ backend, host: config.host, port: config.port, logger, identities });
  } catch (error) {
    await backend.close();
    io.stderr(`fake-aws: cannot listen on ${config.host}:${config.port}: ${errorMessage(error)}\n`);
    return 1;
  }
  const environment = sdkEnvironment(server.url);
  logger.info("fake AWS endpoint listening", { url: server.url, seed: config.seedPath ?? "demo seed" });
  io.stdout(
    [
      `fake-aws listening on ${server.url}`,
      "Point an AWS SDK or the AWS CLI at it with:",
      ...Object.entries(environment).map(([name, value]) => `  export ${name}=${value}`),
      // AWS CLI v1 and boto3 read only AWS_DEFAULT_REGION.
      `  export AWS_DEFAULT_REGION=${environment["AWS_REGION"]}`,
      "AWS CLI before 2.13 (Debian 12: 2.9) and boto3 before 1.28 (Debian 12: 1.26) ignore AWS_ENDPOINT_URL_*;",
      "give them the endpoint (docs/fake-aws.md):",
      `  aws --endpoint-url ${server.url} lambda get-policy --function-name demo`,
      `  boto3.client("lambda", endpoint_url="${server.url}")`,
      "",
    ].join("\n"),
  );

  const signal = await stopped;
  logger.info("shutting down", { signal });
  await server.close();
  await backend.close();
  return 0;
}

if (isEntryPoint(import.meta.url)) exitWhenDone("fake-aws", runFakeAws(process.argv.slice(2), process.env));

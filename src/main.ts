// Process entry: config -> dependencies -> listen; signals. The only reader
// of process.env. The AWS SDK is loaded only when BACKEND=aws, so start-up on
// the embedded default (fake backend, in-memory store) stays fast.
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import type { PermissionBackend } from "./backend/backend.js";
import { systemClock } from "./clock.js";
import { loadConfig, helpText, type Config, type TlsConfig } from "./config.js";
import { ConfigError } from "./config-values.js";
import { createIdempotency } from "./idempotency/config.js";
import { createJsonLogger, type Logger } from "./logger.js";
import { startServer, type RunningServer } from "./server.js";

async function createBackend(config: Config, logger: Logger): Promise<PermissionBackend> {
  if (config.backend === "aws") {
    const { createAwsBackend } = await import("./backend/aws/aws-backend.js");
    return createAwsBackend({ ...config.aws, logger });
  }
  const { createFakeBackend, loadFakeSeedFile } = await import("./backend/fake/fake-backend.js");
  const seed = config.fake.seedPath === undefined ? undefined : await loadFakeSeedFile(config.fake.seedPath);
  return createFakeBackend({
    ...(seed === undefined ? {} : { seed }),
    clock: systemClock,
    faults: {
      latencyMs: config.fake.latencyMs,
      errorRate: config.fake.errorRate,
      ...(config.fake.errorCode === undefined ? {} : { errorCode: config.fake.errorCode }),
    },
  });
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(helpText());
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`permission-gateway: ${error.message}\nRun with --help to list the configuration.\n`);
      return 2;
    }
    throw error;
  }

  const logger = createJsonLogger(config.logLevel);
  let backend: PermissionBackend;
  try {
    backend = await createBackend(config, logger);
  } catch (error) {
    process.stderr.write(`permission-gateway: cannot start the ${config.backend} backend: ${describe(error)}\n`);
    return 2;
  }
  let tls: { cert: Buffer; key: Buffer } | undefined;
  try {
    tls = config.tls === undefined ? undefined : await readTls(config.tls);
  } catch (error) {
    process.stderr.write(`permission-gateway: ${describe(error)}\n`);
    return 2;
  }
  const idempotency = await createIdempotency(config.idempotency, { clock: systemClock, logger });
  let server: RunningServer;
  try {
    server = await startServer(
      { backend, idempotency: idempotency.guard, logger, clock: systemClock },
      {
        host: config.host,
        port: config.port,
        tls,
        corsAllowedOrigins: config.corsAllowedOrigins,
        maxRequestBytes: config.maxRequestBytes,
        shutdownGraceMs: config.shutdownGraceMs,
      },
    );
  } catch (error) {
    process.stderr.write(`permission-gateway: cannot listen on HOST=${config.host} PORT=${config.port}: ${describe(error)}\n`);
    await Promise.allSettled([idempotency.close(), backend.close()]);
    return 2;
  }
  logger.info("permission-gateway listening", {
    url: server.url,
    backend: config.backend,
    idempotencyStore: config.idempotency.store,
  });

  // The listeners stay for the whole drain: Ctrl-C under `npm start` reaches
  // node twice (from the terminal, and forwarded by npm), and a repeat with
  // no listener left would kill the process mid-drain.
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.on("SIGINT", resolve);
    process.on("SIGTERM", resolve);
  });
  logger.info("shutting down", { signal });
  await server.close();
  await Promise.allSettled([idempotency.close(), backend.close()]);
  return 0;
}

async function readTls(tls: TlsConfig): Promise<{ cert: Buffer; key: Buffer }> {
  const read = async (variable: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (error) {
      throw new Error(`${variable}=${JSON.stringify(path)} cannot be read: ${describe(error)}`, { cause: error });
    }
  };
  return { cert: await read("TLS_CERT_FILE", tls.certFile), key: await read("TLS_KEY_FILE", tls.keyFile) };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`permission-gateway: fatal: ${describe(error)}\n`);
      process.exit(1);
    },
  );
}

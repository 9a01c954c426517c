// Process entry: environment -> Config -> gateway (src/gateway.ts), then
// signals and the exit code. The only reader of process.env. Exit codes: 0
// after a clean stop, 1 when the shutdown had to cut calls (or a fatal bug),
// 2 when the configuration or a start-up step is wrong.
import { systemClock } from "./clock.js";
import { loadConfig, helpText, type Config } from "./config.js";
import { ConfigError } from "./config-values.js";
import {
  compileCacheState,
  enableModuleCompileCache,
  exitWhenDone,
  flushModuleCompileCache,
  isEntryPoint,
} from "./entry-point.js";
import type { Gateway } from "./gateway.js";
import { createLogger } from "./logger.js";

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

  const logger = createLogger({ level: config.logLevel });
  // A request must never end the process: whatever escapes every handler is
  // a bug, reported loudly, and the gateway goes on serving the other calls.
  process.on("uncaughtException", (error) =>
    logger.error("uncaught exception (a bug); the gateway keeps serving", { error }),
  );
  process.on("unhandledRejection", (reason) =>
    logger.error("unhandled promise rejection (a bug); the gateway keeps serving", {
      error: reason instanceof Error ? reason : String(reason),
    }),
  );
  if (config.listenWarning !== undefined) logger.warn(config.listenWarning);

  // Loaded here rather than imported above: modules compiled before the
  // entry turned the compile cache on are not cached, and this is most of them.
  const { startGateway, StartupError } = await import("./gateway.js");
  let gateway: Gateway;
  try {
    gateway = await startGateway(config, { logger, clock: systemClock });
  } catch (error) {
    if (error instanceof StartupError) {
      process.stderr.write(`permission-gateway: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  logger.info("permission-gateway listening", {
    url: gateway.url,
    ...(gateway.opsUrl === undefined ? {} : { opsUrl: gateway.opsUrl }),
    backend: config.backend,
    idempotencyStore: config.idempotency.store,
    authMode: config.auth.authentication.mode,
    ...compileCacheState(),
  });
  flushModuleCompileCache();

  const onHangup = (): void => {
    gateway
      .reload()
      .catch((error: unknown) =>
        logger.error("reload failed", { error: error instanceof Error ? error : String(error) }),
      );
  };
  process.on("SIGHUP", onHangup);
  // The listeners stay for the whole drain: Ctrl-C under `npm start` reaches
  // node twice (from the terminal, and forwarded by npm), and a repeat with
  // no listener left would kill the process mid-drain.
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.on("SIGINT", resolve);
    process.on("SIGTERM", resolve);
  });
  logger.info("shutting down", { signal });
  process.off("SIGHUP", onHangup);
  const { cutCalls } = await gateway.close();
  if (cutCalls > 0) {
    logger.error("stopped with calls cut short by the shutdown grace period", { cutCalls });
    return 1;
  }
  logger.info("stopped");
  return 0;
}

if (isEntryPoint(import.meta.url)) {
  enableModuleCompileCache();
  exitWhenDone("permission-gateway", main(process.argv.slice(2), process.env));
}

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
  whenParentEnds,
} from "./entry-point.js";
import { createFatalErrorHandler } from "./fatal-error.js";
import type { Gateway } from "./gateway.js";
import { createLogger } from "./logger.js";

/** After SHUTDOWN_GRACE_MS, the time to release idempotency claims and close Redis before a fatal exit. */
const FATAL_DRAIN_MARGIN_MS = 2_000;

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
  // Requests are contained where they are served; whatever escapes every
  // handler is a bug that leaves the process in an unknown state: drain and
  // exit 1 to be restarted (src/fatal-error.ts says why).
  let gateway: Gateway | undefined;
  let closing: ReturnType<Gateway["close"]> | undefined;
  const close = (running: Gateway): ReturnType<Gateway["close"]> => (closing ??= running.close());
  const onFatalError = createFatalErrorHandler({
    logger,
    drain: () => (gateway === undefined ? undefined : close(gateway)),
    deadlineMs: config.shutdownGraceMs + FATAL_DRAIN_MARGIN_MS,
    exit: (code) => process.exit(code),
  });
  process.on("uncaughtException", onFatalError);
  process.on("unhandledRejection", onFatalError);
  if (config.listenWarning !== undefined) logger.warn(config.listenWarning);
  for (const warning of config.warnings) logger.warn(warning);

  // Loaded here rather than imported above: modules compiled before the
  // entry turned the compile cache on are not cached, and this is most of them.
  const { startGateway, StartupError } = await import("./gateway.js");
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
    // The process SIGHUP must reach (under npm start, npm's child, not npm).
    pid: process.pid,
    ...(gateway.opsUrl === undefined ? {} : { opsUrl: gateway.opsUrl }),
    backend: config.backend,
    idempotencyStore: config.idempotency.store,
    authMode: config.auth.authentication.mode,
    ...compileCacheState(),
  });
  flushModuleCompileCache();

  const onHangup = (): void => {
    gateway.reload().catch((error: unknown) => logger.error("reload failed", { error }));
  };
  process.on("SIGHUP", onHangup);
  // The listeners stay for the whole drain: Ctrl-C under `npm start` reaches
  // node twice (from the terminal, and forwarded by npm), and a repeat with
  // no listener left would kill the process mid-drain.
  const signal = await new Promise<NodeJS.Signals | "npm ended">((resolve) => {
    process.on("SIGINT", resolve);
    process.on("SIGTERM", resolve);
    // Under an npm script, npm ending first means it was killed, by SIGHUP
    // most likely (npm forwards only SIGINT and SIGTERM). Running on with
    // the old policies, unsupervised, would hide that the reload never
    // happened: the gateway stops, and says where SIGHUP must go.
    if (env["npm_lifecycle_event"] !== undefined)
      whenParentEnds((npmPid) => {
        logger.error(
          `npm (pid ${npmPid}), which ran this gateway, has ended; the gateway stops too. ` +
            `npm does not forward SIGHUP: to reload, signal the gateway's own pid ${process.pid}`,
        );
        resolve("npm ended");
      });
  });
  logger.info("shutting down", { signal });
  process.off("SIGHUP", onHangup);
  const { cutCalls } = await close(gateway);
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

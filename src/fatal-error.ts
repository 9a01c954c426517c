// What the process does with an error that escaped every handler (an
// uncaughtException, or an unhandled promise rejection, which Node itself
// treats as one by default): it is a bug, and the process stops.
//
// Why not keep serving: every request path is already contained (the
// Reliability table; the fuzz test sends 4,000 damaged requests and the
// gateway answers each), so what arrives here escaped from somewhere else:
// a timer, a socket or client event, a library callback. Node documents
// that the process is then in an undefined state, and resuming is unsafe:
// a half-done step may hold a lease, a connection or a counter forever.
// A restart is cheap and safe: replicas keep nothing another needs, a
// claim the process held is freed when its lease ends, and the
// orchestrator (or systemd) restarts it.
//
// How: one `fatal` log line with the error; readiness NOT_SERVING and the
// calls in flight drained, as on SIGTERM, bounded by the shutdown grace;
// then exit 1, whether the drain finished, failed or hung.
import type { Logger } from "./logger.js";

export interface FatalErrorOptions {
  readonly logger: Logger;
  /** The gateway's graceful stop (readiness first, then the drain); undefined before it has started. */
  readonly drain: () => Promise<unknown> | undefined;
  /** How long the drain may take before the process exits anyway: SHUTDOWN_GRACE_MS plus a margin. */
  readonly deadlineMs: number;
  readonly exit: (code: number) => void;
}

export const FATAL_EXIT_CODE = 1;

/** The listener for process "uncaughtException" (and "unhandledRejection"); the first error stops the process, later ones are only logged. */
export function createFatalErrorHandler(options: FatalErrorOptions): (error: unknown) => void {
  const { logger } = options;
  let stopping = false;
  return (error) => {
    const fields = { error };
    if (stopping) {
      logger.error("another uncaught error while stopping for one (a bug)", fields);
      return;
    }
    stopping = true;
    logger.error(
      `uncaught error (a bug): the process state is unknown, so the gateway drains and exits with ${FATAL_EXIT_CODE} to be restarted`,
      fields,
    );
    let exited = false;
    const exit = (): void => {
      if (exited) return;
      exited = true;
      clearTimeout(deadline);
      options.exit(FATAL_EXIT_CODE);
    };
    // Not unref'd: a drain that hangs must not leave the process up, nor let it end with 0.
    const deadline = setTimeout(() => {
      logger.error("the drain after an uncaught error did not finish in time; exiting");
      exit();
    }, options.deadlineMs);
    // Started now, not in a later tick: readiness turns NOT_SERVING at once.
    let drained: Promise<unknown>;
    try {
      drained = Promise.resolve(options.drain());
    } catch (drainError) {
      drained = Promise.reject(drainError);
    }
    void drained
      .catch((drainError: unknown) => logger.error("the drain after an uncaught error failed", { error: drainError }))
      .finally(exit);
  };
}

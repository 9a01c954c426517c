// The audit trail's own sink: one JSON line per event, on stdout or appended
// to a file, apart from the operational log (stderr). A write resolves once
// the line has been handed to the operating system, so an event is out
// before the call it records is answered; close() waits for every write.
import { once } from "node:events";
import { open, type FileHandle } from "node:fs/promises";
import type { Writable } from "node:stream";
import type { Logger } from "../logger.js";
import type { AuditEvent } from "./event.js";

export interface AuditSink {
  write(event: AuditEvent): Promise<void>;
  /** Waits for the writes in progress, then closes the file (stdout stays open). */
  close(): Promise<void>;
}

export interface AuditSinkOptions {
  readonly target: "stdout" | { readonly file: string };
  readonly logger: Logger;
  /** The stream "stdout" means; default process.stdout. */
  readonly stdout?: Writable | undefined;
}

export class AuditSinkError extends Error {
  override readonly name = "AuditSinkError" as const;
  constructor(
    /** "stdout" or the file's path. */
    readonly sink: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`audit sink ${sink}: ${message}`, options);
  }
}

/** Opens the file at once (and throws AuditSinkError), so a sink that cannot be written stops start-up. */
export async function createAuditSink(options: AuditSinkOptions): Promise<AuditSink> {
  const { target, logger } = options;
  if (target === "stdout") return streamSink(options.stdout ?? process.stdout, "stdout", logger, async () => {});
  let handle: FileHandle;
  try {
    // "a": O_APPEND, so each line lands whole at the end even with other writers (logrotate's copytruncate, replicas).
    handle = await open(target.file, "a", 0o640);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new AuditSinkError(target.file, `cannot be opened for appending: ${code}`, { cause: error });
  }
  const stream = handle.createWriteStream();
  return streamSink(stream, target.file, logger, async () => {
    if (stream.closed) return;
    const closed = once(stream, "close");
    stream.end();
    await closed.catch(() => undefined); // a failed stream is closed already; its writes were rejected and logged
  });
}

function streamSink(stream: Writable, sink: string, logger: Logger, end: () => Promise<void>): AuditSink {
  const pending = new Set<Promise<void>>();
  let closing: Promise<void> | undefined;
  // Without a listener a failed write would crash the process; the write's own promise reports it.
  const onError = (error: Error): void => logger.error("audit sink failed", { sink, error });
  stream.on("error", onError);
  return {
    write(event) {
      if (closing !== undefined) return Promise.reject(new AuditSinkError(sink, "is closed"));
      const line = JSON.stringify(event) + "\n";
      const written = new Promise<void>((resolve, reject) => {
        stream.write(line, (error) => {
          if (error) reject(new AuditSinkError(sink, `write failed: ${error.message}`, { cause: error }));
          else resolve();
        });
      });
      pending.add(written);
      const settled = (): void => void pending.delete(written);
      written.then(settled, settled);
      return written;
    },
    close() {
      closing ??= (async () => {
        await Promise.allSettled([...pending]);
        await end();
        stream.off("error", onError);
      })();
      return closing;
    },
  };
}

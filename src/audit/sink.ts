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

/**
 * Lines written in the same turn of the event loop go out in one write: a
 * burst of calls costs one system call, not one each (stdout to a pipe is
 * written synchronously on Linux), and each write() still resolves only once
 * its line has been handed to the operating system.
 */
function streamSink(stream: Writable, sink: string, logger: Logger, end: () => Promise<void>): AuditSink {
  let batch: { text: string; settle: ((error: Error | null | undefined) => void)[] } | undefined;
  let inFlight = Promise.resolve();
  let closing: Promise<void> | undefined;
  // Without a listener a failed write would crash the process; the write's own promise reports it.
  const onError = (error: Error): void => logger.error("audit sink failed", { sink, error });
  stream.on("error", onError);

  const flush = (): void => {
    const current = batch;
    batch = undefined;
    if (current === undefined) return;
    inFlight = new Promise<void>((done) => {
      stream.write(current.text, (error) => {
        for (const settle of current.settle) settle(error);
        done();
      });
    });
  };

  return {
    write(event) {
      if (closing !== undefined) return Promise.reject(new AuditSinkError(sink, "is closed"));
      const line = JSON.stringify(event) + "\n";
      return new Promise<void>((resolve, reject) => {
        const settle = (error: Error | null | undefined): void => {
          if (error) reject(new AuditSinkError(sink, `write failed: ${error.message}`, { cause: error }));
          else resolve();
        };
        if (batch === undefined) {
          batch = { text: line, settle: [settle] };
          setImmediate(flush);
        } else {
          batch.text += line;
          batch.settle.push(settle);
        }
      });
    },
    close() {
      closing ??= (async () => {
        flush();
        await inFlight;
        await end();
        stream.off("error", onError);
      })();
      return closing;
    },
  };
}

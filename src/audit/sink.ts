// The audit trail's own sink: one JSON line per event, on stdout or appended
// to a file, apart from the operational log (stderr). A write resolves only
// once its line has been handed to the operating system (the file's write
// returned, stdout's write callback came without error) and rejects with
// AuditSinkError when it was not, within a bounded time: the audit trail
// refuses a mutation on that rejection, so it must come, and come soon.
import { open, type FileHandle } from "node:fs/promises";
import type { Writable } from "node:stream";
import type { Logger } from "../logger.js";
import { AUDIT_SETTINGS } from "./config.js";
import type { AuditEvent } from "./event.js";

export interface AuditSink {
  /** Resolves once the event's line is written; rejects with AuditSinkError when it was not. */
  write(event: AuditEvent): Promise<void>;
  /** Waits for the writes in progress, then closes the file (stdout stays open). */
  close(): Promise<void>;
}

export interface AuditSinkOptions {
  readonly target: "stdout" | { readonly file: string };
  readonly logger: Logger;
  /** The stream "stdout" means; default process.stdout. */
  readonly stdout?: Writable | undefined;
  /** A write not done by then is rejected (its line may still land later). Default: AUDIT_WRITE_TIMEOUT_MS's. */
  readonly writeTimeoutMs?: number | undefined;
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

/** Writes one chunk of whole lines; rejects with the system's error. */
interface LineWriter {
  write(text: string): Promise<void>;
  end(): Promise<void>;
}

/** Opens the file at once (and throws AuditSinkError), so a sink that cannot be written stops start-up. */
export async function createAuditSink(options: AuditSinkOptions): Promise<AuditSink> {
  const { target, logger } = options;
  const timeoutMs = options.writeTimeoutMs ?? AUDIT_SETTINGS.writeTimeoutMs.default;
  if (target === "stdout")
    return batchingSink(streamWriter(options.stdout ?? process.stdout, logger), "stdout", timeoutMs);
  let handle: FileHandle;
  try {
    handle = await openForAppend(target.file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new AuditSinkError(target.file, `cannot be opened for appending: ${code}`, { cause: error });
  }
  return batchingSink(fileWriter(target.file, handle), target.file, timeoutMs);
}

/** "a": O_APPEND, so each line lands whole at the end even with other writers (logrotate's copytruncate, replicas). */
function openForAppend(file: string): Promise<FileHandle> {
  return open(file, "a", 0o640);
}

/**
 * A file written through its handle, not a WriteStream: a stream that fails
 * once is destroyed for good, and the trail must be able to come back. After
 * a failed write the handle is closed and the path opened again on the next
 * one, so a disk with space again, a file rotated away or a path pointed at
 * a new file is written again. A line cut short by a failure (a short write,
 * then ENOSPC) is ended by a newline before the next write, so the next line
 * is whole: a reader skips the one cut line.
 */
function fileWriter(file: string, first: FileHandle): LineWriter {
  let handle: FileHandle | undefined = first;
  let cutLine = false;
  return {
    async write(text) {
      let written = 0;
      try {
        handle ??= await openForAppend(file);
        const data = Buffer.from(cutLine ? "\n" + text : text, "utf8");
        while (written < data.length) {
          const { bytesWritten } = await handle.write(data, written, data.length - written, null);
          written += bytesWritten;
        }
        cutLine = false;
      } catch (error) {
        if (written > 0) cutLine = true;
        const failed = handle;
        handle = undefined;
        await failed?.close().catch(() => undefined);
        throw error;
      }
    },
    async end() {
      const last = handle;
      handle = undefined;
      await last?.close();
    },
  };
}

/**
 * stdout: a stream that failed (EPIPE: its reader went away) stays failed,
 * and every later write is refused at once rather than waiting for a
 * callback that a destroyed stream may never call.
 */
function streamWriter(stream: Writable, logger: Logger): LineWriter {
  // Without a listener a failed write would crash the process; the write's own promise reports it.
  const onError = (error: Error): void => logger.error("audit sink failed", { sink: "stdout", error });
  stream.on("error", onError);
  return {
    write: (text) =>
      new Promise<void>((resolve, reject) => {
        if (stream.destroyed || stream.writableEnded) {
          reject(stream.errored ?? new Error("the stream is closed"));
          return;
        }
        stream.write(text, (error) => (error ? reject(error) : resolve()));
      }),
    end: async () => {
      stream.off("error", onError);
    },
  };
}

/**
 * Lines that arrive while the sink is idle are written together at the end
 * of the event loop's turn, and those that arrive while a write is under way
 * go in the next one: a burst of calls costs one system call, not one each,
 * writes never overlap, and each line's writer hears how its own write went.
 */
function batchingSink(writer: LineWriter, sink: string, timeoutMs: number): AuditSink {
  type Batch = { text: string; settles: ((error: unknown) => void)[] };
  let pending: Batch | undefined;
  let draining: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  const drain = async (): Promise<void> => {
    for (let batch = pending; batch !== undefined; batch = pending) {
      pending = undefined;
      let failure: unknown;
      try {
        await writer.write(batch.text);
      } catch (error) {
        failure = error ?? new Error("write failed");
      }
      for (const settle of batch.settles) settle(failure);
    }
    draining = undefined;
  };
  const startDraining = (): void => {
    draining ??= drain();
  };

  return {
    write(event) {
      if (closing !== undefined) return Promise.reject(new AuditSinkError(sink, "is closed"));
      const line = JSON.stringify(event) + "\n";
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new AuditSinkError(sink, `write not done within ${timeoutMs} ms`)),
          timeoutMs,
        );
        timer.unref();
        const settle = (error: unknown): void => {
          clearTimeout(timer);
          if (error === undefined) resolve();
          else {
            const reason = error instanceof Error ? error.message : JSON.stringify(error);
            reject(new AuditSinkError(sink, `write failed: ${reason}`, { cause: error }));
          }
        };
        if (pending === undefined) {
          pending = { text: line, settles: [settle] };
          if (draining === undefined) setImmediate(startDraining);
        } else {
          pending.text += line;
          pending.settles.push(settle);
        }
      });
    },
    close() {
      closing ??= (async () => {
        startDraining();
        // A hung write must not hold shutdown: its line is lost either way.
        let timer: NodeJS.Timeout | undefined;
        const givenUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
        await Promise.race([draining, givenUp]);
        clearTimeout(timer);
        await writer.end();
      })();
      return closing;
    },
  };
}

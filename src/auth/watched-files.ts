// Credential files that change while the gateway runs (certificates, the CA
// bundle, API keys, a JWKS file): read and parsed once, then re-read on a
// poll and on demand (SIGHUP). A change that does not parse keeps the
// previous value, so a half-written file never locks everyone out.
//
// Polling the contents rather than fs.watch: Kubernetes swaps mounted
// secrets through a symlink rename that fs.watch misses, and a few small
// files every few seconds cost nothing.
import { readFile } from "node:fs/promises";
import type { Logger } from "../logger.js";
import { errorMessage } from "../util/error-message.js";

export interface WatchedFile {
  /** The variable that named the file, for messages. */
  readonly variable: string;
  readonly path: string;
}

export interface FileSource<T> {
  /** The value of the last files that parsed. */
  current(): T;
  /** Called with each new value; returns the unsubscribe function. */
  onChange(listener: (value: T) => void): () => void;
  /** Re-reads now (SIGHUP); true when the value changed. Never rejects. */
  reload(): Promise<boolean>;
  close(): void;
}

export interface WatchFilesOptions<T> {
  /** What the files hold, for log lines: "TLS material", "API keys". */
  readonly what: string;
  readonly files: readonly WatchedFile[];
  /** Contents in the order of `files` -> value; throws when they are not valid. */
  readonly parse: (contents: readonly Buffer[]) => T;
  readonly logger: Logger;
  /** How often to look for changes; 0 means only on reload(). */
  readonly pollIntervalMs: number;
}

/** A credential file that cannot be read or parsed at start-up. */
export class CredentialFileError extends Error {
  override readonly name = "CredentialFileError" as const;
  constructor(
    readonly variables: readonly string[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export async function watchFiles<T>(options: WatchFilesOptions<T>): Promise<FileSource<T>> {
  const { what, files, parse, logger } = options;
  const variables = files.map((f) => f.variable);
  let seen = await readAll(files);
  let value: T;
  try {
    value = parse(seen);
  } catch (error) {
    throw new CredentialFileError(variables, `${describeFiles(files)}: ${errorMessage(error)}`, { cause: error });
  }
  const listeners = new Set<(value: T) => void>();
  let lastReadProblem: string | undefined;

  const reloadOnce = async (): Promise<boolean> => {
    let contents: Buffer[];
    try {
      contents = await readAll(files);
    } catch (error) {
      // Logged once per distinct problem, not on every poll.
      if (errorMessage(error) !== lastReadProblem)
        logger.error(`${what}: cannot read, keeping the previous one`, { error });
      lastReadProblem = errorMessage(error);
      return false;
    }
    lastReadProblem = undefined;
    if (sameContents(contents, seen)) return false;
    seen = contents;
    try {
      value = parse(contents);
    } catch (error) {
      logger.error(`${what} changed but is not valid, keeping the previous one`, {
        files: describeFiles(files),
        error,
      });
      return false;
    }
    logger.info(`${what} reloaded`, { files: describeFiles(files) });
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (error) {
        logger.error(`${what}: a reload listener failed`, { error });
      }
    }
    return true;
  };

  // One read at a time, and a reload() asked for during a read gets a read
  // of its own that starts after it (the files may have changed meanwhile).
  let chain: Promise<boolean> = Promise.resolve(false);
  let running = false;
  const runOnce = async (): Promise<boolean> => {
    running = true;
    try {
      return await reloadOnce();
    } catch (error) {
      // Only a bug gets here; the chain must go on working after it.
      logger.error(`${what}: reload failed`, { error });
      return false;
    } finally {
      running = false;
    }
  };
  const reload = (): Promise<boolean> => {
    chain = chain.then(runOnce);
    return chain;
  };
  const timer =
    options.pollIntervalMs > 0
      ? setInterval(() => {
          if (!running) void reload();
        }, options.pollIntervalMs)
      : undefined;
  timer?.unref();

  return {
    current: () => value,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reload,
    close() {
      if (timer !== undefined) clearInterval(timer);
      listeners.clear();
    },
  };
}

/** Reads every file; of those that fail, the first in `files` order is reported, whichever failed first. */
async function readAll(files: readonly WatchedFile[]): Promise<Buffer[]> {
  const read = await Promise.allSettled(
    files.map(async ({ variable, path }) => {
      let contents: Buffer;
      try {
        contents = await readFile(path);
      } catch (error) {
        throw new CredentialFileError(
          [variable],
          `${variable}=${JSON.stringify(path)} cannot be read: ${errorMessage(error)}`,
          {
            cause: error,
          },
        );
      }
      // Truncated and not yet rewritten, most likely: an empty API key file
      // would otherwise revoke every key until the next poll.
      if (contents.length === 0)
        throw new CredentialFileError([variable], `${variable}=${JSON.stringify(path)} is empty`);
      return contents;
    }),
  );
  return read.map((outcome) => {
    if (outcome.status === "rejected") throw outcome.reason;
    return outcome.value;
  });
}

function sameContents(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  return a.length === b.length && a.every((buffer, i) => buffer.equals(b[i] ?? Buffer.alloc(0)));
}

function describeFiles(files: readonly WatchedFile[]): string {
  return files.map(({ variable, path }) => `${variable}=${JSON.stringify(path)}`).join(" ");
}

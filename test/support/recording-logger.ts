// A Logger that keeps every line, for tests that assert what was logged
// (and, as importantly, what never was).
import type { LogFields, Logger } from "../../src/logger.js";

export interface LogLine {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly message: string;
  readonly fields: LogFields | undefined;
}

export interface RecordingLogger extends Logger {
  readonly lines: LogLine[];
  /** Resolves at the first line (already logged or to come) that matches. */
  waitFor(match: (line: LogLine) => boolean): Promise<LogLine>;
}

export function createRecordingLogger(): RecordingLogger {
  const lines: LogLine[] = [];
  const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  const record = (level: LogLine["level"]) => (message: string, fields?: LogFields) => {
    const line = { level, message, fields };
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  return {
    lines,
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
    waitFor(match) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

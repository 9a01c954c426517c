// The Logger port and its pino adapter: one JSON object per line on stderr.
// The port stays this small interface so tests can pass a recording logger
// and nothing outside this file knows pino.
import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

/**
 * A log line's fields. `error` takes whatever was caught (`{ error }`), an
 * Error or not: the logger describes it (see serializeErrors), so call sites
 * never convert it.
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Whether lines at `level` are written (the level is fixed for the logger's life); unknown means yes. */
  isLevelEnabled?(level: Exclude<LogLevel, "silent">): boolean;
}

/** Where lines go: anything with write(line), e.g. a stream; each line ends in "\n". */
export type LogDestination = DestinationStream;

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Default: stderr, written asynchronously and flushed on exit. */
  readonly destination?: LogDestination | undefined;
  /** More field paths to censor, in pino's redact syntax (e.g. "request.apiKey"). */
  readonly redact?: readonly string[] | undefined;
}

export const REDACTED = "[redacted]";

/**
 * Field names that carry credentials or tokens. Idempotency tokens are on the
 * list: a token replays someone else's answer.
 */
const secretKeys = [
  "authorization",
  "cookie",
  '["set-cookie"]',
  '["x-api-key"]',
  "apiKey",
  "password",
  "secret",
  "token",
  "accessToken",
  "refreshToken",
  "sessionToken",
  "secretAccessKey",
  "clientToken",
  "idempotencyKey",
];

/**
 * Censored at the top level and inside these containers. Explicit paths, not
 * pino's `*.` wildcards: a wildcard path costs about ten times more per line,
 * and every call writes an access line.
 */
const secretContainers = ["headers", "request", "metadata"];

const join = (container: string, key: string): string =>
  key.startsWith("[") ? container + key : `${container}.${key}`;

export const REDACTED_PATHS: readonly string[] = [
  ...secretKeys,
  ...secretContainers.flatMap((container) => secretKeys.map((key) => join(container, key))),
];

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 2, sync: false });
  const logger = pino(
    {
      level: options.level,
      messageKey: "message",
      base: null,
      timestamp: createIsoTime(),
      redact: { paths: [...REDACTED_PATHS, ...(options.redact ?? [])], censor: REDACTED },
      formatters: {
        level: (label) => ({ level: label }),
        log: serializeErrors,
      },
    },
    destination,
  );
  return fromPino(logger);
}

/**
 * pino's "time" field in ISO 8601, as the logs always had it. Formatting a
 * Date costs more than writing the rest of an access line's fields, so the
 * part up to the second is made once per second.
 */
function createIsoTime(): () => string {
  let second = Number.NaN;
  let prefix = "";
  return () => {
    const now = Date.now();
    const current = Math.floor(now / 1000);
    if (current !== second) {
      second = current;
      prefix = `,"time":"${new Date(current * 1000).toISOString().slice(0, 20)}`;
    }
    return `${prefix}${String(now - current * 1000).padStart(3, "0")}Z"`;
  };
}

function fromPino(logger: PinoLogger): Logger {
  return {
    debug: (message, fields) => (fields === undefined ? logger.debug(message) : logger.debug(fields, message)),
    info: (message, fields) => (fields === undefined ? logger.info(message) : logger.info(fields, message)),
    warn: (message, fields) => (fields === undefined ? logger.warn(message) : logger.warn(fields, message)),
    error: (message, fields) => (fields === undefined ? logger.error(message) : logger.error(fields, message)),
    isLevelEnabled: (level) => logger.isLevelEnabled(level),
  };
}

/**
 * The earlier logger's signature, kept for its callers: `write` gets each line
 * without its newline.
 */
export function createJsonLogger(level: LogLevel, write?: (line: string) => void): Logger {
  if (write === undefined) return createLogger({ level });
  return createLogger({
    level,
    destination: { write: (line: string) => write(line.endsWith("\n") ? line.slice(0, -1) : line) },
  });
}

/**
 * Errors do not survive JSON.stringify; keep their name, message, stack and
 * cause, under any field name. Whatever else was thrown, given as `error`, is
 * described as a non-Error cause is; a plain record there is a description
 * the caller already made (e.g. an error with its secrets taken out) and is
 * written as it is.
 */
function serializeErrors(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in fields) {
    const value = fields[key];
    if (value instanceof Error) {
      out ??= { ...fields };
      out[key] = describeError(value);
    } else if (key === "error" && value !== undefined && typeof value !== "string" && !isPlainRecord(value)) {
      out ??= { ...fields };
      out[key] = describeCause(value);
    }
  }
  return out ?? fields;
}

function describeError(error: Error): LogFields {
  const described: LogFields = { name: error.name, message: error.message, stack: error.stack };
  if (error.cause instanceof Error) described["cause"] = describeError(error.cause);
  else if (error.cause !== undefined) described["cause"] = describeCause(error.cause);
  return described;
}

function isPlainRecord(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// A cause that is neither an Error nor a primitive is named by its kind only:
// an arbitrary object could carry anything, secrets included.
function describeCause(cause: unknown): string {
  const primitive =
    typeof cause === "string" || typeof cause === "number" || typeof cause === "boolean" || typeof cause === "bigint";
  return primitive ? String(cause) : Object.prototype.toString.call(cause);
}

/** A logger that drops everything; for tests that do not look at logs. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, isLevelEnabled: () => false };

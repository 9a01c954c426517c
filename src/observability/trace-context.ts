// W3C Trace Context (https://www.w3.org/TR/trace-context/): reading an
// incoming traceparent/tracestate and writing the outgoing ones. Anything
// malformed is ignored, as the spec asks: a bad header never fails a call.
import { randomFillSync } from "node:crypto";
import { createContextKey, type ContextValues } from "@connectrpc/connect";

export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero: the caller's span. */
  readonly spanId: string;
  /** The trace-flags byte; bit 0 is "sampled". */
  readonly flags: number;
}

/** What a call knows of its trace, for the access log and outgoing calls. */
export interface CallTrace {
  /** The caller's trace, else one the gateway started (even with spans off). */
  readonly traceId: string;
}

export const callTraceKey = createContextKey<CallTrace | undefined>(undefined, {
  description: "W3C trace of the call",
});

/** The call's trace ID, when the tracing interceptor ran. */
export function traceIdOf(values: ContextValues): string | undefined {
  return values.get(callTraceKey)?.traceId;
}

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const allZero = /^0+$/;

export function parseTraceparent(header: string | null | undefined): TraceParent | undefined {
  if (header === null || header === undefined) return undefined;
  const match = traceparentPattern.exec(header.trim());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  // Version ff is forbidden; version 00 has exactly four fields; a later
  // version may add fields after a dash, which we do not read.
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (allZero.test(traceId) || allZero.test(spanId)) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

export function formatTraceparent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${(parent.flags & 0xff).toString(16).padStart(2, "0")}`;
}

const maxTracestateMembers = 32;
const maxTracestateLength = 512;
const memberPattern =
  /^(?:[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * The tracestate to pass on, or undefined when it is absent or malformed
 * (the spec: discard a tracestate that cannot be parsed, keep the traceparent).
 */
export function parseTracestate(header: string | null | undefined): string | undefined {
  if (header === null || header === undefined || header.length > maxTracestateLength) return undefined;
  const members = header
    .split(",")
    .map((member) => member.trim())
    .filter((member) => member !== "");
  if (members.length === 0 || members.length > maxTracestateMembers) return undefined;
  const keys = new Set<string>();
  for (const member of members) {
    if (!memberPattern.test(member)) return undefined;
    const key = member.slice(0, member.indexOf("="));
    if (keys.has(key)) return undefined;
    keys.add(key);
  }
  return members.join(",");
}

const zeroTraceId = "0".repeat(32);

/**
 * Fresh trace IDs for calls that came without one: 16 random bytes as hex,
 * cut from a buffer filled 256 IDs at a time (a random UUID per call costs
 * several times more).
 */
export function createTraceIdSource(): () => string {
  const pool = Buffer.allocUnsafe(16 * 256);
  let offset = pool.length;
  const next = (): string => {
    if (offset === pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const id = pool.toString("hex", offset, offset + 16);
    offset += 16;
    return id === zeroTraceId ? next() : id;
  };
  return next;
}

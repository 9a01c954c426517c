// The stored form of an outcome: versioned JSON with binary parts in base64.
// Both adapters store exactly this text, and decoding checks every part, so
// a record damaged by hand, by another writer or by a future version is
// reported as corrupt rather than replayed half-right.
import type { JsonValue } from "@bufbuild/protobuf";
import { IdempotencyRecordCorruptError } from "./store.js";
import type { IdempotencyOutcome, StoredErrorDetail } from "./store.js";

const FORMAT_VERSION = 1;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function encodeOutcome(outcome: IdempotencyOutcome): string {
  if (outcome.kind === "response") {
    return JSON.stringify({ v: FORMAT_VERSION, kind: "response", response: toBase64(outcome.response) });
  }
  const { error } = outcome;
  return JSON.stringify({
    v: FORMAT_VERSION,
    kind: "error",
    code: error.code,
    message: error.message,
    details: error.details.map((detail) => ({
      type: detail.type,
      value: toBase64(detail.value),
      ...(detail.debug === undefined ? {} : { debug: detail.debug }),
    })),
    metadata: error.metadata,
  });
}

/** Throws IdempotencyRecordCorruptError (naming `key`) on anything unexpected. */
export function decodeOutcome(key: string, text: string): IdempotencyOutcome {
  const corrupt = (reason: string, cause?: unknown): IdempotencyRecordCorruptError =>
    new IdempotencyRecordCorruptError(key, `outcome ${reason}`, cause === undefined ? undefined : { cause });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw corrupt("is not JSON", cause);
  }
  if (!isObject(parsed) || parsed["v"] !== FORMAT_VERSION) throw corrupt(`has no format version ${FORMAT_VERSION}`);
  if (parsed["kind"] === "response") {
    return { kind: "response", response: fromBase64(parsed["response"], () => corrupt("response is not base64")) };
  }
  if (parsed["kind"] !== "error") throw corrupt("has an unknown kind");
  const { code, message, details, metadata } = parsed;
  if (typeof code !== "number" || !Number.isInteger(code) || code < 1 || code > 16)
    throw corrupt("has an invalid code");
  if (typeof message !== "string") throw corrupt("has no message");
  if (!Array.isArray(details)) throw corrupt("has no details");
  if (!Array.isArray(metadata) || !metadata.every(isStringPair)) throw corrupt("has invalid metadata");
  return {
    kind: "error",
    error: {
      code,
      message,
      details: details.map((detail: unknown): StoredErrorDetail => {
        if (!isObject(detail) || typeof detail["type"] !== "string") throw corrupt("has an invalid detail");
        const value = fromBase64(detail["value"], () => corrupt("has a detail that is not base64"));
        const debug = detail["debug"] as JsonValue | undefined;
        return debug === undefined ? { type: detail["type"], value } : { type: detail["type"], value, debug };
      }),
      metadata: metadata.map(([name, value]) => [name, value] as const),
    },
  };
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function fromBase64(value: unknown, corrupt: () => Error): Uint8Array {
  if (typeof value !== "string" || value.length % 4 !== 0 || !BASE64.test(value)) throw corrupt();
  return new Uint8Array(Buffer.from(value, "base64"));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringPair(value: unknown): value is [string, string] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string";
}

// The request fingerprint: SHA-256 of a canonical form of the request
// without its token. Canonical means the same logical request always hashes
// the same: no wire field order, no unknown fields, object keys (map
// entries too) sorted. Each form is a version, and a stored fingerprint says its version, so
// a replica that hashes differently still recognises the retry of a request
// that an older replica stored.
//
// v1 (stored without a prefix, by replicas before versions existed):
//   protobuf JSON with object keys sorted, and a field set to its zero value
//   counted as omitted, also for `optional` fields. That was wrong for
//   `invoked_via_function_url`: a present false is a Bool condition in the
//   statement AWS writes, absent is no condition at all, yet both hashed the
//   same, so the second request was answered with the first one's statement.
// v2 ("v2:" + hex): presence is meaning. A field with explicit presence (an
//   `optional` scalar, a message) counts when it is set, whatever its value;
//   a field without it (proto3 implicit presence) counts only when it is not
//   its zero value, which is all the wire can say about it anyway. That is
//   what protobuf JSON writes, so v2 is v1's canonical JSON without the
//   clearing of zero values. (The binary encoding would say presence too,
//   but protobuf-es writes it several times slower than JSON: see the
//   docs/performance.md.)
//
// A later version is introduced in two releases: first one that can compute
// it (FINGERPRINT_VERSIONS) while still writing the old one, then one that
// writes it, so no replica of a rolling upgrade meets a version it cannot
// compute, and no retry is refused as a mismatch for a change of form alone.
// v2 itself is written at once, because v1 is the defect above: during the
// one upgrade that brings it, a retry that reaches a replica still without
// versions, after an upgraded one stored the record, is refused.
import { clone, toJson } from "@bufbuild/protobuf";
import type { DescMessage, JsonValue, MessageShape } from "@bufbuild/protobuf";
import { isScalarZeroValue, reflect } from "@bufbuild/protobuf/reflect";
import type { ReflectMessage } from "@bufbuild/protobuf/reflect";
import { createHash } from "node:crypto";

/** The version this replica writes. */
export const FINGERPRINT_VERSION = 2;

/** The versions this replica can compute, to match a stored fingerprint. */
export const FINGERPRINT_VERSIONS: readonly number[] = [1, 2];

const V2_PREFIX = "v2:";

/** The version a stored fingerprint was computed in; undefined for one this replica does not know. */
export function fingerprintVersionOf(stored: string): number | undefined {
  if (stored.startsWith(V2_PREFIX)) return 2;
  // Unprefixed: written before fingerprints had versions.
  return /^[0-9a-f]{64}$/.test(stored) ? 1 : undefined;
}

export function requestFingerprint<I extends DescMessage>(
  schema: I,
  request: MessageShape<I>,
  tokenField: string,
  version: number = FINGERPRINT_VERSION,
): string {
  const copy = clone(schema, request);
  const message = reflect(schema, copy);
  const token = message.fields.find((field) => field.localName === tokenField);
  // A wrong field name would silently fold the token into the fingerprint.
  if (token === undefined) throw new Error(`${schema.typeName} has no field ${tokenField}`);
  message.clear(token);
  if (version === 1) clearZeroValues(message);
  else if (version !== 2) throw new Error(`unknown fingerprint version ${version}`);
  // Protobuf JSON: no wire field order, no unknown fields; keys sorted below.
  const digest = sha256(schema.typeName, canonicalJson(toJson(schema, copy, { useProtoFieldName: true })));
  return version === 1 ? digest : V2_PREFIX + digest;
}

/**
 * One request's fingerprint in the version this replica writes, and a test
 * of whether a stored fingerprint describes the same request: computed in
 * the stored fingerprint's own version (once per version, on demand).
 */
export interface RequestFingerprint {
  readonly current: string;
  matches(stored: string): boolean;
}

export function requestFingerprintOf<I extends DescMessage>(
  schema: I,
  request: MessageShape<I>,
  tokenField: string,
): RequestFingerprint {
  const current = requestFingerprint(schema, request, tokenField);
  const byVersion = new Map<number, string>([[FINGERPRINT_VERSION, current]]);
  return {
    current,
    matches(stored) {
      if (stored === current) return true;
      const version = fingerprintVersionOf(stored);
      if (version === undefined || !FINGERPRINT_VERSIONS.includes(version)) return false;
      let computed = byVersion.get(version);
      if (computed === undefined) {
        computed = requestFingerprint(schema, request, tokenField, version);
        byVersion.set(version, computed);
      }
      return computed === stored;
    },
  };
}

function sha256(typeName: string, canonical: string): string {
  return createHash("sha256").update(`${typeName}\n${canonical}`, "utf8").digest("hex");
}

/** v1 only: a zero value counted as omitted, whatever the field's presence. */
function clearZeroValues(message: ReflectMessage): void {
  for (const field of message.fields) {
    if (!message.isSet(field)) continue;
    switch (field.fieldKind) {
      case "scalar":
        if (isScalarZeroValue(field.scalar, message.get(field))) message.clear(field);
        break;
      case "enum":
        if (message.get(field) === 0) message.clear(field);
        break;
      case "message":
        clearZeroValues(message.get(field));
        break;
      default:
        break;
    }
  }
}

/** JSON with object keys sorted (UTF-16 code unit order) at every level. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] as JsonValue)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

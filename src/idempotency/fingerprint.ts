// The request fingerprint: SHA-256 of a canonical form of the request
// without its token. Canonical means the same logical request always hashes
// the same: protobuf JSON (no wire field order, no unknown fields), object
// keys sorted (map entries too), and a field set to its zero value counts as
// omitted, also for `optional` fields. The token fields of this API are
// 1..64 characters and every optional field of a mutating request must be
// non-empty when given, so "" never means something different from absent.
import { clone, toJson } from "@bufbuild/protobuf";
import type { DescMessage, JsonValue, MessageShape } from "@bufbuild/protobuf";
import { isScalarZeroValue, reflect } from "@bufbuild/protobuf/reflect";
import type { ReflectMessage } from "@bufbuild/protobuf/reflect";
import { createHash } from "node:crypto";

export function requestFingerprint<I extends DescMessage>(
  schema: I,
  request: MessageShape<I>,
  tokenField: string,
): string {
  const copy = clone(schema, request);
  const message = reflect(schema, copy);
  const token = message.fields.find((field) => field.localName === tokenField);
  // A wrong field name would silently fold the token into the fingerprint.
  if (token === undefined) throw new Error(`${schema.typeName} has no field ${tokenField}`);
  message.clear(token);
  clearZeroValues(message);
  const canonical = canonicalJson(toJson(schema, copy, { useProtoFieldName: true }));
  return createHash("sha256").update(`${schema.typeName}\n${canonical}`, "utf8").digest("hex");
}

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

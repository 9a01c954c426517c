// A ConnectError in the form a completed record keeps, and back: a replay
// must send exactly the code, message, details and metadata the first
// answer sent.
import { create, toBinary, toJson } from "@bufbuild/protobuf";
import type { JsonValue } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type { StoredError, StoredErrorDetail } from "./store.js";

/** The parts of a ConnectError that a replay must reproduce. */
export function storedErrorOf(error: ConnectError): StoredError {
  const details = error.details.map((detail): StoredErrorDetail => {
    if (!("desc" in detail)) {
      return detail.debug === undefined
        ? { type: detail.type, value: detail.value }
        : { type: detail.type, value: detail.value, debug: detail.debug };
    }
    const message = create(detail.desc, detail.value);
    const value = toBinary(detail.desc, message);
    let debug: JsonValue | undefined;
    try {
      debug = toJson(detail.desc, message);
    } catch {
      // Connect drops the JSON form for messages it cannot print; so do we.
    }
    return debug === undefined ? { type: detail.desc.typeName, value } : { type: detail.desc.typeName, value, debug };
  });
  return { code: error.code, message: error.rawMessage, details, metadata: [...error.metadata.entries()] };
}

export function errorFromStored(stored: StoredError): ConnectError {
  const error = new ConnectError(
    stored.message,
    stored.code,
    stored.metadata.map(([n, v]) => [n, v]),
  );
  // Raw type + bytes, as Connect keeps details that arrive from the wire: the
  // replay sends exactly the bytes the first answer sent.
  error.details = stored.details.map((detail) =>
    detail.debug === undefined
      ? { type: detail.type, value: detail.value }
      : { type: detail.type, value: detail.value, debug: detail.debug },
  );
  return error;
}

// The API key file: only SHA-256 hashes of keys, never keys.
//
//   # <sha256 of the key, hex>  <caller id>  [groups, comma-separated]
//   9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  payments-ci  payments,deployers
//
// Two lines with one caller id are two keys of that caller (a rotation:
// hand out the new key, then delete the old line).
import type { Logger } from "../../logger.js";
import type { CallerIdentity } from "../identity.js";
import { watchFiles, type FileSource } from "../watched-files.js";

export interface ApiKeyEntry {
  readonly digest: Buffer;
  readonly caller: CallerIdentity;
}

/** Entries by hex digest. */
export type ApiKeyTable = ReadonlyMap<string, ApiKeyEntry>;

const fields = /\s+/;
const sha256Hex = /^[0-9a-f]{64}$/;
const groupName = /^[^\s,]+$/;

export function parseApiKeyFile(text: string): ApiKeyTable {
  const table = new Map<string, ApiKeyEntry>();
  const lineOfCaller = new Map<string, { line: number; groups: string }>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const content = raw.trim();
    if (content === "" || content.startsWith("#")) return;
    const [hash = "", callerId = "", groups = "", ...rest] = content.split(fields);
    const fail = (rule: string): never => {
      throw new Error(`line ${line}: ${rule}`);
    };
    if (callerId === "" || rest.length > 0) fail('expected "<sha256 hex> <caller id> [groups,comma-separated]"');
    if (!sha256Hex.test(hash.toLowerCase()))
      fail("the first field must be the key's SHA-256 in hex (64 characters), as sha256sum prints it");
    const digestHex = hash.toLowerCase();
    if (table.has(digestHex)) fail("this hash is already on an earlier line");
    const groupList = groups === "" ? [] : groups.split(",");
    if (!groupList.every((group) => groupName.test(group)))
      fail("groups are names separated by commas, without spaces or empty names");
    const earlier = lineOfCaller.get(callerId);
    if (earlier !== undefined && earlier.groups !== groups) {
      fail(`caller ${callerId} has other groups on line ${earlier.line}; the keys of one caller must agree`);
    }
    lineOfCaller.set(callerId, { line, groups });
    table.set(digestHex, {
      digest: Buffer.from(digestHex, "hex"),
      caller: { id: callerId, groups: groupList, authMode: "api-key" },
    });
  });
  return table;
}

/** API_KEYS_FILE, parsed now and re-read when it changes (see watchFiles). */
export function watchApiKeyFile(
  path: string,
  reloadIntervalMs: number,
  logger: Logger,
): Promise<FileSource<ApiKeyTable>> {
  return watchFiles({
    what: "API keys",
    files: [{ variable: "API_KEYS_FILE", path }],
    parse: ([contents]) => parseApiKeyFile(contents?.toString("utf8") ?? ""),
    logger,
    pollIntervalMs: reloadIntervalMs,
  });
}

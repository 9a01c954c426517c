// The API key file: only SHA-256 hashes of keys, never keys.
//
//   # <sha256 of the key, hex>  <caller id>  [groups, comma-separated]
//   9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  payments-ci  payments,deployers
//
// Two lines with one caller id are two keys of that caller (a rotation:
// hand out the new key, then delete the old line).
//
// A bad line is left out and the other lines apply, so a revocation made in
// the same edit as a typo still takes effect. Where a bad line leaves it
// unclear what was meant (a hash on two lines, one caller with two sets of
// groups), every line involved is left out: a key that does not work is
// safer than one with the wrong caller or groups.
import type { Logger } from "../../logger.js";
import type { CallerIdentity } from "../identity.js";
import { watchFiles, type FileSource } from "../watched-files.js";

export interface ApiKeyEntry {
  readonly digest: Buffer;
  readonly caller: CallerIdentity;
}

export interface ApiKeyTable {
  /** Entries by hex digest. */
  readonly entries: ReadonlyMap<string, ApiKeyEntry>;
  /** The lines left out, each "line N: <rule>" (never the line's text: it might be a key). */
  readonly ignoredLines: readonly string[];
}

interface KeyLine {
  readonly line: number;
  readonly digestHex: string;
  readonly callerId: string;
  readonly groups: string;
}

const fields = /\s+/;
const sha256Hex = /^[0-9a-f]{64}$/;
const groupName = /^[^\s,]+$/;

/** Throws only when the file has bad lines and no good one (most likely not a key file at all). */
export function parseApiKeyFile(text: string): ApiKeyTable {
  const ignored: { line: number; rule: string }[] = [];
  const candidates: KeyLine[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const content = raw.trim();
    if (content === "" || content.startsWith("#")) return;
    const rule = lineProblem(content);
    if (rule !== undefined) return void ignored.push({ line, rule });
    const [hash = "", callerId = "", groups = ""] = content.split(fields);
    candidates.push({ line, digestHex: hash.toLowerCase(), callerId, groups });
  });
  // Indexes, so a file of many keys is read in one pass over its lines.
  const linesOfHash = new Map<string, KeyLine[]>();
  const linesOfCaller = new Map<string, KeyLine[]>();
  for (const candidate of candidates) {
    for (const [index, key] of [
      [linesOfHash, candidate.digestHex],
      [linesOfCaller, candidate.callerId],
    ] as const) {
      const lines = index.get(key);
      if (lines === undefined) index.set(key, [candidate]);
      else lines.push(candidate);
    }
  }
  const table = new Map<string, ApiKeyEntry>();
  for (const candidate of candidates) {
    const sameHash = linesOfHash.get(candidate.digestHex)?.find((other) => other !== candidate);
    const otherGroups = linesOfCaller.get(candidate.callerId)?.find((other) => other.groups !== candidate.groups);
    if (sameHash !== undefined) {
      ignored.push({ line: candidate.line, rule: `this hash is also on line ${sameHash.line}; neither line applies` });
    } else if (otherGroups !== undefined) {
      ignored.push({
        line: candidate.line,
        rule: `caller ${candidate.callerId} has other groups on line ${otherGroups.line}; the keys of one caller must agree, and none of its lines applies`,
      });
    } else {
      table.set(candidate.digestHex, {
        digest: Buffer.from(candidate.digestHex, "hex"),
        caller: {
          id: candidate.callerId,
          groups: candidate.groups === "" ? [] : candidate.groups.split(","),
          authMode: "api-key",
        },
      });
    }
  }
  const ignoredLines = ignored.sort((a, b) => a.line - b.line).map(({ line, rule }) => `line ${line}: ${rule}`);
  if (table.size === 0 && ignoredLines.length > 0) throw new Error(`no line is valid: ${ignoredLines.join("; ")}`);
  return { entries: table, ignoredLines };
}

function lineProblem(content: string): string | undefined {
  const [hash = "", callerId = "", groups = "", ...rest] = content.split(fields);
  if (callerId === "" || rest.length > 0) return 'expected "<sha256 hex> <caller id> [groups,comma-separated]"';
  if (!sha256Hex.test(hash.toLowerCase()))
    return "the first field must be the key's SHA-256 in hex (64 characters), as sha256sum prints it";
  if (groups !== "" && !groups.split(",").every((group) => groupName.test(group)))
    return "groups are names separated by commas, without spaces or empty names";
  return undefined;
}

/** API_KEYS_FILE, parsed now and re-read when it changes (see watchFiles); each ignored line is logged. */
export function watchApiKeyFile(
  path: string,
  reloadIntervalMs: number,
  logger: Logger,
): Promise<FileSource<ApiKeyTable>> {
  return watchFiles({
    what: "API keys",
    files: [{ variable: "API_KEYS_FILE", path }],
    parse: ([contents]) => {
      const table = parseApiKeyFile(contents?.toString("utf8") ?? "");
      for (const problem of table.ignoredLines)
        logger.error("API_KEYS_FILE: a line is ignored, the other lines apply", { file: path, problem });
      return table;
    },
    logger,
    pollIntervalMs: reloadIntervalMs,
  });
}

/** For readiness: what is wrong with the key file in force, or undefined. */
export function describeIgnoredLines(table: ApiKeyTable): string | undefined {
  const count = table.ignoredLines.length;
  if (count === 0) return undefined;
  return `API_KEYS_FILE: ${count} line${count === 1 ? "" : "s"} ignored (${table.ignoredLines.join("; ")})`;
}

// The caller as STS accepts it in SourceIdentity and RoleSessionName: 2-64
// characters of [A-Za-z0-9_+=,.@-]. The mapping is injective, so two callers
// never share a session or a CloudTrail identity:
//   - every character outside [A-Za-z0-9_+,.@-] (and "=" itself) becomes
//     "=" and the two upper-case hex digits of each of its UTF-8 bytes
//     ("team/alice" -> "team=2Falice"); a caller that needs no escaping is
//     itself;
//   - when that is longer than 64 or shorter than 2 characters, the first 46
//     characters of it, "==", and the first 16 hex digits of the SHA-256 of
//     the caller. Escaped forms never contain "==" (an "=" is always followed
//     by a hex digit), so a shortened form never equals an escaped one; two
//     shortened forms collide only if 64 bits of SHA-256 do.
import { createHash } from "node:crypto";

const KEPT = /[A-Za-z0-9_+,.@-]/;
const MAX = 64;
const PREFIX = 46;

export function sourceIdentityOf(caller: string): string {
  let escaped = "";
  for (const char of caller) {
    if (KEPT.test(char)) escaped += char;
    else
      for (const byte of Buffer.from(char, "utf8")) escaped += "=" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  if (escaped.length >= 2 && escaped.length <= MAX) return escaped;
  const hash = createHash("sha256").update(caller, "utf8").digest("hex").slice(0, 16);
  // Never cut an escape in half: drop a trailing partial "=X".
  const prefix = escaped.slice(0, PREFIX).replace(/=[0-9A-F]?$/, "");
  return `${prefix}==${hash}`;
}

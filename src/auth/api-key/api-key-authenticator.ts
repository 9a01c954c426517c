// AUTH_MODE=api-key: "Authorization: Bearer <key>"; the key's SHA-256 must
// be a line of API_KEYS_FILE. A revoked key is a deleted line; the file
// reloads without a restart.
import { createHash, timingSafeEqual } from "node:crypto";
import { AuthenticationError, type Authenticator } from "../authenticator.js";
import { readBearerCredential } from "../bearer.js";
import type { FileSource } from "../watched-files.js";
import { describeIgnoredLines, type ApiKeyTable } from "./api-key-file.js";

export function createApiKeyAuthenticator(keys: FileSource<ApiKeyTable>): Authenticator {
  return {
    async authenticate({ header }) {
      const key = readBearerCredential(header, "API key");
      const digest = createHash("sha256").update(key, "utf8").digest();
      // The lookup is on the SHA-256 of what the caller sent, which an
      // attacker cannot steer byte by byte, so its timing reveals nothing
      // about a configured hash; the match itself is then confirmed in
      // constant time.
      const entry = keys.current().entries.get(digest.toString("hex"));
      if (entry === undefined || !timingSafeEqual(entry.digest, digest)) {
        throw new AuthenticationError(
          "API_KEY_UNKNOWN",
          "the API key is not known to this gateway (unknown or revoked)",
        );
      }
      return entry.caller;
    },
    credentialWarning: () => describeIgnoredLines(keys.current()),
    reload: async () => void (await keys.reload()),
    close: async () => keys.close(),
  };
}

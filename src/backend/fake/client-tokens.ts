// RAM's clientToken memory: a retry with the same token and the same
// parameters gets the first call's result; the same token with other
// parameters is refused. AWS forgets tokens after a while, and so does the
// fake, bounded in time and in size so a long chaos run cannot grow it forever.
import type { Clock } from "../../clock.js";

export interface ClientTokenRecord<T> {
  /** Canonical form of the parameters the token was first used with. */
  readonly fingerprint: string;
  readonly result: T;
}

export interface ClientTokenCache<T> {
  /** The live record for `key`, or undefined when unknown or expired. */
  get(key: string): ClientTokenRecord<T> | undefined;
  remember(key: string, record: ClientTokenRecord<T>): void;
  readonly size: number;
}

export interface ClientTokenCacheOptions {
  readonly clock: Clock;
  readonly ttlMs: number;
  readonly maxEntries: number;
}

export function createClientTokenCache<T>(options: ClientTokenCacheOptions): ClientTokenCache<T> {
  // Insertion order is expiry order (every entry lives ttlMs from its write),
  // so expired and surplus entries are always at the front.
  const entries = new Map<string, ClientTokenRecord<T> & { readonly expiresAt: number }>();

  const prune = (now: number): void => {
    for (const [key, entry] of entries) {
      if (entry.expiresAt > now && entries.size <= options.maxEntries) break;
      entries.delete(key);
    }
  };

  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= options.clock.now()) {
        entries.delete(key);
        return undefined;
      }
      return { fingerprint: entry.fingerprint, result: entry.result };
    },
    remember(key, record) {
      const now = options.clock.now();
      entries.delete(key);
      entries.set(key, { ...record, expiresAt: now + options.ttlMs });
      prune(now);
    },
    get size() {
      return entries.size;
    },
  };
}

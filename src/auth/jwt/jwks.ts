// Where JWT verification keys come from: a JWKS file (reloaded when it
// changes) or an HTTPS URL (fetched at start, again on a schedule and on an
// unknown `kid`, with a cooldown so a flood of made-up kids cannot hammer
// the identity provider).
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type FetchImplementation,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from "jose";
import type { Logger } from "../../logger.js";
import { AuthenticationUnavailableError } from "../authenticator.js";
import { watchFiles } from "../watched-files.js";
import { errorMessage } from "../../util/error-message.js";

export interface JwtKeys {
  readonly getKey: JWTVerifyGetKey;
  /** Fetches or re-reads the key set now (SIGHUP); never rejects. */
  reload(): Promise<void>;
  close(): void;
}

export interface FileJwksOptions {
  readonly path: string;
  /** 0: only reload(). */
  readonly reloadIntervalMs: number;
}

export async function createFileJwks(options: FileJwksOptions, logger: Logger): Promise<JwtKeys> {
  const source = await watchFiles({
    what: "JWKS",
    files: [{ variable: "JWT_JWKS_FILE", path: options.path }],
    parse: ([contents]) => parseJwks(contents?.toString("utf8") ?? ""),
    logger,
    pollIntervalMs: options.reloadIntervalMs,
  });
  return {
    getKey: (header, token) => source.current()(header, token),
    reload: async () => void (await source.reload()),
    close: () => source.close(),
  };
}

function parseJwks(text: string): ReturnType<typeof createLocalJWKSet> {
  let jwks: JSONWebKeySet;
  try {
    jwks = JSON.parse(text) as JSONWebKeySet;
  } catch (error) {
    throw new Error(`not JSON: ${errorMessage(error)}`, { cause: error });
  }
  const local = createLocalJWKSet(jwks);
  // A private or secret key here means the signing key was published by
  // mistake; refuse it instead of failing every call that would use it.
  jwks.keys.forEach((jwk, index) => {
    if (jwk.kty === "oct" || jwk["d"] !== undefined) {
      throw new Error(
        `key ${index}${jwk.kid === undefined ? "" : ` (kid ${jwk.kid})`} is a private or secret key; a JWKS holds public keys only`,
      );
    }
  });
  return local;
}

export interface RemoteJwksOptions {
  /** https: only (the configuration refuses anything else). */
  readonly url: URL;
  /** An unknown kid refetches the set at most this often. */
  readonly cooldownMs: number;
  /** The set is fetched again this often, so removed (revoked) keys stop working. */
  readonly refreshIntervalMs: number;
  /** One fetch may take this long. Default 5 s. */
  readonly timeoutMs?: number | undefined;
  /**
   * Default: the global fetch, which trusts the system CAs plus
   * NODE_EXTRA_CA_CERTS (the way to trust a private CA in production).
   */
  readonly fetch?: FetchImplementation | undefined;
}

export function createRemoteJwks(options: RemoteJwksOptions, logger: Logger): JwtKeys {
  const { url } = options;
  const remote = createRemoteJWKSet(url, {
    cooldownDuration: options.cooldownMs,
    // Refreshed by the timer below, which keeps the last good set when the
    // provider is down; jose's own expiry would fail every call instead.
    cacheMaxAge: Number.POSITIVE_INFINITY,
    timeoutDuration: options.timeoutMs ?? 5_000,
    ...(options.fetch === undefined ? {} : { [customFetch]: options.fetch }),
  });
  const reload = async (): Promise<void> => {
    try {
      await remote.reload();
    } catch (error) {
      logger.warn("JWKS fetch failed; keeping the keys fetched before", { url: url.href, error });
    }
  };
  // Fetched at once: the first call does not wait, and a wrong URL shows in the log at start-up.
  void reload();
  const timer = setInterval(() => void reload(), options.refreshIntervalMs);
  timer.unref();
  return {
    async getKey(header, token) {
      try {
        return await remote(header, token);
      } catch (error) {
        if (isKeySelectionError(error)) throw error;
        throw new AuthenticationUnavailableError("the JWT signing keys could not be fetched; retry later", {
          cause: error,
        });
      }
    },
    reload,
    close: () => clearInterval(timer),
  };
}

/** Errors about the token's choice of key, as opposed to the fetch of the set. */
function isKeySelectionError(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported
  );
}

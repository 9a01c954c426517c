// AuthConfig -> the Authenticator of its mode, with the files it reads
// loaded (a bad file stops start-up with a CredentialFileError naming it).
// Each mode's code is imported only when it is the one configured: jose
// alone takes about 30 ms to load, which a gateway without JWTs never pays.
import type { FetchImplementation } from "jose";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { Authenticator } from "./authenticator.js";
import type { AuthConfig, JwtConfig } from "./config.js";
import type { JwtKeys } from "./jwt/jwks.js";
import { createNoAuthenticator } from "./none/none-authenticator.js";

export interface AuthenticatorDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** For the JWKS URL; default the global fetch (system CAs plus NODE_EXTRA_CA_CERTS). */
  readonly fetch?: FetchImplementation | undefined;
}

export async function createAuthenticator(config: AuthConfig, deps: AuthenticatorDeps): Promise<Authenticator> {
  const auth = config.authentication;
  switch (auth.mode) {
    case "none":
      return createNoAuthenticator();
    case "mtls": {
      const { createMtlsAuthenticator } = await import("./mtls/mtls-authenticator.js");
      return createMtlsAuthenticator({ identityFrom: auth.identityFrom });
    }
    case "api-key": {
      const { createApiKeyAuthenticator } = await import("./api-key/api-key-authenticator.js");
      const { watchApiKeyFile } = await import("./api-key/api-key-file.js");
      return createApiKeyAuthenticator(await watchApiKeyFile(auth.keysFile, config.reloadIntervalMs, deps.logger));
    }
    case "jwt": {
      const { createJwtAuthenticator } = await import("./jwt/jwt-authenticator.js");
      return createJwtAuthenticator({
        ...auth,
        keys: await jwtKeysOf(auth, config.reloadIntervalMs, deps),
        clock: deps.clock,
      });
    }
  }
}

async function jwtKeysOf(auth: JwtConfig, reloadIntervalMs: number, deps: AuthenticatorDeps): Promise<JwtKeys> {
  const { jwks } = auth;
  const { createFileJwks, createRemoteJwks } = await import("./jwt/jwks.js");
  if (jwks.kind === "file") return createFileJwks({ path: jwks.path, reloadIntervalMs }, deps.logger);
  return createRemoteJwks(
    { url: jwks.url, cooldownMs: jwks.cooldownMs, refreshIntervalMs: jwks.refreshIntervalMs, fetch: deps.fetch },
    deps.logger,
  );
}

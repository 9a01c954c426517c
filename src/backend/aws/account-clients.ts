// SDK clients of the target accounts: one Lambda/RAM pair per Region and
// role session, signing with that session's credentials. Pairs live as long
// as their session's cache entry (role-sessions.ts), so the sessions' bound
// is the clients' bound too.
import { systemClock, type Clock } from "../../clock.js";
import type { Logger } from "../../logger.js";
import type { RoleTarget } from "../backend.js";
import {
  createRoleSessions,
  createStsClientFactory,
  type CredentialProvider,
  type RoleSessionSettings,
  type StsClientFactory,
} from "./role-sessions.js";
import type { AwsClientFactory, AwsClientPair } from "./sdk-clients.js";

export interface AccountClientsOptions {
  readonly clientFactory: AwsClientFactory;
  readonly roleSessions?: RoleSessionSettings | undefined;
  readonly sts?: StsClientFactory | undefined;
  readonly maxAttempts: number;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs?: number | undefined;
  readonly clock?: Clock | undefined;
  readonly logger: Logger;
}

export interface AccountClients {
  /** Rejects with RoleSessionError when the role cannot be assumed. */
  clientsFor(region: string, role: RoleTarget): Promise<AwsClientPair>;
  close(): void;
}

/** Used when the gateway runs without AWS_ACCOUNTS_FILE but a call still names a role (tests). */
const defaultSettings: RoleSessionSettings = {
  sessionDurationSeconds: 3600,
  sessionPerCaller: true,
  sessionCacheEntries: 1000,
  sessionName: "permission-gateway",
};

export function createAccountClients(options: AccountClientsOptions): AccountClients {
  const clock = options.clock ?? systemClock;
  // Built here (and destroyed on close) only when no test handed STS clients in.
  let ownSts: ReturnType<typeof createStsClientFactory> | undefined;
  const sts: StsClientFactory =
    options.sts ??
    (ownSts = createStsClientFactory({
      maxAttempts: options.maxAttempts,
      requestTimeoutMs: options.requestTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? options.requestTimeoutMs,
    }));
  const clients = new Map<string, AwsClientPair>();
  const sessions = createRoleSessions({
    ...(options.roleSessions ?? defaultSettings),
    sts,
    clock,
    logger: options.logger,
    onEvict(sessionKey) {
      for (const [key, pair] of clients)
        if (key.endsWith("\u0001" + sessionKey)) {
          pair.destroy?.();
          clients.delete(key);
        }
    },
  });

  return {
    async clientsFor(region, role) {
      const session = sessions.sessionFor(role, region);
      await session.credentials();
      const key = region + "\u0001" + session.key;
      let pair = clients.get(key);
      if (pair === undefined) {
        pair = options.clientFactory(region, sdkView(session.credentials, clock));
        clients.set(key, pair);
        options.logger.debug("aws clients created", { region, account: role.account, session: session.sessionName });
      }
      return pair;
    },
    close() {
      for (const pair of clients.values()) pair.destroy?.();
      clients.clear();
      ownSts?.destroy();
    },
  };
}

/**
 * The provider as the SDK sees it. The SDK caches credentials until their
 * expiration by the system clock; the session judges expiry by the gateway's
 * clock. The expiration handed on is the remaining lifetime by the
 * gateway's clock, so both renew at the same moment (and with the system
 * clock, it is the expiration itself).
 */
function sdkView(provider: CredentialProvider, clock: Clock): CredentialProvider {
  return async () => {
    const credentials = await provider();
    const expiration = credentials.expiration;
    if (expiration === undefined) return credentials;
    return { ...credentials, expiration: new Date(Date.now() + (expiration.getTime() - clock.now())) };
  };
}

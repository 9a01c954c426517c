// Credentials in the target accounts of AWS_ACCOUNTS_FILE: one role session
// per session key, assumed with STS AssumeRole through the Region's own STS
// endpoint and renewed before it expires.
//
// - Key: (account, role, caller) with the caller as SourceIdentity and as
//   the session name (src/accounts/source-identity.ts); with per-caller
//   sessions off, (account, role) and the configured session name.
// - One provider per key lives as long as its cache entry, so the SDK clients
//   built on it keep their sockets. It renews RENEW_BEFORE_MS before expiry;
//   concurrent calls share one AssumeRole (single flight). A renewal that
//   fails while the old session is still good keeps the old one.
// - The cache is bounded (least recently used out first), so the number of
//   callers cannot grow it without limit; an evicted session is assumed
//   again when needed.
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  STSClient,
  type AssumeRoleCommandOutput,
} from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@smithy/types";
import { RoleSessionError } from "../../accounts/errors.js";
import { sourceIdentityOf } from "../../accounts/source-identity.js";
import type { Clock } from "../../clock.js";
import type { Logger } from "../../logger.js";
import type { RoleTarget } from "../backend.js";

/** Renewal margin: AWS's own credential providers renew 5 minutes before expiry too. */
export const RENEW_BEFORE_MS = 5 * 60_000;

export interface RoleSessionSettings {
  readonly sessionDurationSeconds: number;
  readonly sessionPerCaller: boolean;
  readonly sessionCacheEntries: number;
  readonly sessionName: string;
}

/** The narrow part of an STS client the sessions use. */
export type StsClientFactory = (region: string) => Pick<STSClient, "send">;

export interface RoleSessionsOptions extends RoleSessionSettings {
  readonly sts: StsClientFactory;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called with the key of a session dropped from the cache (its SDK clients are released). */
  readonly onEvict?: ((key: string) => void) | undefined;
}

export type CredentialProvider = () => Promise<AwsCredentialIdentity>;

export interface RoleSession {
  /** The cache key: account, role and, per caller, the session name. */
  readonly key: string;
  readonly sessionName: string;
  /** Undefined when sessions are not per caller. */
  readonly sourceIdentity: string | undefined;
  readonly credentials: CredentialProvider;
}

export interface RoleSessions {
  /** The session of `role`, made on first use; `region` picks the STS endpoint of a new assumption. */
  sessionFor(role: RoleTarget, region: string): RoleSession;
  readonly size: () => number;
}

export function createRoleSessions(options: RoleSessionsOptions): RoleSessions {
  const { clock, logger } = options;
  // Map order is insertion order: re-inserting on use makes the first key the least recently used.
  const sessions = new Map<string, RoleSession>();

  function newSession(key: string, role: RoleTarget, region: string): RoleSession {
    const sourceIdentity = options.sessionPerCaller ? sourceIdentityOf(role.caller) : undefined;
    const sessionName = sourceIdentity ?? options.sessionName;
    let current: AwsCredentialIdentity | undefined;
    let pending: Promise<AwsCredentialIdentity> | undefined;

    const assume = async (): Promise<AwsCredentialIdentity> => {
      let output: AssumeRoleCommandOutput;
      try {
        output = await options.sts(region).send(
          new AssumeRoleCommand({
            RoleArn: role.roleArn,
            RoleSessionName: sessionName,
            DurationSeconds: options.sessionDurationSeconds,
            ...(role.externalId === undefined ? {} : { ExternalId: role.externalId }),
            ...(sourceIdentity === undefined ? {} : { SourceIdentity: sourceIdentity }),
          }),
        );
      } catch (error) {
        throw roleSessionErrorOf(error, role);
      }
      const issued = output.Credentials;
      if (
        issued?.AccessKeyId === undefined ||
        issued.SecretAccessKey === undefined ||
        issued.SessionToken === undefined ||
        issued.Expiration === undefined
      )
        throw new RoleSessionError("unavailable", role.roleArn, role.account, "STS AssumeRole answered no credentials");
      logger.debug("role session assumed", { roleArn: role.roleArn, sessionName, expiration: issued.Expiration });
      return {
        accessKeyId: issued.AccessKeyId,
        secretAccessKey: issued.SecretAccessKey,
        sessionToken: issued.SessionToken,
        expiration: issued.Expiration,
      };
    };

    const credentials: CredentialProvider = async () => {
      const now = clock.now();
      const expiresAt = current?.expiration?.getTime() ?? 0;
      if (current !== undefined && expiresAt - now > RENEW_BEFORE_MS) return current;
      pending ??= assume().finally(() => (pending = undefined));
      try {
        current = await pending;
        return current;
      } catch (error) {
        // STS failed while the old session still works: keep using it, try again on the next call.
        if (current !== undefined && expiresAt > clock.now()) {
          logger.warn("role session renewal failed; the current session is still valid", {
            roleArn: role.roleArn,
            error,
          });
          return current;
        }
        throw error;
      }
    };
    return { key, sessionName, sourceIdentity, credentials };
  }

  return {
    sessionFor(role, region) {
      const key = [role.account, role.roleArn, options.sessionPerCaller ? role.caller : ""].join("\u0000");
      let session = sessions.get(key);
      if (session !== undefined) sessions.delete(key);
      else session = newSession(key, role, region);
      sessions.set(key, session);
      while (sessions.size > options.sessionCacheEntries) {
        const oldest = sessions.keys().next().value as string;
        sessions.delete(oldest);
        options.onEvict?.(oldest);
      }
      return session;
    },
    size: () => sessions.size,
  };
}

/** STS's answer in the gateway's words: refused, throttled, or unavailable. */
function roleSessionErrorOf(error: unknown, role: RoleTarget): RoleSessionError {
  const name = error instanceof Error ? error.name : "";
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const detail = error instanceof Error ? error.message : String(error);
  if (name === "AccessDenied" || name === "AccessDeniedException" || status === 403)
    return new RoleSessionError("denied", role.roleArn, role.account, `STS AssumeRole ${role.roleArn}: ${detail}`, {
      cause: error,
    });
  if (name === "Throttling" || name === "ThrottlingException" || name === "RequestLimitExceeded" || status === 429)
    return new RoleSessionError("throttled", role.roleArn, role.account, `STS throttled: ${detail}`, { cause: error });
  return new RoleSessionError("unavailable", role.roleArn, role.account, `STS AssumeRole failed: ${detail}`, {
    cause: error,
  });
}

export interface StsSettings {
  readonly maxAttempts?: number | undefined;
  readonly requestTimeoutMs?: number | undefined;
  readonly connectTimeoutMs: number;
  /** Tests only; production lets the SDK read AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL. */
  readonly endpoint?: string | undefined;
  /** Tests only; production uses the SDK's default chain (the base identity). */
  readonly credentials?: AwsCredentialIdentity | undefined;
}

/** One STS client per Region, so AssumeRole goes to the Region's own STS endpoint. */
export function createStsClientFactory(settings: StsSettings): StsClientFactory & { destroy(): void } {
  const clients = new Map<string, STSClient>();
  const factory = (region: string): STSClient => {
    let client = clients.get(region);
    if (client === undefined) {
      client = newStsClient(region, settings);
      clients.set(region, client);
    }
    return client;
  };
  return Object.assign(factory, {
    destroy() {
      for (const client of clients.values()) client.destroy();
      clients.clear();
    },
  });
}

function newStsClient(region: string, settings: StsSettings): STSClient {
  return new STSClient({
    region,
    retryMode: "standard",
    ...(settings.maxAttempts === undefined ? {} : { maxAttempts: settings.maxAttempts }),
    requestHandler: {
      connectionTimeout: settings.connectTimeoutMs,
      ...(settings.requestTimeoutMs === undefined ? {} : { requestTimeout: settings.requestTimeoutMs }),
      throwOnRequestTimeout: true,
    },
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
  });
}

/** The account of the base credentials, from STS GetCallerIdentity in `region`. */
export async function ownAccountOf(settings: StsSettings & { readonly region: string }): Promise<string> {
  const client = newStsClient(settings.region, settings);
  try {
    const answer = await client.send(new GetCallerIdentityCommand({}));
    if (answer.Account === undefined) throw new Error("STS GetCallerIdentity answered no Account");
    return answer.Account;
  } finally {
    client.destroy();
  }
}

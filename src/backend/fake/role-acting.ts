// The in-process fake with accounts, as the fake AWS endpoint has them: a
// call that names a role (CallOptions.role, from AWS_ACCOUNTS_FILE) assumes
// it the way STS would (the role's trust, ExternalId, SourceIdentity rules in
// identities.ts) and then acts as that role's account. A refusal is the same
// RoleSessionError the AWS adapter raises for STS's AccessDenied.
import { RoleSessionError } from "../../accounts/errors.js";
import { sourceIdentityOf } from "../../accounts/source-identity.js";
import type { CallOptions, PermissionBackend } from "../backend.js";
import { decorateBackend, type BackendCall } from "../decorate.js";
import { actingAs, type ActingAccountOptions } from "./acting-account.js";
import type { Clock } from "../../clock.js";
import { FAKE_DEFAULT_ACCOUNT } from "./defaults.js";
import { demoSeed } from "./demo-seed.js";
import { createFakeIdentities, FakeStsError, type FakeIdentities, type FakeIdentity } from "./identities.js";
import type { FakeSeed } from "./seed.js";

export function withRoleSessions(
  backend: PermissionBackend,
  identities: FakeIdentities,
  options: ActingAccountOptions & { readonly sessionDurationSeconds?: number | undefined },
): PermissionBackend {
  const base = identities.identityOf(undefined);
  // One session per (role, caller), as the AWS adapter keeps them; bounded like its cache.
  const sessions = new Map<string, FakeIdentity>();
  const sessionOf = (call: CallOptions): FakeIdentity | undefined => {
    const role = call.role;
    if (role === undefined) return undefined;
    const key = `${role.roleArn} ${role.externalId ?? ""} ${role.caller}`;
    const known = sessions.get(key);
    if (known !== undefined) return known;
    const sourceIdentity = sourceIdentityOf(role.caller);
    try {
      const session = identities.assumeRole(base, {
        roleArn: role.roleArn,
        roleSessionName: sourceIdentity,
        durationSeconds: options.sessionDurationSeconds ?? 3600,
        externalId: role.externalId,
        sourceIdentity,
      }).identity;
      if (sessions.size >= MAX_SESSIONS) sessions.clear();
      sessions.set(key, session);
      return session;
    } catch (error) {
      if (!(error instanceof FakeStsError)) throw error;
      throw new RoleSessionError(
        error.code === "AccessDenied" ? "denied" : "unavailable",
        role.roleArn,
        role.account,
        error.message,
        { cause: error },
      );
    }
  };
  return decorateBackend(backend, (operation, inner): BackendCall => (input, call) => {
    const session = sessionOf(call);
    if (session === undefined) return inner(input, call);
    const acting = actingAs(backend, session, options);
    return (acting[operation].bind(acting) as BackendCall)(input, call);
  });
}

const MAX_SESSIONS = 1000;

/** The fake with the seed's roles (the demo seed's when there is no seed), its own account as the base identity. */
export function createFakeRoleSessions(
  fake: PermissionBackend,
  seed: FakeSeed | undefined,
  options: ActingAccountOptions & {
    readonly clock: Clock;
    readonly defaultAccount?: string | undefined;
    readonly sessionDurationSeconds: number;
  },
): PermissionBackend {
  const identities = createFakeIdentities({
    roles: (seed ?? demoSeed).iam?.roles ?? [],
    baseAccount: options.defaultAccount ?? FAKE_DEFAULT_ACCOUNT,
    clock: options.clock,
  });
  return withRoleSessions(fake, identities, options);
}

// Who the fakes act as: the roles of each account, who may assume them, and
// the sessions they issued. Both fakes use it: the fake AWS endpoint maps a
// request's signing access key back to its identity; the in-process fake
// assumes the role a call names (CallOptions.role) the same way.
//
// The model follows STS: a role trusts accounts (their principals may call
// sts:AssumeRole on it), may require an ExternalId and a SourceIdentity, and
// a SourceIdentity once set is never changed by a chained assumption.
import { randomBytes } from "node:crypto";
import type { Clock } from "../../clock.js";

export interface FakeRoleSeed {
  /** arn:aws:iam::ACCOUNT:role/NAME */
  readonly arn: string;
  /** Accounts whose principals may assume it; "*" for any. */
  readonly trustedAccounts: readonly string[];
  readonly externalId?: string | undefined;
  readonly requireSourceIdentity?: boolean | undefined;
  /** The role's MaxSessionDuration; default 3600. */
  readonly maxSessionDurationSeconds?: number | undefined;
}

/** Who signed a request. */
export interface FakeIdentity {
  readonly account: string;
  /** The principal's ARN: the base user, or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION. */
  readonly arn: string;
  readonly roleArn?: string | undefined;
  readonly sessionName?: string | undefined;
  readonly sourceIdentity?: string | undefined;
  /** Epoch ms. */
  readonly expiresAt?: number | undefined;
}

export interface AssumeRoleRequest {
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly durationSeconds?: number | undefined;
  readonly externalId?: string | undefined;
  readonly sourceIdentity?: string | undefined;
}

export interface IssuedSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
  readonly identity: FakeIdentity;
  readonly assumedRoleId: string;
}

/** STS's refusal, with STS's code and HTTP status. */
export class FakeStsError extends Error {
  override readonly name = "FakeStsError" as const;
  constructor(
    readonly code: "AccessDenied" | "ValidationError" | "RegionDisabledException",
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}

export interface FakeIdentitiesOptions {
  readonly roles: readonly FakeRoleSeed[];
  /** The account of any access key the fake did not issue (the base identity). */
  readonly baseAccount: string;
  readonly clock: Clock;
  /** Tests: issue sessions this long whatever was asked, to see them expire. */
  readonly sessionSecondsOverride?: number | undefined;
}

export interface FakeIdentities {
  /** The identity of an access key: a session the fake issued, else the base identity. */
  identityOf(accessKeyId: string | undefined): FakeIdentity;
  assumeRole(caller: FakeIdentity, request: AssumeRoleRequest): IssuedSession;
  /** Whether a session's credentials have expired by the clock; the base identity never does. */
  isExpired(identity: FakeIdentity): boolean;
  /** Roles by ARN, for tests and the walk-through. */
  readonly roles: ReadonlyMap<string, FakeRoleSeed>;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export function createFakeIdentities(options: FakeIdentitiesOptions): FakeIdentities {
  const roles = new Map(options.roles.map((role) => [role.arn, role]));
  const sessions = new Map<string, FakeIdentity>();
  const base: FakeIdentity = {
    account: options.baseAccount,
    arn: `arn:aws:iam::${options.baseAccount}:user/fake-base`,
  };

  return {
    roles,
    identityOf(accessKeyId) {
      return (accessKeyId === undefined ? undefined : sessions.get(accessKeyId)) ?? base;
    },
    isExpired: (identity) => identity.expiresAt !== undefined && identity.expiresAt <= options.clock.now(),
    assumeRole(caller, request) {
      const notAuthorized = (): FakeStsError =>
        new FakeStsError(
          "AccessDenied",
          403,
          `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${request.roleArn}`,
        );
      const parsed = ROLE_ARN.exec(request.roleArn);
      if (parsed === null)
        throw new FakeStsError("ValidationError", 400, `${request.roleArn} is not a valid value for RoleArn`);
      if (!SESSION_NAME.test(request.roleSessionName))
        throw new FakeStsError(
          "ValidationError",
          400,
          "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        );
      const role = roles.get(request.roleArn);
      if (role === undefined) throw notAuthorized();
      if (!role.trustedAccounts.includes("*") && !role.trustedAccounts.includes(caller.account)) throw notAuthorized();
      if (role.externalId !== undefined && role.externalId !== request.externalId) throw notAuthorized();
      const sourceIdentity = caller.sourceIdentity ?? request.sourceIdentity;
      if (
        caller.sourceIdentity !== undefined &&
        request.sourceIdentity !== undefined &&
        request.sourceIdentity !== caller.sourceIdentity
      )
        throw notAuthorized();
      if (role.requireSourceIdentity === true && sourceIdentity === undefined) throw notAuthorized();
      const maxSeconds = role.maxSessionDurationSeconds ?? 3600;
      const asked = request.durationSeconds ?? 3600;
      // Role chaining: a role session assuming a role gets at most an hour.
      const cap = caller.roleArn === undefined ? maxSeconds : Math.min(maxSeconds, 3600);
      if (asked < 900 || asked > cap)
        throw new FakeStsError(
          "ValidationError",
          400,
          `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
        );
      const account = parsed[1] ?? "";
      const roleName = parsed[2] ?? "";
      const seconds = options.sessionSecondsOverride ?? asked;
      const expiresAt = options.clock.now() + seconds * 1000;
      const accessKeyId = "ASIA" + randomToken(16);
      const identity: FakeIdentity = {
        account,
        arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${request.roleSessionName}`,
        roleArn: role.arn,
        sessionName: request.roleSessionName,
        sourceIdentity,
        expiresAt,
      };
      sessions.set(accessKeyId, identity);
      return {
        accessKeyId,
        secretAccessKey: randomBytes(30).toString("base64"),
        sessionToken: randomBytes(48).toString("base64"),
        expiration: new Date(Math.floor(expiresAt / 1000) * 1000),
        identity,
        assumedRoleId: `AROA${randomToken(17)}:${request.roleSessionName}`,
      };
    },
  };
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function randomToken(length: number): string {
  return [...randomBytes(length)].map((byte) => ALPHABET[byte % ALPHABET.length]).join("");
}

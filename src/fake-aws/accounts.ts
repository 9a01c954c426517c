// The fake AWS endpoint's accounts: STS (sts.ts) on the Query protocol, and
// Lambda and RAM acting as the account of the credentials that signed each
// request (src/backend/fake/acting-account.ts). Every request is recorded
// with its account, principal and SourceIdentity (/__fake/calls?by=identity).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PermissionBackend } from "../backend/backend.js";
import { actingAs } from "../backend/fake/acting-account.js";
import { FAKE_DEFAULT_ACCOUNT, FAKE_DEFAULT_PARTITION, FAKE_DEFAULT_REGION } from "../backend/fake/defaults.js";
import { createFakeIdentities, type FakeIdentities, type FakeIdentity } from "../backend/fake/identities.js";
import { systemClock } from "../clock.js";
import { awsErrorSpec } from "../aws/error-catalogue.js";
import { serviceOfOperation, type FakeAwsOperation } from "./operations.js";
import { wireError } from "./wire-errors.js";
import { accessKeyIdOf, answerSts, isStsRequest, STS_OPERATIONS, stsErrorXml, writeStsAnswer } from "./sts.js";

export interface CallIdentity {
  readonly operation: string;
  readonly account: string;
  readonly principal: string;
  readonly sourceIdentity?: string | undefined;
}

/** An error STS answers AssumeRole with, e.g. {code: "Throttling", httpStatus: 400}. */
export interface StsFault {
  readonly code: string;
  readonly httpStatus: number;
  readonly message?: string | undefined;
  /** Default: until cleared. */
  readonly times?: number | undefined;
}

export interface AccountAwareness {
  isSts(req: IncomingMessage, url: URL): boolean;
  answerSts(req: IncomingMessage, res: ServerResponse, body: string): void;
  /**
   * The backend as the request's signer sees it. Throws AWS's
   * ExpiredTokenException (403) for a session key past its expiry.
   */
  backendFor(
    operation: FakeAwsOperation,
    headers: IncomingMessage["headers"],
    backend: PermissionBackend,
  ): PermissionBackend;
  calls(): readonly CallIdentity[];
  counts(): Record<string, number>;
  reset(): void;
  injectStsFault(fault: StsFault): void;
  /** The STS faults still pending, `times` counting what is left. */
  pendingStsFaults(): StsFault[];
  clearStsFaults(): void;
}

export function createAccountAwareness(given: FakeIdentities | undefined): AccountAwareness {
  const identities =
    given ?? createFakeIdentities({ roles: [], baseAccount: FAKE_DEFAULT_ACCOUNT, clock: systemClock });
  // Without roles nobody is scoped to an account: the endpoint's older tests and seeds span accounts freely.
  const scoped = identities.roles.size > 0;
  let log: CallIdentity[] = [];
  let stsFaults: { fault: StsFault; remaining: number }[] = [];
  const record = (operation: string, identity: FakeIdentity): void => {
    log.push({
      operation,
      account: identity.account,
      principal: identity.arn,
      ...(identity.sourceIdentity === undefined ? {} : { sourceIdentity: identity.sourceIdentity }),
    });
  };
  const takeStsFault = (): StsFault | undefined => {
    const entry = stsFaults[0];
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) stsFaults.shift();
    return entry.fault;
  };

  return {
    isSts: (req, url) => isStsRequest(req.method, url.pathname, req.headers),
    answerSts(req, res, body) {
      const caller = identities.identityOf(accessKeyIdOf(req.headers));
      const action = new URLSearchParams(body).get("Action") ?? "unknown";
      record(action, caller);
      const fault = action === "AssumeRole" ? takeStsFault() : undefined;
      if (fault !== undefined) {
        writeStsAnswer(res, fault.httpStatus, stsErrorXml(fault.code, fault.message ?? "Rate exceeded"));
        return;
      }
      const answer = answerSts(body, caller, identities);
      writeStsAnswer(res, answer.status, answer.xml);
    },
    backendFor(operation, headers, backend) {
      const identity = identities.identityOf(accessKeyIdOf(headers));
      record(operation, identity);
      if (identities.isExpired(identity)) {
        const service = serviceOfOperation[operation];
        const code = "ExpiredTokenException";
        throw wireError(service, code, awsErrorSpec(service, code)?.message ?? "The security token is expired.");
      }
      if (!scoped) return backend;
      return actingAs(backend, identity, {
        defaultRegion: FAKE_DEFAULT_REGION,
        defaultPartition: FAKE_DEFAULT_PARTITION,
      });
    },
    calls: () => [...log],
    counts() {
      const counts: Record<string, number> = Object.fromEntries(STS_OPERATIONS.map((op) => [op, 0]));
      for (const call of log) if (call.operation in counts) counts[call.operation] = (counts[call.operation] ?? 0) + 1;
      return counts;
    },
    reset() {
      log = [];
    },
    injectStsFault(fault) {
      stsFaults.push({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
    },
    pendingStsFaults() {
      return stsFaults.map(({ fault, remaining }) =>
        Number.isFinite(remaining) ? { ...fault, times: remaining } : { ...fault },
      );
    },
    clearStsFaults() {
      stsFaults = [];
    },
  };
}

// AUTH_MODE=jwt: "Authorization: Bearer <JWT>" signed by a key of the JWKS,
// with the configured issuer and audience, inside exp/nbf (plus a small
// skew), signed with an allowed algorithm. The caller is one claim, its
// groups another.
import {
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyOptions,
  type KeyObject,
  type CryptoKey,
} from "jose";
import type { Clock } from "../../clock.js";
import { AuthenticationError, type AuthenticationFailureReason, type Authenticator } from "../authenticator.js";
import { readBearerCredential } from "../bearer.js";
import type { CallerIdentity } from "../identity.js";
import type { JwtKeys } from "./jwks.js";

/** What a token must satisfy; the JWT section of the configuration. */
export interface JwtRules {
  readonly issuer: string;
  /** The token's aud must name one of these. */
  readonly audience: readonly string[];
  /** Never "none"; the configuration refuses it and an empty list. */
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  /** Claim holding the caller's id; default "sub". */
  readonly identityClaim: string;
  /** Claim holding the groups: an array of strings or a space-separated string. */
  readonly groupsClaim: string;
}

export interface JwtAuthenticatorOptions extends JwtRules {
  readonly keys: JwtKeys;
  readonly clock: Clock;
}

const whitespace = /\s+/;

export function createJwtAuthenticator(options: JwtAuthenticatorOptions): Authenticator {
  const { keys, identityClaim, groupsClaim, clock } = options;
  // The configuration refuses these already; a second line of defence for other callers.
  if (options.algorithms.length === 0 || options.algorithms.some((alg) => alg.toLowerCase() === "none")) {
    throw new Error("JWT algorithms must be a non-empty list without none");
  }
  // Built once; only currentDate changes per call.
  const verifyOptions: JWTVerifyOptions = {
    issuer: options.issuer,
    audience: [...options.audience],
    algorithms: [...options.algorithms],
    clockTolerance: options.clockSkewSeconds,
    // A token without exp would never expire.
    requiredClaims: ["exp", identityClaim],
  };
  return {
    async authenticate({ header }) {
      const token = readBearerCredential(header, "JWT");
      refuseCriticalExtensions(token);
      let payload: JWTPayload;
      try {
        payload = await verifyToken(token, keys, { ...verifyOptions, currentDate: new Date(clock.now()) });
      } catch (error) {
        throw translateJoseError(error);
      }
      const caller: CallerIdentity = {
        id: stringClaim(payload, identityClaim),
        groups: groupsOf(payload, groupsClaim),
        authMode: "jwt",
      };
      return caller;
    },
    reload: () => keys.reload(),
    close: async () => keys.close(),
  };
}

async function verifyToken(token: string, keys: JwtKeys, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, keys.getKey, options)).payload;
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    // Several keys fit the header (no kid, or a kid used twice during a
    // rotation): the one whose signature verifies wins.
    for await (const key of error as unknown as AsyncIterable<CryptoKey | KeyObject>) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

/**
 * RFC 7515 §4.1.11: a token whose "crit" header names extensions the
 * recipient does not understand must be refused. This gateway understands
 * none, and says so, rather than letting jose's "not supported" read as a
 * refused algorithm.
 */
function refuseCriticalExtensions(token: string): void {
  let crit: unknown;
  try {
    crit = decodeProtectedHeader(token).crit;
  } catch {
    return; // not a JWS: verification answers TOKEN_MALFORMED
  }
  if (crit === undefined) return;
  const names = Array.isArray(crit) ? crit.filter((name) => typeof name === "string").join(",") : "";
  throw refuse(
    "TOKEN_CRIT_UNSUPPORTED",
    'the token\'s "crit" header names extensions this gateway does not understand (it understands none)',
    { crit: names.slice(0, 200) },
  );
}

function stringClaim(payload: JWTPayload, claim: string): string {
  const value = payload[claim];
  if (typeof value === "string" && value !== "") return value;
  throw new AuthenticationError(
    "TOKEN_CLAIM_INVALID",
    `the token's "${claim}" claim must be a non-empty string (it names the caller)`,
    {
      claim,
    },
  );
}

function groupsOf(payload: JWTPayload, claim: string): readonly string[] {
  const value = payload[claim];
  if (value === undefined) return [];
  if (typeof value === "string") return value.split(whitespace).filter((group) => group !== "");
  if (Array.isArray(value) && value.every((group) => typeof group === "string")) return value;
  throw new AuthenticationError(
    "TOKEN_CLAIM_INVALID",
    `the token's "${claim}" claim must be an array of strings or a space-separated string`,
    { claim },
  );
}

/** jose's failure -> what was wrong with the token, in words that name the rule, never the token. */
function translateJoseError(error: unknown): unknown {
  if (error instanceof errors.JWTExpired) return refuse("TOKEN_EXPIRED", "the token has expired (exp)");
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "nbf":
        return refuse("TOKEN_NOT_YET_VALID", "the token is not valid yet (nbf)");
      case "iss":
        return refuse(
          "TOKEN_ISSUER_MISMATCH",
          `the token's issuer (iss) is ${error.reason === "missing" ? "missing" : "not the one this gateway trusts"}`,
        );
      case "aud":
        return refuse(
          "TOKEN_AUDIENCE_MISMATCH",
          `the token's audience (aud) is ${error.reason === "missing" ? "missing" : "not this gateway"}`,
        );
      default:
        return refuse(
          "TOKEN_CLAIM_INVALID",
          `the token's "${error.claim}" claim is ${error.reason === "missing" ? "missing" : "invalid"}`,
          {
            claim: error.claim,
          },
        );
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return refuse("TOKEN_ALGORITHM_NOT_ALLOWED", "the token's signing algorithm (alg) is not allowed here");
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return refuse("TOKEN_KEY_UNKNOWN", "no key of the gateway's JWKS matches the token's kid and alg");
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return refuse("TOKEN_SIGNATURE_INVALID", "the token's signature does not verify");
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return refuse("TOKEN_MALFORMED", "the bearer credential is not a well-formed JWT (JWS compact serialization)");
  }
  return error;
}

function refuse(
  reason: AuthenticationFailureReason,
  message: string,
  metadata?: Record<string, string>,
): AuthenticationError {
  return new AuthenticationError(reason, message, metadata);
}

// "Authorization: Bearer <credential>" (RFC 6750), shared by the JWT and
// API key modes.
import { AuthenticationError } from "./authenticator.js";

// The scheme is case-insensitive (RFC 9110); the credential is a token68.
const bearerPattern = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The credential of the Authorization header; AuthenticationError when absent or not a Bearer token. */
export function readBearerCredential(header: Headers, expected: string): string {
  const value = header.get("authorization");
  if (value === null || value.trim() === "") {
    throw new AuthenticationError(
      "CREDENTIALS_MISSING",
      `this gateway requires an "authorization: Bearer <${expected}>" header`,
    );
  }
  const credential = bearerPattern.exec(value)?.[1];
  if (credential === undefined) {
    throw new AuthenticationError(
      "CREDENTIALS_MALFORMED",
      `the authorization header must be "Bearer <${expected}>" (one header, scheme Bearer, a token68 credential)`,
    );
  }
  return credential;
}

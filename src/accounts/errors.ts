// Failures of getting a role session in a target account (STS AssumeRole),
// in the gateway's own words: the AWS adapter raises them, src/errors.ts
// maps them for the wire.
export type RoleSessionFailure =
  /** STS refused: the role's trust policy does not let the gateway (or this SourceIdentity/ExternalId) in. */
  | "denied"
  /** STS throttled the gateway. */
  | "throttled"
  /** STS could not be reached or failed. */
  | "unavailable";

export class RoleSessionError extends Error {
  override readonly name = "RoleSessionError" as const;
  constructor(
    readonly failure: RoleSessionFailure,
    readonly roleArn: string,
    readonly account: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

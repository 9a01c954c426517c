// The PermissionBackend port: what the gateway needs from "AWS", in the
// gateway's own types. Adapters (backend/fake, backend/aws) implement it and
// never import each other; no SDK type crosses this boundary.
import type { AwsService } from "./errors.js";
import type { Readiness } from "../health/readiness.js";

/** A Lambda function as the caller named it, already validated and parsed. */
export interface LambdaFunctionRef {
  /**
   * The function as the caller named it, without any ":qualifier" suffix: a
   * name, a partial ARN ("123456789012:my-fn", "123456789012:function:my-fn")
   * or a full ARN. This is what an adapter sends as FunctionName.
   */
  readonly functionName: string;
  /** The bare function name (at most 64 characters). */
  readonly name: string;
  /** The account ID when the caller gave one (partial or full ARN). */
  readonly account?: string | undefined;
  /** The Region when the caller gave a full ARN. */
  readonly region?: string | undefined;
  /** The partition ("aws", "aws-cn", "aws-us-gov", "aws-eusc", ...) when given in an ARN. */
  readonly partition?: string | undefined;
}

/** A RAM permission ARN, already validated and parsed. */
export interface RamPermissionRef {
  /** The ARN exactly as given. */
  readonly arn: string;
  readonly partition: string;
  /** Empty for AWS managed permissions. */
  readonly region: string;
  /** "aws" for AWS managed permissions, else a 12-digit account ID. */
  readonly account: string;
  /** The name after "permission/". */
  readonly name: string;
  readonly awsManaged: boolean;
}

/** Deadline and cancellation of the caller, to be honoured by every adapter. */
export interface CallOptions {
  /** Aborted when the caller cancels or its deadline passes. */
  readonly signal: AbortSignal;
  /** The caller's deadline as epoch milliseconds, when it set one. */
  readonly deadline?: number | undefined;
  /**
   * Set by the idempotency guard when this call takes over the token of an
   * earlier attempt (its owner died, or its outcome was unknown): that
   * attempt may already have reached AWS, so an answer such as "duplicate
   * statement" or "statement not found" must be reconciled with the actual
   * state rather than returned as a failure.
   */
  readonly afterTakeover?: boolean | undefined;
  /** The role to act through in the call's account (AWS_ACCOUNTS_FILE); undefined: the base credentials. */
  readonly role?: RoleTarget | undefined;
  /**
   * Set by the idempotency guard: whether the call's lease still holds, by
   * the local monotonic clock, from the last renewal the store confirmed.
   * Every adapter asks it right before each send to AWS (each SDK attempt,
   * retries included) and sends nothing once it answers false: the call then
   * ends as lease-lost (its signal aborts) and the token's next owner
   * reconciles. Absent: no lease to hold.
   */
  readonly leaseHeld?: (() => boolean) | undefined;
}

/** A target account's role and who the session is for; the adapter assumes it (src/accounts/). */
export interface RoleTarget {
  readonly account: string;
  readonly roleArn: string;
  readonly externalId?: string | undefined;
  /** The authenticated caller, carried into the session as its SourceIdentity. */
  readonly caller: string;
}

export interface RemoveLambdaPermissionInput {
  readonly function: LambdaFunctionRef;
  readonly statementId: string;
  /** Effective version or alias (merged from the name suffix and the field). */
  readonly qualifier?: string | undefined;
  readonly revisionId?: string | undefined;
}

export type FunctionUrlAuthType = "NONE" | "AWS_IAM";

export interface AddLambdaPermissionInput {
  readonly function: LambdaFunctionRef;
  readonly statementId: string;
  readonly action: string;
  readonly principal: string;
  readonly sourceArn?: string | undefined;
  readonly sourceAccount?: string | undefined;
  readonly eventSourceToken?: string | undefined;
  readonly qualifier?: string | undefined;
  readonly revisionId?: string | undefined;
  readonly principalOrgId?: string | undefined;
  readonly functionUrlAuthType?: FunctionUrlAuthType | undefined;
  /** Lambda's InvokedViaFunctionUrl: the statement applies only to (true) or never to (false) calls through a function URL. */
  readonly invokedViaFunctionUrl?: boolean | undefined;
}

/** What every output may carry besides its data, for the audit trail and the access log. */
export interface AwsCallMetadata {
  /** AWS's request ID of the call that produced the output (the fake's own for the fake). */
  readonly awsRequestId?: string | undefined;
}

/**
 * Set on the output of a mutation whose attempt's answer was lost or taken
 * over, when reading the actual state showed its effect already in place
 * (backend/reconcile.ts).
 */
export interface Reconciled {
  readonly reconciled?: boolean | undefined;
}

/**
 * The metadata any output may carry, typed, for the service to hand to the
 * audit trail and the access log without looking inside each output.
 */
export interface OutputMetadata extends AwsCallMetadata, Reconciled {
  /** RemoveLambdaPermission: the statement JSON that was removed, when the adapter knows it. */
  readonly removedStatement?: string | undefined;
}

export interface RemoveLambdaPermissionOutput extends AwsCallMetadata, Reconciled {
  /** The statement JSON that was removed, when the adapter knows it. */
  readonly removedStatement?: string | undefined;
}

export interface AddLambdaPermissionOutput extends AwsCallMetadata, Reconciled {
  /** The new statement as JSON text, as Lambda returns it. */
  readonly statement: string;
}

export interface GetLambdaPolicyInput {
  readonly function: LambdaFunctionRef;
  readonly qualifier?: string | undefined;
}

export interface GetLambdaPolicyOutput extends AwsCallMetadata {
  /** The policy document as JSON text. */
  readonly policy: string;
  readonly revisionId: string;
}

export type RamPermissionStatus = "ATTACHABLE" | "UNATTACHABLE" | "DELETING" | "DELETED";
export type RamPermissionType = "AWS_MANAGED" | "CUSTOMER_MANAGED";

/** One version of a RAM managed permission. */
export interface RamPermission {
  readonly arn: string;
  readonly name: string;
  readonly version: number;
  readonly defaultVersion: boolean;
  readonly resourceType: string;
  readonly status: RamPermissionStatus;
  readonly permissionType: RamPermissionType;
  /** JSON text. */
  readonly policyTemplate: string;
  readonly creationTime: Date;
  readonly lastUpdatedTime: Date;
  /** The tags given at creation (RAM returns them with the permission). */
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

export interface DeleteRamPermissionInput {
  readonly permission: RamPermissionRef;
  /** Always present: the gateway generates one when the caller did not. */
  readonly clientToken: string;
}

export interface DeleteRamPermissionOutput extends AwsCallMetadata {
  readonly returnValue: boolean;
  readonly clientToken: string;
  readonly permissionStatus: RamPermissionStatus;
}

export interface CreateRamPermissionInput {
  readonly name: string;
  readonly resourceType: string;
  readonly policyTemplate: string;
  readonly clientToken: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface CreateRamPermissionOutput extends AwsCallMetadata {
  readonly permission: RamPermission;
  readonly clientToken: string;
}

export interface GetRamPermissionInput {
  readonly permission: RamPermissionRef;
  readonly permissionVersion?: number | undefined;
}

export type GetRamPermissionOutput = RamPermission & AwsCallMetadata;

export interface ListRamPermissionsInput {
  readonly resourceType?: string | undefined;
  readonly permissionType?: RamPermissionType | undefined;
  /** 1..500. */
  readonly maxResults: number;
  readonly nextToken?: string | undefined;
}

export interface ListRamPermissionsOutput extends AwsCallMetadata {
  readonly permissions: readonly RamPermission[];
  readonly nextToken?: string | undefined;
}

/**
 * The backend port. Every method either resolves or rejects with one of the
 * errors of backend/errors.ts (AwsApiError for anything AWS answered,
 * UpstreamNetworkError, UpstreamTimeoutError, UpstreamCredentialsError,
 * UpstreamOutcomeUnknownError); anything else is treated as a bug and
 * becomes INTERNAL.
 */
export interface PermissionBackend {
  removeLambdaPermission(
    input: RemoveLambdaPermissionInput,
    options: CallOptions,
  ): Promise<RemoveLambdaPermissionOutput>;
  addLambdaPermission(input: AddLambdaPermissionInput, options: CallOptions): Promise<AddLambdaPermissionOutput>;
  getLambdaPolicy(input: GetLambdaPolicyInput, options: CallOptions): Promise<GetLambdaPolicyOutput>;
  deleteRamPermission(input: DeleteRamPermissionInput, options: CallOptions): Promise<DeleteRamPermissionOutput>;
  createRamPermission(input: CreateRamPermissionInput, options: CallOptions): Promise<CreateRamPermissionOutput>;
  getRamPermission(input: GetRamPermissionInput, options: CallOptions): Promise<GetRamPermissionOutput>;
  listRamPermissions(input: ListRamPermissionsInput, options: CallOptions): Promise<ListRamPermissionsOutput>;
  /** Releases sockets and timers. */
  /**
   * Whether calls can be made now, for readiness (e.g. the AWS SDK finds
   * credentials). Absent: always usable.
   */
  checkReady?(signal: AbortSignal): Promise<Readiness>;
  close(): Promise<void>;
}

/** The port's calls to AWS: every method but readiness and close. */
export type BackendOperation = Exclude<keyof PermissionBackend, "close" | "checkReady">;

/** The AWS API operation behind a port method, as the API references name it. */
export interface AwsOperation {
  readonly service: AwsService;
  readonly name: string;
  /** It changes state, so its effect can outlive a lost answer. */
  readonly mutation: boolean;
}

/**
 * One line per port method: the one list of the backend's operations, from
 * which the decorators (backend/decorate.ts), the metrics and the fakes'
 * operation lists are derived. Typed so that a port method without a line,
 * or a line without a method, fails the typecheck.
 */
export const BACKEND_OPERATIONS = {
  removeLambdaPermission: { service: "lambda", name: "RemovePermission", mutation: true },
  addLambdaPermission: { service: "lambda", name: "AddPermission", mutation: true },
  getLambdaPolicy: { service: "lambda", name: "GetPolicy", mutation: false },
  deleteRamPermission: { service: "ram", name: "DeletePermission", mutation: true },
  createRamPermission: { service: "ram", name: "CreatePermission", mutation: true },
  getRamPermission: { service: "ram", name: "GetPermission", mutation: false },
  listRamPermissions: { service: "ram", name: "ListPermissions", mutation: false },
} as const satisfies { readonly [K in BackendOperation]: AwsOperation };

/** The AWS operation names of the port ("RemovePermission", ...). */
export type AwsOperationName = (typeof BACKEND_OPERATIONS)[BackendOperation]["name"];

export const backendOperations = Object.keys(BACKEND_OPERATIONS) as readonly BackendOperation[];

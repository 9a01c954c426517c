// The PermissionBackend adapter on the AWS SDK for JavaScript v3. Loaded only
// when BACKEND=aws (main.ts imports it dynamically) so start-up with the fake
// never pays for the SDK. SDK types stay in this folder: inputs are mapped
// from the port's types here and outputs and errors back to them.
import { AddPermissionCommand, GetPolicyCommand, RemovePermissionCommand } from "@aws-sdk/client-lambda";
import {
  CreatePermissionCommand,
  DeletePermissionCommand,
  GetPermissionCommand,
  ListPermissionsCommand,
} from "@aws-sdk/client-ram";
import type {
  AddLambdaPermissionInput,
  AddLambdaPermissionOutput,
  CallOptions,
  CreateRamPermissionInput,
  CreateRamPermissionOutput,
  DeleteRamPermissionInput,
  DeleteRamPermissionOutput,
  GetLambdaPolicyInput,
  GetLambdaPolicyOutput,
  GetRamPermissionInput,
  ListRamPermissionsInput,
  ListRamPermissionsOutput,
  GetRamPermissionOutput,
  PermissionBackend,
  RamPermissionRef,
  RemoveLambdaPermissionInput,
  RemoveLambdaPermissionOutput,
} from "../backend.js";
import type { MiddlewareStack } from "@smithy/types";
import { callerAbortError } from "../abort.js";
import type { AwsService } from "../errors.js";
import { systemClock, type Clock } from "../../clock.js";
import type { Logger } from "../../logger.js";
import { toRamPermission, toStatus, UnexpectedAwsResponseError } from "./ram-output.js";
import {
  createSdkClientFactory,
  type AwsClientFactory,
  type AwsClientPair,
  type AwsCredentials,
} from "./sdk-clients.js";
import { abortedInFlightError, afterServerErrorAnswer, translateSdkError } from "./translate-error.js";
import { stopSendsWithoutLease } from "./lease-check.js";
import { stopRetriesPastDeadline } from "./deadline-guard.js";
import { addTraceHeaders } from "./trace-headers.js";
import { regionForPartition } from "./partition-region.js";
import { stopRetriesAfterUncertainAttempt, type AttemptTracker } from "./uncertain-attempts.js";
import type { Readiness } from "../../health/readiness.js";
import { createAccountClients } from "./account-clients.js";
import type { RoleSessionSettings, StsClientFactory } from "./role-sessions.js";

export type { AwsClientFactory, AwsClientPair, AwsCredentials } from "./sdk-clients.js";
export { createSdkClientFactory } from "./sdk-clients.js";

export interface AwsBackendOptions {
  /**
   * Region of calls whose ARN names none; an AWS managed RAM ARN of another
   * partition goes to a Region of its own partition (partition-region.ts).
   */
  readonly defaultRegion: string;
  /** Attempts per call including the first (SDK standard retry strategy). */
  readonly maxAttempts: number;
  /** Limit of one HTTP attempt; the caller's deadline caps the whole call. */
  readonly requestTimeoutMs: number;
  /** Limit of opening one connection; defaults to the request timeout. */
  readonly connectTimeoutMs?: number | undefined;
  readonly logger: Logger;
  /** Replaces the SDK client construction (tests: other endpoints, recorded Regions). */
  readonly clientFactory?: AwsClientFactory | undefined;
  /** Tests only; production uses the SDK's default credential chain. */
  readonly credentials?: AwsCredentials | undefined;
  /** Decides whether an abort was the caller's deadline. Default: the system clock. */
  readonly clock?: Clock | undefined;
  /** The trace context headers (traceparent) of the current call, sent to AWS with it. */
  readonly traceHeaders?: (() => Record<string, string>) | undefined;
  /** How calls with a role (CallOptions.role, from AWS_ACCOUNTS_FILE) get their sessions. */
  readonly roleSessions?: RoleSessionSettings | undefined;
  /** Tests only: STS clients pointed elsewhere; production lets the SDK find STS (AWS_ENDPOINT_URL_STS). */
  readonly sts?: StsClientFactory | undefined;
}

/** An SDK command as far as the guards need it. */
interface GuardableCommand<I extends object, O extends object> {
  readonly middlewareStack: Pick<MiddlewareStack<I, O>, "add" | "addRelativeTo">;
}

/** What each call needs besides its input: where it goes and how to read its failure. */
interface Route {
  readonly service: AwsService;
  readonly region: string;
  readonly permissionVersion?: number | undefined;
  /**
   * A Lambda mutation: not retried after an attempt that may have taken
   * effect, and reported as an unknown outcome then (RAM's mutations carry a
   * clientToken, which makes their retries safe).
   */
  readonly uncertainAfterSending?: boolean | undefined;
}

/** The request ID AWS gave an output, from the SDK's response metadata. */
function requestIdOf(output: { readonly $metadata?: { readonly requestId?: string | undefined } }): {
  awsRequestId?: string;
} {
  const requestId = output.$metadata?.requestId;
  return requestId === undefined ? {} : { awsRequestId: requestId };
}

export function createAwsBackend(options: AwsBackendOptions): PermissionBackend {
  const clock = options.clock ?? systemClock;
  const now = (): number => clock.now();
  const clientFactory =
    options.clientFactory ??
    createSdkClientFactory({
      maxAttempts: options.maxAttempts,
      requestTimeoutMs: options.requestTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? options.requestTimeoutMs,
      credentials: options.credentials,
    });
  const clientsByRegion = new Map<string, AwsClientPair>();
  const accountClients = createAccountClients({ ...options, clock, clientFactory });
  let closed = false;

  function clientsFor(region: string): AwsClientPair {
    let clients = clientsByRegion.get(region);
    if (clients === undefined) {
      clients = clientFactory(region);
      clientsByRegion.set(region, clients);
      options.logger.debug("aws clients created", { region });
    }
    return clients;
  }

  /** The base clients of the Region, or the role session's (its credentials resolved first, so STS failures stay ours). */
  async function clientsOfCall(region: string, call: CallOptions): Promise<AwsClientPair> {
    if (call.role === undefined) return clientsFor(region);
    return untilAborted(accountClients.clientsFor(region, call.role), call.signal);
  }

  /**
   * Runs one SDK call under the caller's signal. The SDK gets the signal
   * too (it stops retrying and drops the socket); racing it here as well
   * makes the caller's answer independent of how promptly the SDK notices.
   */
  async function send<T, I extends object, O extends object>(
    route: Route,
    call: CallOptions,
    command: GuardableCommand<I, O>,
    run: (clients: AwsClientPair, http: { abortSignal: AbortSignal }) => Promise<T>,
  ): Promise<T> {
    if (closed) throw new Error("the AWS backend is closed");
    if (call.signal.aborted) throw callerAbortError(route.service, call, now());
    const clients = await clientsOfCall(route.region, call);
    stopRetriesPastDeadline(command.middlewareStack, call.deadline, now);
    if (options.traceHeaders !== undefined) addTraceHeaders(command.middlewareStack, options.traceHeaders());
    const attempts: AttemptTracker = { inFlight: false, answeredServerError: false };
    if (route.uncertainAfterSending === true) stopRetriesAfterUncertainAttempt(command.middlewareStack, attempts);
    stopSendsWithoutLease(command.middlewareStack, call.leaseHeld);
    try {
      return await untilAborted(run(clients, { abortSignal: call.signal }), call.signal);
    } catch (error) {
      if (route.uncertainAfterSending === true && call.signal.aborted && attempts.inFlight) {
        throw abortedInFlightError(route.service, call, now(), error);
      }
      const failed = { service: route.service, call, permissionVersion: route.permissionVersion, now };
      const translated = translateSdkError(error, failed);
      if (route.uncertainAfterSending === true && attempts.answeredServerError) {
        throw afterServerErrorAnswer(translated, failed);
      }
      throw translated;
    }
  }

  const lambdaRoute = (region: string | undefined, uncertainAfterSending = false): Route => ({
    service: "lambda",
    region: region ?? options.defaultRegion,
    uncertainAfterSending,
  });
  const ramRoute = (permission: RamPermissionRef | undefined, permissionVersion?: number): Route => ({
    service: "ram",
    region: ramRegionOf(permission),
    permissionVersion,
  });
  /**
   * An ARN's own Region wins. AWS managed permission ARNs have an empty
   * Region field: they go to a Region of their own partition.
   */
  function ramRegionOf(permission: RamPermissionRef | undefined): string {
    if (permission === undefined) return options.defaultRegion;
    if (permission.region !== "") return permission.region;
    return regionForPartition(permission.partition, options.defaultRegion);
  }

  return {
    async removeLambdaPermission(
      input: RemoveLambdaPermissionInput,
      call: CallOptions,
    ): Promise<RemoveLambdaPermissionOutput> {
      const command = new RemovePermissionCommand({
        FunctionName: input.function.functionName,
        StatementId: input.statementId,
        Qualifier: input.qualifier,
        RevisionId: input.revisionId,
      });
      const output = await send(lambdaRoute(input.function.region, true), call, command, (clients, http) =>
        clients.lambda.send(command, http),
      );
      return requestIdOf(output);
    },

    async addLambdaPermission(input: AddLambdaPermissionInput, call: CallOptions): Promise<AddLambdaPermissionOutput> {
      const command = new AddPermissionCommand({
        FunctionName: input.function.functionName,
        StatementId: input.statementId,
        Action: input.action,
        Principal: input.principal,
        SourceArn: input.sourceArn,
        SourceAccount: input.sourceAccount,
        EventSourceToken: input.eventSourceToken,
        Qualifier: input.qualifier,
        RevisionId: input.revisionId,
        PrincipalOrgID: input.principalOrgId,
        FunctionUrlAuthType: input.functionUrlAuthType,
        InvokedViaFunctionUrl: input.invokedViaFunctionUrl,
      });
      const output = await send(lambdaRoute(input.function.region, true), call, command, (clients, http) =>
        clients.lambda.send(command, http),
      );
      if (output.Statement === undefined)
        throw new UnexpectedAwsResponseError("Lambda AddPermission returned no Statement");
      return { statement: output.Statement, ...requestIdOf(output) };
    },

    async getLambdaPolicy(input: GetLambdaPolicyInput, call: CallOptions): Promise<GetLambdaPolicyOutput> {
      const command = new GetPolicyCommand({ FunctionName: input.function.functionName, Qualifier: input.qualifier });
      const output = await send(lambdaRoute(input.function.region), call, command, (clients, http) =>
        clients.lambda.send(command, http),
      );
      if (output.Policy === undefined) throw new UnexpectedAwsResponseError("Lambda GetPolicy returned no Policy");
      return { policy: output.Policy, revisionId: output.RevisionId ?? "", ...requestIdOf(output) };
    },

    async deleteRamPermission(input: DeleteRamPermissionInput, call: CallOptions): Promise<DeleteRamPermissionOutput> {
      // The token is always given: the SDK invents one only when it is absent, and
      // serialises the request once, so every retry carries this same token.
      const command = new DeletePermissionCommand({
        permissionArn: input.permission.arn,
        clientToken: input.clientToken,
      });
      const output = await send(ramRoute(input.permission), call, command, (clients, http) =>
        clients.ram.send(command, http),
      );
      return {
        returnValue: output.returnValue ?? false,
        clientToken: output.clientToken ?? input.clientToken,
        permissionStatus: toStatus(output.permissionStatus),
        ...requestIdOf(output),
      };
    },

    async createRamPermission(input: CreateRamPermissionInput, call: CallOptions): Promise<CreateRamPermissionOutput> {
      const tags = Object.entries(input.tags).map(([key, value]) => ({ key, value }));
      const command = new CreatePermissionCommand({
        name: input.name,
        resourceType: input.resourceType,
        policyTemplate: input.policyTemplate,
        clientToken: input.clientToken,
        ...(tags.length === 0 ? {} : { tags }),
      });
      const output = await send(ramRoute(undefined), call, command, (clients, http) => clients.ram.send(command, http));
      if (output.permission === undefined) {
        throw new UnexpectedAwsResponseError("RAM CreatePermission returned no permission");
      }
      // RAM returns a summary without the policy text: it is the template just sent.
      return {
        permission: toRamPermission(output.permission, input.policyTemplate),
        clientToken: output.clientToken ?? input.clientToken,
        ...requestIdOf(output),
      };
    },

    async getRamPermission(input: GetRamPermissionInput, call: CallOptions): Promise<GetRamPermissionOutput> {
      const command = new GetPermissionCommand({
        permissionArn: input.permission.arn,
        permissionVersion: input.permissionVersion,
      });
      const route = ramRoute(input.permission, input.permissionVersion);
      const output = await send(route, call, command, (clients, http) => clients.ram.send(command, http));
      if (output.permission === undefined)
        throw new UnexpectedAwsResponseError("RAM GetPermission returned no permission");
      return { ...toRamPermission(output.permission, output.permission.permission ?? ""), ...requestIdOf(output) };
    },

    async listRamPermissions(input: ListRamPermissionsInput, call: CallOptions): Promise<ListRamPermissionsOutput> {
      const command = new ListPermissionsCommand({
        resourceType: input.resourceType,
        permissionType: input.permissionType ?? "ALL",
        maxResults: input.maxResults,
        nextToken: input.nextToken,
      });
      const output = await send(ramRoute(undefined), call, command, (clients, http) => clients.ram.send(command, http));
      // ListPermissions returns summaries: RAM sends no policy text there.
      const permissions = (output.permissions ?? []).map((summary) => toRamPermission(summary, ""));
      return output.nextToken === undefined || output.nextToken === ""
        ? { permissions, ...requestIdOf(output) }
        : { permissions, nextToken: output.nextToken, ...requestIdOf(output) };
    },

    /** Usable when the SDK's credential chain yields credentials (cached by the SDK until they expire). */
    async checkReady(): Promise<Readiness> {
      if (closed) return { ready: false, detail: "the AWS backend is closed" };
      const resolve = clientsFor(options.defaultRegion).resolveCredentials;
      if (resolve === undefined) return { ready: true };
      try {
        await resolve();
        return { ready: true };
      } catch (error) {
        return {
          ready: false,
          detail: `no usable AWS credentials: ${error instanceof Error ? error.name : "unknown"}`,
        };
      }
    },

    async close(): Promise<void> {
      closed = true;
      for (const clients of clientsByRegion.values()) clients.destroy?.();
      clientsByRegion.clear();
      accountClients.close();
    },
  };
}

/**
 * Settles with `promise`, or rejects as soon as `signal` aborts. The losing
 * promise's rejection is observed so it never surfaces as unhandled.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(Object.assign(new Error("aborted by the caller"), { name: "AbortError" }));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

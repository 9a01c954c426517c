// The recorded AWS answers (test/fixtures/aws-recorded-answers.json) as the
// walks use them: placeholders filled in from the fixture's world, requests
// in AWS's own member names turned into the port's inputs (for the fake
// backend and the AWS adapter) or into real SDK commands (for the fake AWS
// endpoint), and every answer reduced to what AWS's answer consists of.
import { readFileSync } from "node:fs";
import {
  AddPermissionCommand,
  GetPolicyCommand,
  RemovePermissionCommand,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import {
  CreatePermissionCommand,
  DeletePermissionCommand,
  GetPermissionCommand,
  ListPermissionsCommand,
  type RAMClient,
} from "@aws-sdk/client-ram";
import { parseFunctionNameAsLambda } from "../../src/aws/arn.js";
import type { AwsErrorKind } from "../../src/aws/error-catalogue.js";
import type {
  CallOptions,
  FunctionUrlAuthType,
  LambdaFunctionRef,
  PermissionBackend,
} from "../../src/backend/backend.js";
import { isAwsApiError, type MissingResource } from "../../src/backend/errors.js";
import type { FakeBackendOptions, FakeOperation, FakeSeed } from "../../src/backend/fake/fake-backend.js";
import { permissionRef } from "../support/permission-ref.js";

type Members = Readonly<Record<string, unknown>>;

export interface RecordedStep {
  readonly operation: FakeOperation;
  readonly request: Members;
}

export interface RecordedAnswer {
  readonly httpStatus: number;
  readonly error?: string;
  /** Absent for the model's cases: no recording gives the words. */
  readonly message?: string;
  readonly statement?: unknown;
  readonly policy?: unknown;
  readonly tags?: unknown;
}

export interface RecordedCase extends RecordedStep {
  readonly id: string;
  /** recorded: a snapshot of AWS's answer; asserted: what an AWS-validated test asserts; model: the service model's facts. */
  readonly kind: "recorded" | "asserted" | "model";
  readonly source: Members;
  readonly given?: readonly RecordedStep[];
  readonly answer: RecordedAnswer;
  /** What the answer means, as the gateway must read it; null: nothing is certainly missing. */
  readonly means?: {
    readonly errorKind: AwsErrorKind;
    readonly missing?: MissingResource | null;
    readonly duplicate?: boolean;
  };
}

interface Fixture {
  readonly world: {
    readonly placeholders: Readonly<Record<string, string>>;
    readonly seed: FakeSeed;
    readonly defaults: { account: string; region: string };
  };
  readonly cases: readonly RecordedCase[];
}

function filledIn(value: unknown, placeholders: Readonly<Record<string, string>>): unknown {
  if (typeof value === "string")
    return Object.entries(placeholders).reduce((text, [from, to]) => text.replaceAll(from, to), value);
  if (Array.isArray(value)) return value.map((item) => filledIn(item, placeholders));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, filledIn(item, placeholders)]));
  }
  return value;
}

const raw = JSON.parse(
  readFileSync(new URL("../fixtures/aws-recorded-answers.json", import.meta.url), "utf8"),
) as Fixture;
const fixture = filledIn(raw, raw.world.placeholders) as Fixture;

export const recordedCases: readonly RecordedCase[] = fixture.cases;

/** The fake backend holding the world the recordings assume. */
export function worldOptions(): FakeBackendOptions {
  return {
    seed: fixture.world.seed,
    defaultAccount: fixture.world.defaults.account,
    defaultRegion: fixture.world.defaults.region,
  };
}

/** What an answer consists of on the wire, for comparison with the recording. */
export interface Outcome {
  readonly httpStatus: number | undefined;
  readonly error?: string | undefined;
  readonly message?: string | undefined;
  /** Statement or policy JSON as text, member order kept. */
  readonly document?: string | undefined;
  readonly tags?: unknown;
}

/** The recorded answer in the same form: documents as compact JSON text, in the recorded member order. */
export function expectedOutcome(answer: RecordedAnswer, withMessage: boolean): Outcome {
  const document = answer.statement ?? answer.policy;
  return {
    httpStatus: answer.httpStatus,
    ...(answer.error === undefined ? {} : { error: answer.error }),
    ...(withMessage && answer.message !== undefined ? { message: answer.message } : {}),
    ...(document === undefined ? {} : { document: JSON.stringify(document) }),
    ...(answer.tags === undefined ? {} : { tags: answer.tags }),
  };
}

/** An outcome reduced to the parts the recording has. */
export function comparable(outcome: Outcome, answer: RecordedAnswer): Outcome {
  return {
    httpStatus: outcome.httpStatus,
    ...(answer.error === undefined ? {} : { error: outcome.error }),
    ...(answer.message === undefined ? {} : { message: outcome.message }),
    ...(answer.statement === undefined && answer.policy === undefined
      ? {}
      : { document: reserialised(outcome.document) }),
    ...(answer.tags === undefined ? {} : { tags: outcome.tags }),
  };
}

function reserialised(text: string | undefined): string | undefined {
  return text === undefined ? undefined : JSON.stringify(JSON.parse(text));
}

const str = (members: Members, key: string): string | undefined => {
  const value = members[key];
  return typeof value === "string" ? value : undefined;
};

/**
 * The function as a caller of the port names it: the FunctionName as given
 * (a ":qualifier" suffix included, which the fake reads as Lambda does), and
 * its parts as Lambda reads them.
 */
function functionRef(functionName: string): LambdaFunctionRef {
  const parsed = parseFunctionNameAsLambda(functionName);
  if (parsed === undefined) throw new Error(`the fixture names no function Lambda can read: ${functionName}`);
  return {
    functionName,
    name: parsed.name,
    account: parsed.account,
    region: parsed.region,
    partition: parsed.partition,
  };
}

function tagRecord(tags: unknown): Record<string, string> {
  const list = Array.isArray(tags) ? (tags as { key: string; value: string }[]) : [];
  return Object.fromEntries(list.map((tag) => [tag.key, tag.value]));
}

function tagList(tags: Readonly<Record<string, string>> | undefined): { key: string; value: string }[] | undefined {
  return tags === undefined ? undefined : Object.entries(tags).map(([key, value]) => ({ key, value }));
}

/** One step through the port (the fake backend, or the AWS adapter), with the answer as AWS gave it. */
export async function callPort(backend: PermissionBackend, step: RecordedStep, options: CallOptions): Promise<Outcome> {
  try {
    return await sendThroughPort(backend, step, options);
  } catch (error) {
    if (!isAwsApiError(error)) throw error;
    return { httpStatus: error.httpStatus, error: error.code, message: error.message };
  }
}

/** One step through the port; an error is thrown as the port threw it. */
export async function sendThroughPort(
  backend: PermissionBackend,
  step: RecordedStep,
  options: CallOptions,
): Promise<Outcome> {
  const m = step.request;
  switch (step.operation) {
    case "AddPermission": {
      const output = await backend.addLambdaPermission(
        {
          function: functionRef(str(m, "FunctionName") ?? ""),
          statementId: str(m, "StatementId") ?? "",
          action: str(m, "Action") ?? "",
          principal: str(m, "Principal") ?? "",
          sourceArn: str(m, "SourceArn"),
          sourceAccount: str(m, "SourceAccount"),
          eventSourceToken: str(m, "EventSourceToken"),
          qualifier: str(m, "Qualifier"),
          revisionId: str(m, "RevisionId"),
          principalOrgId: str(m, "PrincipalOrgID"),
          functionUrlAuthType: str(m, "FunctionUrlAuthType") as FunctionUrlAuthType | undefined,
        },
        options,
      );
      return { httpStatus: 201, document: output.statement };
    }
    case "RemovePermission":
      await backend.removeLambdaPermission(
        {
          function: functionRef(str(m, "FunctionName") ?? ""),
          statementId: str(m, "StatementId") ?? "",
          qualifier: str(m, "Qualifier"),
          revisionId: str(m, "RevisionId"),
        },
        options,
      );
      return { httpStatus: 204 };
    case "GetPolicy": {
      const output = await backend.getLambdaPolicy(
        { function: functionRef(str(m, "FunctionName") ?? ""), qualifier: str(m, "Qualifier") },
        options,
      );
      return { httpStatus: 200, document: output.policy };
    }
    case "DeletePermission":
      await backend.deleteRamPermission(
        { permission: permissionRef(str(m, "permissionArn") ?? ""), clientToken: str(m, "clientToken") ?? "" },
        options,
      );
      return { httpStatus: 200 };
    case "CreatePermission":
      await backend.createRamPermission(
        {
          name: str(m, "name") ?? "",
          resourceType: str(m, "resourceType") ?? "",
          policyTemplate: str(m, "policyTemplate") ?? "",
          clientToken: str(m, "clientToken") ?? "",
          tags: tagRecord(m["tags"]),
        },
        options,
      );
      return { httpStatus: 200 };
    case "GetPermission": {
      const version = m["permissionVersion"];
      const output = await backend.getRamPermission(
        {
          permission: permissionRef(str(m, "permissionArn") ?? ""),
          permissionVersion: typeof version === "number" ? version : undefined,
        },
        options,
      );
      return { httpStatus: 200, tags: tagList(output.tags) };
    }
    case "ListPermissions": {
      const max = m["maxResults"];
      await backend.listRamPermissions(
        { maxResults: typeof max === "number" ? max : 50, nextToken: str(m, "nextToken") },
        options,
      );
      return { httpStatus: 200 };
    }
  }
}

/** One step through a real SDK client, with the answer as the SDK surfaced it. */
export async function callSdk(clients: { lambda: LambdaClient; ram: RAMClient }, step: RecordedStep): Promise<Outcome> {
  const m = step.request as never;
  try {
    switch (step.operation) {
      case "AddPermission": {
        const output = await clients.lambda.send(new AddPermissionCommand(m));
        return { httpStatus: output.$metadata.httpStatusCode, document: output.Statement };
      }
      case "RemovePermission":
        return { httpStatus: (await clients.lambda.send(new RemovePermissionCommand(m))).$metadata.httpStatusCode };
      case "GetPolicy": {
        const output = await clients.lambda.send(new GetPolicyCommand(m));
        return { httpStatus: output.$metadata.httpStatusCode, document: output.Policy };
      }
      case "DeletePermission":
        return { httpStatus: (await clients.ram.send(new DeletePermissionCommand(m))).$metadata.httpStatusCode };
      case "CreatePermission":
        return { httpStatus: (await clients.ram.send(new CreatePermissionCommand(m))).$metadata.httpStatusCode };
      case "GetPermission": {
        const output = await clients.ram.send(new GetPermissionCommand(m));
        return { httpStatus: output.$metadata.httpStatusCode, tags: output.permission?.tags };
      }
      case "ListPermissions":
        return { httpStatus: (await clients.ram.send(new ListPermissionsCommand(m))).$metadata.httpStatusCode };
    }
  } catch (error) {
    const sdk = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    if (sdk.$metadata?.httpStatusCode === undefined) throw error;
    return { httpStatus: sdk.$metadata.httpStatusCode, error: sdk.name, message: sdk.message };
  }
}

// In-memory model of Lambda resource-based policies, after the Lambda API
// reference (AddPermission, RemovePermission, GetPolicy). Every function has
// a separate policy for the unqualified function (which $LATEST shares), for
// each published version and for each alias, each with its own RevisionId.
// Functions and statements sit in Maps, so lookups and removals do not grow
// with their number; a Map also keeps the statement order of the document.
import { randomUUID } from "node:crypto";
import type {
  AddLambdaPermissionInput,
  AddLambdaPermissionOutput,
  GetLambdaPolicyInput,
  GetLambdaPolicyOutput,
  LambdaFunctionRef,
  RemoveLambdaPermissionInput,
} from "../backend.js";
import { isAwsApiError } from "../errors.js";
import { createAwsError } from "./aws-errors.js";
import { FakeSeedError, principalProblem, seedPatterns } from "./seed.js";
import type { FakeSeedFunction, FakeSeedStatement } from "./seed.js";

export interface LambdaModelOptions {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** Lambda's limit on a policy document: 20 KB. */
  readonly policyLimitBytes: number;
}

export interface LambdaModel {
  removePermission(input: RemoveLambdaPermissionInput): void;
  addPermission(input: AddLambdaPermissionInput): AddLambdaPermissionOutput;
  getPolicy(input: GetLambdaPolicyInput): GetLambdaPolicyOutput;
}

/** One resource-based policy: of the function, a version or an alias. */
interface Policy {
  revisionId: string;
  /** Sid -> the statement's JSON text, in the order they were added. */
  readonly statements: Map<string, string>;
  /** UTF-8 bytes of all statement texts, to check the limit without rendering. */
  statementBytes: number;
}

interface LambdaFunction {
  /** Unqualified ARN. */
  readonly arn: string;
  readonly partition: string;
  readonly unqualified: Policy;
  readonly versions: Map<string, Policy>;
  readonly aliases: Map<string, Policy>;
}

interface Target {
  readonly fn: LambdaFunction;
  readonly policy: Policy;
  /** The ARN a statement's Resource names: qualified when a qualifier was given. */
  readonly resourceArn: string;
}

const documentPrefix = '{"Version":"2012-10-17","Id":"default","Statement":[';
const documentSuffix = "]}";
const documentOverhead = Buffer.byteLength(documentPrefix + documentSuffix);

export function createLambdaModel(seedFunctions: readonly FakeSeedFunction[], options: LambdaModelOptions): LambdaModel {
  const functions = new Map<string, LambdaFunction>();

  const functionKey = (partition: string, region: string, account: string, name: string): string =>
    `${partition}/${region}/${account}/${name}`;

  const resolve = (ref: LambdaFunctionRef, qualifierField: string | undefined): Target => {
    const qualifier = mergeQualifier(ref.functionName, qualifierField);
    const partition = ref.partition ?? options.partition;
    const region = ref.region ?? options.region;
    const account = ref.account ?? options.account;
    const fn = functions.get(functionKey(partition, region, account, ref.name));
    if (fn === undefined) {
      throw createAwsError("lambda", "ResourceNotFoundException", {
        message: `Function not found: ${functionArn(partition, region, account, ref.name)}`,
        missing: "function",
      });
    }
    if (qualifier === undefined || qualifier === "$LATEST") return { fn, policy: fn.unqualified, resourceArn: fn.arn };
    const policy = /^\d+$/.test(qualifier) ? fn.versions.get(qualifier) : fn.aliases.get(qualifier);
    if (policy === undefined) {
      throw createAwsError("lambda", "ResourceNotFoundException", {
        message: `Function not found: ${fn.arn}:${qualifier}`,
        missing: "qualifier",
      });
    }
    return { fn, policy, resourceArn: `${fn.arn}:${qualifier}` };
  };

  const checkRevision = (policy: Policy, revisionId: string | undefined): void => {
    if (revisionId !== undefined && revisionId !== policy.revisionId) {
      throw createAwsError("lambda", "PreconditionFailedException", {
        message: "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id",
      });
    }
  };

  const addStatement = (target: Target, input: StatementInput): string => {
    const problem = principalProblem(input.principal);
    if (problem !== undefined) throw createAwsError("lambda", "InvalidParameterValueException", { message: problem });
    const { policy } = target;
    if (policy.statements.has(input.statementId)) {
      throw createAwsError("lambda", "ResourceConflictException", {
        message: `The statement id (${input.statementId}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
      });
    }
    const statement = renderStatement(input, target.resourceArn, target.fn.partition);
    const bytes = Buffer.byteLength(statement);
    const finalSize = documentOverhead + policy.statementBytes + bytes + policy.statements.size; // one comma per earlier statement
    if (finalSize > options.policyLimitBytes) {
      throw createAwsError("lambda", "PolicyLengthExceededException", {
        message: `The final policy size (${finalSize}) is bigger than the limit (${options.policyLimitBytes}).`,
      });
    }
    policy.statements.set(input.statementId, statement);
    policy.statementBytes += bytes;
    policy.revisionId = randomUUID();
    return statement;
  };

  seedFunctions.forEach((seed, index) => {
    const path = `$.lambda.functions[${index}]`;
    const partition = seed.partition ?? options.partition;
    const region = seed.region ?? options.region;
    const account = seed.account ?? options.account;
    const key = functionKey(partition, region, account, seed.name);
    const arn = functionArn(partition, region, account, seed.name);
    if (functions.has(key)) throw new FakeSeedError(path, `duplicate function ${arn}`);
    const fn: LambdaFunction = { arn, partition, unqualified: newPolicy(), versions: new Map(), aliases: new Map() };
    for (const version of seed.versions ?? []) fn.versions.set(version, newPolicy());
    for (const alias of Object.keys(seed.aliases ?? {})) fn.aliases.set(alias, newPolicy());
    functions.set(key, fn);
    (seed.statements ?? []).forEach((statement, statementIndex) => {
      const ref: LambdaFunctionRef = { functionName: arn, name: seed.name, account, region, partition };
      try {
        addStatement(resolve(ref, statement.qualifier), statement);
      } catch (error) {
        if (isAwsApiError(error)) throw new FakeSeedError(`${path}.statements[${statementIndex}]`, error.message);
        throw error;
      }
    });
  });

  return {
    removePermission(input) {
      const { policy } = resolve(input.function, input.qualifier);
      checkRevision(policy, input.revisionId);
      if (policy.statements.size === 0) {
        throw createAwsError("lambda", "ResourceNotFoundException", {
          message: "No policy is associated with the given resource.",
          missing: "policy",
        });
      }
      const statement = policy.statements.get(input.statementId);
      if (statement === undefined) {
        throw createAwsError("lambda", "ResourceNotFoundException", {
          message: `Statement ${input.statementId} is not found in resource policy.`,
          missing: "statement",
        });
      }
      policy.statements.delete(input.statementId);
      policy.statementBytes -= Buffer.byteLength(statement);
      policy.revisionId = randomUUID();
    },

    addPermission(input) {
      // Lambda refuses $LATEST before it looks anything up.
      if (input.qualifier === "$LATEST" || qualifierSuffix(input.function.functionName) === "$LATEST") {
        throw createAwsError("lambda", "InvalidParameterValueException", {
          message: "We currently do not support adding policies for $LATEST.",
        });
      }
      const target = resolve(input.function, input.qualifier);
      checkRevision(target.policy, input.revisionId);
      return { statement: addStatement(target, input) };
    },

    getPolicy(input) {
      const { policy } = resolve(input.function, input.qualifier);
      if (policy.statements.size === 0) {
        throw createAwsError("lambda", "ResourceNotFoundException", {
          message: "The resource you requested does not exist.",
          missing: "policy",
        });
      }
      return {
        policy: documentPrefix + [...policy.statements.values()].join(",") + documentSuffix,
        revisionId: policy.revisionId,
      };
    },
  };
}

type StatementInput = Omit<FakeSeedStatement, "qualifier">;

function newPolicy(): Policy {
  return { revisionId: randomUUID(), statements: new Map(), statementBytes: 0 };
}

function functionArn(partition: string, region: string, account: string, name: string): string {
  return `arn:${partition}:lambda:${region}:${account}:function:${name}`;
}

/**
 * The statement as Lambda writes it: an account ID becomes the account's root
 * ARN, a service name a Service principal, and the optional parameters become
 * conditions (StringEquals before ArnLike, as in Lambda's own examples).
 */
function renderStatement(input: StatementInput, resource: string, partition: string): string {
  const principal =
    input.principal === "*"
      ? "*"
      : seedPatterns.account.test(input.principal)
        ? { AWS: `arn:${partition}:iam::${input.principal}:root` }
        : input.principal.startsWith("arn:")
          ? { AWS: input.principal }
          : { Service: input.principal };
  const stringEquals: Record<string, string> = {};
  if (input.sourceAccount !== undefined) stringEquals["AWS:SourceAccount"] = input.sourceAccount;
  if (input.principalOrgId !== undefined) stringEquals["aws:PrincipalOrgID"] = input.principalOrgId;
  if (input.eventSourceToken !== undefined) stringEquals["lambda:EventSourceToken"] = input.eventSourceToken;
  if (input.functionUrlAuthType !== undefined) stringEquals["lambda:FunctionUrlAuthType"] = input.functionUrlAuthType;
  const condition: Record<string, Record<string, string>> = {};
  if (Object.keys(stringEquals).length > 0) condition.StringEquals = stringEquals;
  if (input.sourceArn !== undefined) condition.ArnLike = { "AWS:SourceArn": input.sourceArn };
  return JSON.stringify({
    Sid: input.statementId,
    Effect: "Allow",
    Principal: principal,
    Action: input.action,
    Resource: resource,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  });
}

/**
 * The port hands over the name without its qualifier, but a caller (or the
 * wire fake) may still pass "name:qualifier"; Lambda takes the qualifier from
 * the name and refuses a different Qualifier parameter.
 */
function mergeQualifier(functionName: string, qualifierField: string | undefined): string | undefined {
  const fromName = qualifierSuffix(functionName);
  if (fromName !== undefined && qualifierField !== undefined && fromName !== qualifierField) {
    throw createAwsError("lambda", "InvalidParameterValueException", {
      message: "The derived qualifier from the function name does not match the specified qualifier.",
    });
  }
  return qualifierField ?? fromName;
}

/** The ":qualifier" suffix of a function name, partial ARN or ARN, if any. */
function qualifierSuffix(functionName: string): string | undefined {
  const parts = functionName.split(":");
  if (parts[0] === "arn") return parts.length === 8 ? parts[7] : undefined;
  switch (parts.length) {
    case 2: // "name:qualifier" or "account:name"
      return seedPatterns.account.test(parts[0] ?? "") ? undefined : parts[1];
    case 3: // "account:name:qualifier" or "account:function:name"
      return parts[1] === "function" ? undefined : parts[2];
    case 4: // "account:function:name:qualifier"
      return parts[3];
    default:
      return undefined;
  }
}

// In-memory model of Lambda resource-based policies, after the Lambda API
// reference and the answers recorded against real Lambda
// (test/fixtures/aws-recorded-answers.json). Every function has a separate
// policy for the unqualified function (which $LATEST shares), for each
// published version and for each alias. As in Lambda, a policy's RevisionId
// is the RevisionId of the function, version or alias it belongs to: it
// exists before any statement does, and every policy change renews it.
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
  RemoveLambdaPermissionOutput,
} from "../backend.js";
import { isAwsApiError } from "../errors.js";
import { lambdaFunctionArn, parseFunctionNameAsLambda } from "../../aws/arn.js";
import {
  lambdaConstraintViolations,
  lambdaFieldRules,
  matchesPattern,
  validationExceptionMessage,
} from "../../aws/field-rules.js";
import { lambdaMessages } from "../../aws/lambda-answers.js";
import { isValidLambdaPrincipal, renderLambdaStatement, type StatementRequest } from "../../aws/lambda-statement.js";
import { partitionOfRegion } from "../../aws/partitions.js";
import { createAwsError } from "./aws-errors.js";
import { FakeSeedError } from "./seed.js";
import type { FakeSeedFunction } from "./seed.js";

export interface LambdaModelOptions {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** Lambda's limit on a policy document: 20 KB. */
  readonly policyLimitBytes: number;
}

export interface LambdaModel {
  removePermission(input: RemoveLambdaPermissionInput): RemoveLambdaPermissionOutput;
  addPermission(input: AddLambdaPermissionInput): AddLambdaPermissionOutput;
  getPolicy(input: GetLambdaPolicyInput): GetLambdaPolicyOutput;
}

/** The function, a version or an alias: its RevisionId and its policy. */
interface Resource {
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
  readonly unqualified: Resource;
  readonly versions: ReadonlyMap<string, Resource>;
  readonly aliases: ReadonlyMap<string, Resource>;
}

/** Versions and aliases come only from the seed; most functions have none, and share this. */
const none: ReadonlyMap<string, Resource> = new Map();

interface Target {
  readonly fn: LambdaFunction;
  readonly resource: Resource;
  /** The ARN a statement's Resource names: qualified when a qualifier was given. */
  readonly resourceArn: string;
}

type Operation = "AddPermission" | "RemovePermission" | "GetPolicy";

const documentPrefix = '{"Version":"2012-10-17","Id":"default","Statement":[';
const documentSuffix = "]}";
const documentOverhead = Buffer.byteLength(documentPrefix + documentSuffix);

/**
 * The not-found answer of each operation, as recorded: AddPermission names
 * the function (or version) or the alias it could not find, RemovePermission
 * says no policy was found for it, GetPolicy says only that the resource
 * does not exist. `arn` is qualified when the request was.
 */
function notFound(operation: Operation, arn: string, aliasMissing: boolean): Error {
  const message =
    operation === "GetPolicy"
      ? lambdaMessages.resourceNotFound
      : aliasMissing
        ? lambdaMessages.aliasNotFound(arn)
        : operation === "AddPermission"
          ? lambdaMessages.functionNotFound(arn)
          : lambdaMessages.noPolicyFound(arn);
  return createAwsError("lambda", "ResourceNotFoundException", { message });
}

export function createLambdaModel(
  seedFunctions: readonly FakeSeedFunction[],
  options: LambdaModelOptions,
): LambdaModel {
  /** By unqualified ARN, which names partition, Region, account and name: unique, and the one string kept. */
  const functions = new Map<string, LambdaFunction>();

  const resolve = (operation: Operation, ref: LambdaFunctionRef, qualifierField: string | undefined): Target => {
    const qualifier = mergeQualifier(ref.functionName, qualifierField);
    const region = ref.region ?? options.region;
    const partition = ref.partition ?? partitionOfRegion(region) ?? options.partition;
    const account = ref.account ?? options.account;
    const arn = lambdaFunctionArn({ partition, region, account, name: ref.name });
    const qualifiedArn = qualifier === undefined ? arn : `${arn}:${qualifier}`;
    const aliasShaped = qualifier !== undefined && isAliasName(qualifier);
    const fn = functions.get(arn);
    if (fn === undefined) throw notFound(operation, qualifiedArn, false);
    if (qualifier === undefined || qualifier === "$LATEST")
      return { fn, resource: fn.unqualified, resourceArn: fn.arn };
    // A qualifier that is neither a version nor an alias name is looked up as a version would be.
    const resource = aliasShaped ? fn.aliases.get(qualifier) : fn.versions.get(qualifier);
    if (resource === undefined) throw notFound(operation, qualifiedArn, aliasShaped);
    return { fn, resource, resourceArn: qualifiedArn };
  };

  const checkRevision = (resource: Resource, revisionId: string | undefined): void => {
    if (revisionId !== undefined && revisionId !== resource.revisionId) {
      throw createAwsError("lambda", "PreconditionFailedException", { message: lambdaMessages.revisionMismatch });
    }
  };

  const addStatement = (target: Target, request: StatementRequest): string => {
    const { resource } = target;
    if (resource.statements.has(request.statementId)) {
      throw createAwsError("lambda", "ResourceConflictException", {
        message: lambdaMessages.duplicateStatement(request.statementId),
      });
    }
    const statement = JSON.stringify(renderLambdaStatement(request, target.resourceArn, target.fn.partition));
    const bytes = Buffer.byteLength(statement);
    const finalSize = documentOverhead + resource.statementBytes + bytes + resource.statements.size; // one comma per earlier statement
    if (finalSize > options.policyLimitBytes) {
      throw createAwsError("lambda", "PolicyLengthExceededException", {
        message: `The final policy size (${finalSize}) is bigger than the limit (${options.policyLimitBytes}).`,
      });
    }
    resource.statements.set(request.statementId, statement);
    resource.statementBytes += bytes;
    resource.revisionId = randomUUID();
    return statement;
  };

  seedFunctions.forEach((seed, index) => loadSeedFunction(seed, `$.lambda.functions[${index}]`));

  function loadSeedFunction(seed: FakeSeedFunction, path: string): void {
    const region = seed.region ?? options.region;
    const partition = seed.partition ?? partitionOfRegion(region) ?? options.partition;
    const account = seed.account ?? options.account;
    const arn = lambdaFunctionArn({ partition, region, account, name: seed.name });
    if (functions.has(arn)) throw new FakeSeedError(path, `duplicate function ${arn}`);
    const versions = seed.versions ?? [];
    const aliases = Object.keys(seed.aliases ?? {});
    const fn: LambdaFunction = {
      arn,
      partition,
      unqualified: newResource(seed.revisionId),
      versions: versions.length === 0 ? none : new Map(versions.map((version) => [version, newResource()])),
      aliases: aliases.length === 0 ? none : new Map(aliases.map((alias) => [alias, newResource()])),
    };
    functions.set(arn, fn);
    (seed.statements ?? []).forEach((statement, statementIndex) => {
      const ref: LambdaFunctionRef = { functionName: arn, name: seed.name, account, region, partition };
      try {
        checkPrincipal(statement.principal);
        addStatement(resolve("AddPermission", ref, statement.qualifier), statement);
      } catch (error) {
        if (isAwsApiError(error)) throw new FakeSeedError(`${path}.statements[${statementIndex}]`, error.message);
        throw error;
      }
    });
  }

  return {
    removePermission(input) {
      throwIfConstraintsBroken("RemovePermission", input.function, input);
      const { resource } = resolve("RemovePermission", input.function, input.qualifier);
      checkRevision(resource, input.revisionId);
      if (resource.statements.size === 0)
        throw createAwsError("lambda", "ResourceNotFoundException", { message: lambdaMessages.noPolicy });
      const statement = resource.statements.get(input.statementId);
      if (statement === undefined) {
        throw createAwsError("lambda", "ResourceNotFoundException", {
          message: lambdaMessages.statementNotFound(input.statementId),
        });
      }
      resource.statements.delete(input.statementId);
      resource.statementBytes -= Buffer.byteLength(statement);
      resource.revisionId = randomUUID();
      return { removedStatement: statement };
    },

    addPermission(input) {
      throwIfConstraintsBroken("AddPermission", input.function, input);
      // Lambda refuses $LATEST before it looks anything up.
      if (input.qualifier === "$LATEST" || qualifierSuffix(input.function.functionName) === "$LATEST") {
        throw createAwsError("lambda", "InvalidParameterValueException", {
          message: lambdaMessages.latestNotSupported,
        });
      }
      mergeQualifier(input.function.functionName, input.qualifier);
      checkPrincipal(input.principal);
      const target = resolve("AddPermission", input.function, input.qualifier);
      checkRevision(target.resource, input.revisionId);
      return { statement: addStatement(target, input) };
    },

    getPolicy(input) {
      throwIfConstraintsBroken("GetPolicy", input.function, input);
      const { resource } = resolve("GetPolicy", input.function, input.qualifier);
      if (resource.statements.size === 0)
        throw createAwsError("lambda", "ResourceNotFoundException", { message: lambdaMessages.resourceNotFound });
      return {
        policy: documentPrefix + [...resource.statements.values()].join(",") + documentSuffix,
        revisionId: resource.revisionId,
      };
    },
  };
}

function newResource(revisionId: string = randomUUID()): Resource {
  return { revisionId, statements: new Map(), statementBytes: 0 };
}

function isAliasName(qualifier: string): boolean {
  return (
    !matchesPattern(qualifier, lambdaFieldRules.version.pattern) &&
    matchesPattern(qualifier, lambdaFieldRules.alias.pattern)
  );
}

function checkPrincipal(principal: string): void {
  if (!isValidLambdaPrincipal(principal)) {
    throw createAwsError("lambda", "InvalidParameterValueException", { message: lambdaMessages.invalidPrincipal });
  }
}

/**
 * Lambda's front end checks every member against the model before the
 * operation runs; the gateway has checked them already, but the fake answers
 * a caller that did not as Lambda would: one ValidationException.
 */
function throwIfConstraintsBroken(
  operation: Operation,
  ref: LambdaFunctionRef,
  members: Partial<Omit<AddLambdaPermissionInput, "function">>,
): void {
  const violations = lambdaConstraintViolations(operation, { ...members, functionName: ref.functionName });
  if (violations.length > 0) {
    throw createAwsError("lambda", "ValidationException", { message: validationExceptionMessage(violations) });
  }
}

/**
 * The port hands over the name without its qualifier, but a caller (or the
 * wire fake) may still pass "name:qualifier"; Lambda takes the qualifier from
 * the name and refuses a different Qualifier parameter.
 */
function mergeQualifier(functionName: string, qualifierField: string | undefined): string | undefined {
  const fromName = qualifierSuffix(functionName);
  if (fromName !== undefined && qualifierField !== undefined && fromName !== qualifierField) {
    throw createAwsError("lambda", "InvalidParameterValueException", { message: lambdaMessages.qualifierMismatch });
  }
  return qualifierField ?? fromName;
}

/** The ":qualifier" suffix of a function name, partial ARN or ARN, if any, as Lambda reads the name. */
function qualifierSuffix(functionName: string): string | undefined {
  return parseFunctionNameAsLambda(functionName)?.qualifier;
}

// Lambda's RemovePermission, AddPermission and GetPolicy on the wire: request
// members -> the backend's domain input, domain output -> the response body.
// Constraints are the service model's (botocore lambda/2015-03-31).
import { parseFunctionName } from "../arn.js";
import type { FunctionUrlAuthType, LambdaFunctionRef } from "../backend/backend.js";
import type { WireCall, WireSuccess } from "./operations.js";
import { wireError } from "./wire-errors.js";
import {
  booleanMember,
  constraintViolation,
  queryParam,
  stringMember,
  throwIfLambdaViolations,
  validated,
  type StringConstraint,
} from "./wire-input.js";

const QUALIFIER: StringConstraint = { min: 1, max: 128, pattern: "\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+" };
const REMOVE_STATEMENT_ID: StringConstraint = { required: true, min: 1, max: 100, pattern: "([a-zA-Z0-9-_.]+)" };
const ADD_STATEMENT_ID: StringConstraint = { required: true, min: 1, max: 100, pattern: "([a-zA-Z0-9-_]+)" };
const ACTION: StringConstraint = { required: true, pattern: "(lambda:[*]|lambda:[a-zA-Z]+|[*])" };
const PRINCIPAL: StringConstraint = { required: true, pattern: "[^\\s]+" };
const SOURCE_ARN: StringConstraint = {
  pattern: "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)",
};
const SOURCE_ACCOUNT: StringConstraint = { min: 0, max: 12, pattern: "\\d{12}" };
const EVENT_SOURCE_TOKEN: StringConstraint = { min: 0, max: 256, pattern: "[a-zA-Z0-9._\\-]+" };
const PRINCIPAL_ORG_ID: StringConstraint = { min: 12, max: 34, pattern: "o-[a-z0-9]{10,32}" };
const FUNCTION_URL_AUTH_TYPES = ["NONE", "AWS_IAM"] as const;
const FUNCTION_URL_AUTH_TYPE: StringConstraint = { values: FUNCTION_URL_AUTH_TYPES };
const FUNCTION_NAME_MAX_LENGTH = 256;

interface ResolvedFunction {
  readonly ref: LambdaFunctionRef;
  readonly qualifier: string | undefined;
}

/**
 * The function and its effective qualifier. A name that is none of the
 * documented forms, or a ":qualifier" suffix that disagrees with the
 * Qualifier parameter, is an InvalidParameterValueException, as Lambda
 * answers it.
 */
function resolveFunction(functionName: string, qualifierParam: string | undefined): ResolvedFunction {
  const parsed = functionName.length <= FUNCTION_NAME_MAX_LENGTH ? parseFunctionName(functionName) : undefined;
  if (parsed === undefined) {
    throw wireError(
      "lambda",
      "InvalidParameterValueException",
      `The function name ${JSON.stringify(functionName)} is not a valid function name, partial ARN or function ARN.`,
    );
  }
  const { qualifier: derived, ...ref } = parsed;
  if (derived !== undefined && qualifierParam !== undefined && derived !== qualifierParam) {
    throw wireError(
      "lambda",
      "InvalidParameterValueException",
      "The derived qualifier from the function name does not match the specified qualifier.",
    );
  }
  return { ref, qualifier: qualifierParam ?? derived };
}

function labelAt(labels: readonly string[], index: number): string {
  return validated(labels[index], `path label ${index}`);
}

export async function removePermission(call: WireCall): Promise<WireSuccess> {
  const functionName = labelAt(call.labels, 0);
  const statementId = labelAt(call.labels, 1);
  const qualifier = queryParam(call.query, "Qualifier");
  const revisionId = queryParam(call.query, "RevisionId");
  throwIfLambdaViolations([
    constraintViolation("statementId", statementId, REMOVE_STATEMENT_ID),
    constraintViolation("qualifier", qualifier, QUALIFIER),
  ]);
  const fn = resolveFunction(functionName, qualifier);
  await call.backend.removeLambdaPermission(
    { function: fn.ref, statementId, qualifier: fn.qualifier, revisionId },
    call.options,
  );
  return { status: 204 };
}

export async function addPermission(call: WireCall): Promise<WireSuccess> {
  const functionName = labelAt(call.labels, 0);
  const qualifier = queryParam(call.query, "Qualifier");
  const body = call.body;
  const statementId = stringMember("lambda", body, "StatementId");
  const action = stringMember("lambda", body, "Action");
  const principal = stringMember("lambda", body, "Principal");
  const sourceArn = stringMember("lambda", body, "SourceArn");
  const sourceAccount = stringMember("lambda", body, "SourceAccount");
  const eventSourceToken = stringMember("lambda", body, "EventSourceToken");
  const revisionId = stringMember("lambda", body, "RevisionId");
  const principalOrgId = stringMember("lambda", body, "PrincipalOrgID");
  const functionUrlAuthType = stringMember("lambda", body, "FunctionUrlAuthType");
  const invokedViaFunctionUrl = booleanMember("lambda", body, "InvokedViaFunctionUrl");
  throwIfLambdaViolations([
    constraintViolation("statementId", statementId, ADD_STATEMENT_ID),
    constraintViolation("action", action, ACTION),
    constraintViolation("principal", principal, PRINCIPAL),
    constraintViolation("sourceArn", sourceArn, SOURCE_ARN),
    constraintViolation("sourceAccount", sourceAccount, SOURCE_ACCOUNT),
    constraintViolation("eventSourceToken", eventSourceToken, EVENT_SOURCE_TOKEN),
    constraintViolation("qualifier", qualifier, QUALIFIER),
    constraintViolation("principalOrgID", principalOrgId, PRINCIPAL_ORG_ID),
    constraintViolation("functionUrlAuthType", functionUrlAuthType, FUNCTION_URL_AUTH_TYPE),
  ]);
  // The backend port has no InvokedViaFunctionUrl condition; accepting it
  // and dropping it would grant more than the caller asked for.
  if (invokedViaFunctionUrl === true) {
    throw wireError(
      "lambda",
      "InvalidParameterValueException",
      "InvokedViaFunctionUrl is not supported by this fake Lambda endpoint.",
    );
  }
  const fn = resolveFunction(functionName, qualifier);
  const output = await call.backend.addLambdaPermission(
    {
      function: fn.ref,
      statementId: validated(statementId, "StatementId"),
      action: validated(action, "Action"),
      principal: validated(principal, "Principal"),
      sourceArn,
      sourceAccount,
      eventSourceToken,
      qualifier: fn.qualifier,
      revisionId,
      principalOrgId,
      functionUrlAuthType: functionUrlAuthType as FunctionUrlAuthType | undefined,
    },
    call.options,
  );
  return { status: 201, body: { Statement: output.statement } };
}

export async function getPolicy(call: WireCall): Promise<WireSuccess> {
  const functionName = labelAt(call.labels, 0);
  const qualifier = queryParam(call.query, "Qualifier");
  throwIfLambdaViolations([constraintViolation("qualifier", qualifier, QUALIFIER)]);
  const fn = resolveFunction(functionName, qualifier);
  const output = await call.backend.getLambdaPolicy({ function: fn.ref, qualifier: fn.qualifier }, call.options);
  return { status: 200, body: { Policy: output.policy, RevisionId: output.revisionId } };
}

// Lambda's RemovePermission, AddPermission and GetPolicy on the wire: request
// members -> the backend's domain input, domain output -> the response body.
// Constraints are the service model's (botocore lambda/2015-03-31).
import { parseFunctionNameAsLambda } from "../aws/arn.js";
import { lambdaConstraintViolations, type LambdaPermissionMembers } from "../aws/field-rules.js";
import { lambdaMessages } from "../aws/lambda-answers.js";
import type { FunctionUrlAuthType, LambdaFunctionRef } from "../backend/backend.js";
import type { LambdaOperation } from "../backend/fake/operations.js";
import { LAMBDA_API_VERSION, type WireCall, type WireOperations, type WireSuccess } from "./operations.js";
import { wireError } from "./wire-errors.js";
import { booleanMember, queryParam, stringMember, throwIfLambdaViolations, validated } from "./wire-input.js";

interface ResolvedFunction {
  readonly ref: LambdaFunctionRef;
  readonly qualifier: string | undefined;
}

/**
 * The members' constraints first, as Lambda's front end checks them (one
 * ValidationException for all), then the function and its effective
 * qualifier: a name the pattern allows but no form of Lambda's reading
 * explains, or a ":qualifier" suffix that disagrees with the Qualifier
 * parameter, is an InvalidParameterValueException, as Lambda answers it.
 */
function resolveFunction(
  operation: "AddPermission" | "RemovePermission" | "GetPolicy",
  members: LambdaPermissionMembers,
): ResolvedFunction {
  throwIfLambdaViolations(lambdaConstraintViolations(operation, members));
  const functionName = validated(members.functionName, "FunctionName");
  const parsed = parseFunctionNameAsLambda(functionName);
  if (parsed === undefined) {
    throw wireError(
      "lambda",
      "InvalidParameterValueException",
      `The function name ${JSON.stringify(functionName)} is not a valid function name, partial ARN or function ARN.`,
    );
  }
  const { qualifier: derived, ...ref } = parsed;
  if (derived !== undefined && members.qualifier !== undefined && derived !== members.qualifier) {
    throw wireError("lambda", "InvalidParameterValueException", lambdaMessages.qualifierMismatch);
  }
  return { ref, qualifier: members.qualifier ?? derived };
}

function labelAt(labels: readonly string[], index: number): string {
  return validated(labels[index], `path label ${index}`);
}

export async function removePermission(call: WireCall): Promise<WireSuccess> {
  const statementId = labelAt(call.labels, 1);
  const fn = resolveFunction("RemovePermission", {
    functionName: labelAt(call.labels, 0),
    statementId,
    qualifier: queryParam(call.query, "Qualifier"),
  });
  const output = await call.backend.removeLambdaPermission(
    { function: fn.ref, statementId, qualifier: fn.qualifier, revisionId: queryParam(call.query, "RevisionId") },
    call.options,
  );
  return { status: 204, requestId: output.awsRequestId };
}

export async function addPermission(call: WireCall): Promise<WireSuccess> {
  const body = call.body;
  const members = {
    functionName: labelAt(call.labels, 0),
    qualifier: queryParam(call.query, "Qualifier"),
    statementId: stringMember("lambda", body, "StatementId"),
    action: stringMember("lambda", body, "Action"),
    principal: stringMember("lambda", body, "Principal"),
    sourceArn: stringMember("lambda", body, "SourceArn"),
    sourceAccount: stringMember("lambda", body, "SourceAccount"),
    eventSourceToken: stringMember("lambda", body, "EventSourceToken"),
    principalOrgId: stringMember("lambda", body, "PrincipalOrgID"),
    functionUrlAuthType: stringMember("lambda", body, "FunctionUrlAuthType"),
  };
  const revisionId = stringMember("lambda", body, "RevisionId");
  const invokedViaFunctionUrl = booleanMember("lambda", body, "InvokedViaFunctionUrl");
  const fn = resolveFunction("AddPermission", members);
  const output = await call.backend.addLambdaPermission(
    {
      function: fn.ref,
      statementId: validated(members.statementId, "StatementId"),
      action: validated(members.action, "Action"),
      principal: validated(members.principal, "Principal"),
      sourceArn: members.sourceArn,
      sourceAccount: members.sourceAccount,
      eventSourceToken: members.eventSourceToken,
      qualifier: fn.qualifier,
      revisionId,
      principalOrgId: members.principalOrgId,
      // The constraints checked it is one of the enum's values.
      functionUrlAuthType: members.functionUrlAuthType as FunctionUrlAuthType | undefined,
      invokedViaFunctionUrl,
    },
    call.options,
  );
  return { status: 201, body: { Statement: output.statement }, requestId: output.awsRequestId };
}

export async function getPolicy(call: WireCall): Promise<WireSuccess> {
  const fn = resolveFunction("GetPolicy", {
    functionName: labelAt(call.labels, 0),
    qualifier: queryParam(call.query, "Qualifier"),
  });
  const output = await call.backend.getLambdaPolicy({ function: fn.ref, qualifier: fn.qualifier }, call.options);
  return {
    status: 200,
    body: { Policy: output.policy, RevisionId: output.revisionId },
    requestId: output.awsRequestId,
  };
}

const policyPath = `/${LAMBDA_API_VERSION}/functions/{FunctionName}/policy`;

export const lambdaOperations = {
  RemovePermission: { route: { method: "DELETE", path: `${policyPath}/{StatementId}` }, handler: removePermission },
  AddPermission: { route: { method: "POST", path: policyPath }, handler: addPermission },
  GetPolicy: { route: { method: "GET", path: policyPath }, handler: getPolicy },
} satisfies WireOperations<LambdaOperation>;

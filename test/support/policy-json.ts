// The JSON documents Lambda answers with (GetPolicy's policy, AddPermission's
// statement), typed for the tests that look inside them.
import type { LambdaStatement } from "../../src/aws/lambda-statement.js";

export interface LambdaPolicyDocument {
  readonly Version: string;
  readonly Id: string;
  readonly Statement: readonly LambdaStatement[];
}

export function parsePolicy(json: string): LambdaPolicyDocument {
  return JSON.parse(json) as LambdaPolicyDocument;
}

export function parseStatement(json: string): LambdaStatement {
  return JSON.parse(json) as LambdaStatement;
}

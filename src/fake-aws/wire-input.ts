// Reading request members off the wire the way the services' frontends do:
// a body that is not JSON, or a member of the wrong JSON type, fails
// deserialisation; a value that breaks the model's constraints fails
// validation. Lambda reports constraint failures as one ValidationException
// in its front end's words; RAM answers with its own modelled exceptions.
import { SERVICE_ERROR_CODES } from "../aws/error-catalogue.js";
import { validationExceptionMessage } from "../aws/field-rules.js";
import type { AwsService } from "../backend/errors.js";
import { wireError } from "./wire-errors.js";
import { errorMessage } from "../util/error-message.js";

export type JsonObject = Readonly<Record<string, unknown>>;

/** The JSON object of a request body; an empty body is an empty input, as the SDKs send it. */
export function parseJsonBody(service: AwsService, text: string): JsonObject {
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = errorMessage(error);
    throw wireError(
      service,
      SERVICE_ERROR_CODES[service].unreadableRequest,
      `Could not parse request body into json: ${reason}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw wireError(
      service,
      SERVICE_ERROR_CODES[service].unreadableRequest,
      "Could not parse request body into json: expected a JSON object",
    );
  }
  return parsed as JsonObject;
}

function wrongType(service: AwsService, member: string, expected: string): never {
  throw wireError(
    service,
    SERVICE_ERROR_CODES[service].unreadableRequest,
    `Could not parse request body into json: member '${member}' must be ${expected}`,
  );
}

/** A string member; null and absent both mean "not given", as in AWS's deserialisers. */
export function stringMember(service: AwsService, body: JsonObject, member: string): string | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") wrongType(service, member, "a string");
  return value;
}

export function integerMember(service: AwsService, body: JsonObject, member: string): number | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) wrongType(service, member, "an integer");
  return value;
}

export function booleanMember(service: AwsService, body: JsonObject, member: string): boolean | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") wrongType(service, member, "a boolean");
  return value;
}

export function arrayMember(service: AwsService, body: JsonObject, member: string): readonly unknown[] | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) wrongType(service, member, "a list");
  // Array.isArray narrows to any[]; the elements are still unchecked JSON.
  return value as readonly unknown[];
}

/** A query parameter; repeated parameters are ambiguous, and AWS takes the first. */
export function queryParam(query: URLSearchParams, name: string): string | undefined {
  return query.get(name) ?? undefined;
}

/** Lambda's single ValidationException listing every broken constraint (src/aws/field-rules.ts). */
export function throwIfLambdaViolations(violations: readonly string[]): void {
  if (violations.length > 0) throw wireError("lambda", "ValidationException", validationExceptionMessage(violations));
}

/** A required member that validation already proved present; absence here is a bug. */
export function validated<T>(value: T | undefined, member: string): T {
  if (value === undefined) throw new Error(`${member} passed validation but is absent`);
  return value;
}

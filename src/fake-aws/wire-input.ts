// Reading request members off the wire the way the services' frontends do:
// a body that is not JSON, or a member of the wrong JSON type, fails
// deserialisation; a value that breaks the model's constraints fails
// validation. Lambda reports constraint failures as one ValidationException
// in Coral's words; RAM answers with its own modelled exceptions.
import type { AwsService } from "../backend/errors.js";
import { wireError } from "./wire-errors.js";

export type JsonObject = Readonly<Record<string, unknown>>;

const deserializationErrorCode: Readonly<Record<AwsService, string>> = {
  lambda: "InvalidRequestContentException",
  ram: "InvalidParameterException",
};

/** The JSON object of a request body; an empty body is an empty input, as the SDKs send it. */
export function parseJsonBody(service: AwsService, text: string): JsonObject {
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw wireError(service, deserializationErrorCode[service], `Could not parse request body into json: ${reason}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw wireError(service, deserializationErrorCode[service], "Could not parse request body into json: expected a JSON object");
  }
  return parsed as JsonObject;
}

function wrongType(service: AwsService, member: string, expected: string): never {
  throw wireError(
    service,
    deserializationErrorCode[service],
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
  return value;
}

/** A query parameter; repeated parameters are ambiguous, and AWS takes the first. */
export function queryParam(query: URLSearchParams, name: string): string | undefined {
  return query.get(name) ?? undefined;
}

/** A constraint of the service model, checked as AWS checks it: on the whole value. */
export interface StringConstraint {
  readonly required?: boolean | undefined;
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  /** The model's pattern, quoted verbatim in the violation. */
  readonly pattern?: string | undefined;
  readonly values?: readonly string[] | undefined;
}

/** Coral's wording for one broken constraint, or undefined when the value is fine. */
export function constraintViolation(
  member: string,
  value: string | undefined,
  constraint: StringConstraint,
): string | undefined {
  const at = `at '${member}' failed to satisfy constraint`;
  if (value === undefined) return constraint.required === true ? `Value null ${at}: Member must not be null` : undefined;
  const shown = `Value '${value}' ${at}`;
  if (constraint.min !== undefined && value.length < constraint.min) {
    return `${shown}: Member must have length greater than or equal to ${constraint.min}`;
  }
  if (constraint.max !== undefined && value.length > constraint.max) {
    return `${shown}: Member must have length less than or equal to ${constraint.max}`;
  }
  if (constraint.values !== undefined && !constraint.values.includes(value)) {
    return `${shown}: Member must satisfy enum value set: [${constraint.values.join(", ")}]`;
  }
  if (constraint.pattern !== undefined && !new RegExp(`^(?:${constraint.pattern})$`).test(value)) {
    return `${shown}: Member must satisfy regular expression pattern: ${constraint.pattern}`;
  }
  return undefined;
}

/** Lambda's single ValidationException listing every broken constraint. */
export function throwIfLambdaViolations(violations: readonly (string | undefined)[]): void {
  const broken = violations.filter((violation): violation is string => violation !== undefined);
  if (broken.length === 0) return;
  const count = broken.length === 1 ? "1 validation error detected" : `${broken.length} validation errors detected`;
  throw wireError("lambda", "ValidationException", `${count}: ${broken.join("; ")}`);
}

/** A required member that validation already proved present; absence here is a bug. */
export function validated<T>(value: T | undefined, member: string): T {
  if (value === undefined) throw new Error(`${member} passed validation but is absent`);
  return value;
}

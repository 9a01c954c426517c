// The seed of the fake backend: the Lambda functions and RAM permissions it
// starts with, as JSON (docs/fake-seed.md). parseFakeSeed checks the shape and
// every rule that needs only the entry itself, and names the JSON path of the
// first thing wrong, so a bad FAKE_SEED file fails start-up with one line.
// Rules across entries (duplicates, policy size) are checked when a backend
// loads the seed, because they depend on its default account and Region.
import { readFile } from "node:fs/promises";
import { roleArnPattern as ROLE_ARN } from "../../accounts/role-arn.js";
import type { FakeRoleSeed } from "./identities.js";
import type { RamPermissionType } from "../backend.js";
import { isValidLambdaPrincipal, type StatementRequest } from "../../aws/lambda-statement.js";
import { lambdaMessages } from "../../aws/lambda-answers.js";
import { awsPartition, partitionOfRegion } from "../../aws/partitions.js";
import { brokenConstraint, lambdaFieldRules, ramFieldRules, type FieldRule } from "../../aws/field-rules.js";

export interface FakeSeed {
  readonly lambda?: FakeSeedLambda | undefined;
  readonly ram?: FakeSeedRam | undefined;
  /** The roles STS lets principals assume (identities.ts). */
  readonly iam?: FakeSeedIam | undefined;
}

export interface FakeSeedIam {
  readonly roles?: readonly FakeRoleSeed[] | undefined;
}

export interface FakeSeedLambda {
  readonly functions?: readonly FakeSeedFunction[] | undefined;
}

export interface FakeSeedFunction {
  readonly name: string;
  /** Defaults to the backend's default account, Region and partition. */
  readonly account?: string | undefined;
  readonly region?: string | undefined;
  readonly partition?: string | undefined;
  /**
   * The function's RevisionId, which its policy shares (Lambda's own
   * semantics); default a fresh UUID. Versions and aliases always get fresh ones.
   */
  readonly revisionId?: string | undefined;
  /** Published version numbers, e.g. ["1", "2"]. */
  readonly versions?: readonly string[] | undefined;
  /** Alias name -> a published version or "$LATEST". */
  readonly aliases?: Readonly<Record<string, string>> | undefined;
  /** Statements, as AddPermission would have added them. */
  readonly statements?: readonly FakeSeedStatement[] | undefined;
}

/** A statement, as AddPermission would have added it (the same members). */
export type FakeSeedStatement = StatementRequest & {
  /** A version or alias; absent for the unqualified function's policy. */
  readonly qualifier?: string | undefined;
};

export interface FakeSeedRam {
  readonly permissions?: readonly FakeSeedRamPermission[] | undefined;
}

export interface FakeSeedRamPermission {
  readonly name: string;
  /** Defaults to CUSTOMER_MANAGED. */
  readonly permissionType?: RamPermissionType | undefined;
  /** Customer managed only; default to the backend's defaults. */
  readonly account?: string | undefined;
  readonly region?: string | undefined;
  readonly partition?: string | undefined;
  /** e.g. "ec2:Subnet". */
  readonly resourceType: string;
  /** Shorthand for one version 1 with this template. */
  readonly policyTemplate?: FakeSeedPolicyTemplate | undefined;
  readonly versions?: readonly FakeSeedRamPermissionVersion[] | undefined;
  /** Defaults to the highest version. */
  readonly defaultVersion?: number | undefined;
  /** ARNs of the resource shares the permission is attached to. */
  readonly attachedTo?: readonly string[] | undefined;
  /** ISO 8601; defaults to the backend clock at load time. */
  readonly creationTime?: string | undefined;
  /** Tags, as CreatePermission would have been given them. */
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

export interface FakeSeedRamPermissionVersion {
  readonly version: number;
  readonly policyTemplate: FakeSeedPolicyTemplate;
  readonly creationTime?: string | undefined;
}

/** A policy template as JSON text or as the object itself. */
export type FakeSeedPolicyTemplate = string | { readonly [key: string]: unknown };

/** A seed that breaks a rule; `path` is where, e.g. "$.lambda.functions[0].aliases.live". */
export class FakeSeedError extends Error {
  override readonly name = "FakeSeedError" as const;
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`invalid fake seed at ${path}: ${reason}`);
  }
}

/** The seed's own rules; what AWS's model constrains comes from src/aws/field-rules.ts. */
export const seedPatterns = {
  account: /^\d{12}$/,
  /** Published versions only: not $LATEST. */
  version: /^[1-9]\d{0,9}$/,
  /** AWS managed names are longer than CreatePermission allows. */
  awsManagedRamName: /^[\w.-]{1,128}$/,
  resourceType: /^[a-z0-9-]+:[a-z0-9]+$/i,
  resourceShareArn: /^arn:aws[a-z-]*:ram:[a-z0-9-]+:\d{12}:resource-share\/[\w.-]+$/,
} as const;

/** Validates JSON (already parsed) as a seed and returns a clean copy. */
export function parseFakeSeed(json: unknown): FakeSeed {
  const root = readObject(json, "$", ["lambda", "ram", "iam"]);
  const seed: { lambda?: FakeSeedLambda; ram?: FakeSeedRam; iam?: FakeSeedIam } = {};
  if (root.lambda !== undefined) {
    const lambda = readObject(root.lambda, "$.lambda", ["functions"]);
    seed.lambda = { functions: readArray(lambda.functions ?? [], "$.lambda.functions", parseFunction) };
  }
  if (root.ram !== undefined) {
    const ram = readObject(root.ram, "$.ram", ["permissions"]);
    seed.ram = { permissions: readArray(ram.permissions ?? [], "$.ram.permissions", parseRamPermission) };
  }
  if (root.iam !== undefined) {
    const iam = readObject(root.iam, "$.iam", ["roles"]);
    seed.iam = { roles: readArray(iam.roles ?? [], "$.iam.roles", parseRole) };
  }
  return seed;
}

/** Reads, parses and validates a seed file; errors name the file. */
export async function loadFakeSeedFile(path: string): Promise<FakeSeed> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read fake seed file ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FakeSeedError("$", `${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parseFakeSeed(json);
  } catch (error) {
    if (error instanceof FakeSeedError) throw new FakeSeedError(error.path, `${error.reason} (in ${path})`);
    throw error;
  }
}

/**
 * A policy template must be a JSON object with Effect and Action and without
 * Principal or Resource, which RAM fills in itself. Returns the reason it is
 * not, or undefined when it is fine. Shared with the RAM model.
 */
export function policyTemplateProblem(template: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(template);
  } catch {
    return "the policy template is not valid JSON";
  }
  if (!isPlainObject(parsed)) return "the policy template must be a JSON object";
  if (parsed.Effect === undefined) return "the policy template has no Effect";
  if (typeof parsed.Effect !== "string" || parsed.Effect.toLowerCase() !== "allow")
    return "the Effect of a policy template must be Allow";
  const action = parsed.Action;
  const actions = typeof action === "string" ? [action] : Array.isArray(action) ? action : undefined;
  if (actions === undefined || actions.length === 0 || !actions.every((a) => typeof a === "string" && a !== "")) {
    return "the policy template must have an Action: a string or a non-empty list of strings";
  }
  for (const element of ["Principal", "NotPrincipal", "Resource", "NotResource"]) {
    if (Object.hasOwn(parsed, element)) return `the policy template must not have a ${element} element`;
  }
  return undefined;
}

/** The actions of a template that policyTemplateProblem accepted. */
export function policyTemplateActions(template: string): string[] {
  const action = (JSON.parse(template) as { Action: string | string[] }).Action;
  return typeof action === "string" ? [action] : action;
}

function parseRole(value: unknown, path: string): FakeRoleSeed {
  const role = readObject(value, path, [
    "arn",
    "trustedAccounts",
    "externalId",
    "requireSourceIdentity",
    "maxSessionDurationSeconds",
  ]);
  const arn = readPattern(role.arn, `${path}.arn`, ROLE_ARN, "an IAM role ARN, arn:aws:iam::ACCOUNT:role/NAME");
  const trusted = role.trustedAccounts;
  if (!Array.isArray(trusted) || trusted.length === 0)
    throw new FakeSeedError(`${path}.trustedAccounts`, 'must be a non-empty list of 12-digit account IDs or "*"');
  const trustedAccounts = trusted.map((account: unknown, i) =>
    readPattern(account, `${path}.trustedAccounts[${i}]`, /^(\d{12}|\*)$/, 'a 12-digit account ID or "*"'),
  );
  const externalId = readOptionalString(role.externalId, `${path}.externalId`);
  const requireSourceIdentity = role.requireSourceIdentity;
  if (requireSourceIdentity !== undefined && typeof requireSourceIdentity !== "boolean")
    throw new FakeSeedError(`${path}.requireSourceIdentity`, "must be true or false");
  const max = role.maxSessionDurationSeconds;
  if (max !== undefined && (!Number.isInteger(max) || (max as number) < 3600 || (max as number) > 43_200))
    throw new FakeSeedError(`${path}.maxSessionDurationSeconds`, "must be an integer from 3600 to 43200");
  return {
    arn,
    trustedAccounts,
    ...(externalId === undefined ? {} : { externalId }),
    ...(requireSourceIdentity === undefined ? {} : { requireSourceIdentity }),
    ...(max === undefined ? {} : { maxSessionDurationSeconds: max as number }),
  };
}

function parseFunction(value: unknown, path: string): FakeSeedFunction {
  const o = readObject(value, path, [
    "name",
    "account",
    "region",
    "partition",
    "revisionId",
    "versions",
    "aliases",
    "statements",
  ]);
  const name = readRule(
    o.name,
    `${path}.name`,
    lambdaFieldRules.bareFunctionName,
    "a function name of 1 to 64 characters [a-zA-Z0-9._-]",
  );
  const versions = readArray(o.versions ?? [], `${path}.versions`, (v, p) =>
    readPattern(v, p, seedPatterns.version, 'a published version number such as "1"'),
  );
  rejectDuplicates(versions, `${path}.versions`, "version");
  const aliases: Record<string, string> = {};
  for (const [alias, target] of Object.entries(readObject(o.aliases ?? {}, `${path}.aliases`))) {
    const aliasPath = `${path}.aliases${jsonKey(alias)}`;
    if (brokenConstraint(alias, lambdaFieldRules.alias) !== undefined) {
      throw new FakeSeedError(aliasPath, "an alias name is 1 to 128 characters [a-zA-Z0-9_-] and not only digits");
    }
    const version = readString(target, aliasPath);
    if (version !== "$LATEST" && !versions.includes(version)) {
      throw new FakeSeedError(
        aliasPath,
        `alias target ${JSON.stringify(version)} is neither $LATEST nor a published version of ${name}`,
      );
    }
    aliases[alias] = version;
  }
  const statements = readArray(o.statements ?? [], `${path}.statements`, (v, p) =>
    parseStatement(v, p, versions, aliases),
  );
  return {
    name,
    account: readOptionalPattern(o.account, `${path}.account`, seedPatterns.account, "a 12-digit account ID"),
    ...readPlacement(o, path),
    revisionId: readOptionalString(o.revisionId, `${path}.revisionId`),
    versions,
    aliases,
    statements,
  };
}

function parseStatement(
  value: unknown,
  path: string,
  versions: readonly string[],
  aliases: Readonly<Record<string, string>>,
): FakeSeedStatement {
  const o = readObject(value, path, [
    "qualifier",
    "statementId",
    "action",
    "principal",
    "sourceArn",
    "sourceAccount",
    "eventSourceToken",
    "principalOrgId",
    "functionUrlAuthType",
    "invokedViaFunctionUrl",
  ]);
  const qualifier = o.qualifier === undefined ? undefined : readString(o.qualifier, `${path}.qualifier`);
  if (qualifier !== undefined && !versions.includes(qualifier) && !Object.hasOwn(aliases, qualifier)) {
    throw new FakeSeedError(
      `${path}.qualifier`,
      `${JSON.stringify(qualifier)} is neither a published version nor an alias of the function`,
    );
  }
  const principal = readString(o.principal, `${path}.principal`);
  if (!isValidLambdaPrincipal(principal)) throw new FakeSeedError(`${path}.principal`, lambdaMessages.invalidPrincipal);
  const urlAuthType = o.functionUrlAuthType;
  if (urlAuthType !== undefined && urlAuthType !== "NONE" && urlAuthType !== "AWS_IAM") {
    throw new FakeSeedError(`${path}.functionUrlAuthType`, 'expected "NONE" or "AWS_IAM"');
  }
  const invokedViaFunctionUrl = o.invokedViaFunctionUrl;
  if (invokedViaFunctionUrl !== undefined && typeof invokedViaFunctionUrl !== "boolean") {
    throw new FakeSeedError(`${path}.invokedViaFunctionUrl`, "expected true or false");
  }
  return {
    qualifier,
    statementId: readRule(
      o.statementId,
      `${path}.statementId`,
      lambdaFieldRules.addStatementId,
      "1 to 100 characters [a-zA-Z0-9_-]",
    ),
    action: readRule(o.action, `${path}.action`, lambdaFieldRules.action, "lambda:<Action>, lambda:* or *"),
    principal,
    sourceArn: readOptionalString(o.sourceArn, `${path}.sourceArn`),
    sourceAccount: readOptionalPattern(
      o.sourceAccount,
      `${path}.sourceAccount`,
      seedPatterns.account,
      "a 12-digit account ID",
    ),
    eventSourceToken: readOptionalString(o.eventSourceToken, `${path}.eventSourceToken`),
    principalOrgId: readOptionalString(o.principalOrgId, `${path}.principalOrgId`),
    functionUrlAuthType: urlAuthType,
    invokedViaFunctionUrl,
  };
}

function parseRamPermission(value: unknown, path: string): FakeSeedRamPermission {
  const o = readObject(value, path, [
    "name",
    "permissionType",
    "account",
    "region",
    "partition",
    "resourceType",
    "policyTemplate",
    "versions",
    "defaultVersion",
    "attachedTo",
    "creationTime",
    "tags",
  ]);
  const permissionType = o.permissionType ?? "CUSTOMER_MANAGED";
  if (permissionType !== "CUSTOMER_MANAGED" && permissionType !== "AWS_MANAGED") {
    throw new FakeSeedError(`${path}.permissionType`, 'expected "CUSTOMER_MANAGED" or "AWS_MANAGED"');
  }
  if (permissionType === "AWS_MANAGED") {
    for (const key of ["account", "region"] as const) {
      if (o[key] !== undefined)
        throw new FakeSeedError(`${path}.${key}`, "an AWS managed permission belongs to no account or Region");
    }
  }
  if ((o.policyTemplate === undefined) === (o.versions === undefined)) {
    throw new FakeSeedError(path, "give exactly one of policyTemplate (a single version 1) and versions");
  }
  const versions =
    o.versions === undefined
      ? [{ version: 1, policyTemplate: readTemplate(o.policyTemplate, `${path}.policyTemplate`) }]
      : readArray(o.versions, `${path}.versions`, parseRamVersion);
  if (versions.length === 0) throw new FakeSeedError(`${path}.versions`, "a permission has at least one version");
  rejectDuplicates(
    versions.map((v) => v.version),
    `${path}.versions`,
    "version",
  );
  const defaultVersion =
    o.defaultVersion === undefined
      ? Math.max(...versions.map((v) => v.version))
      : readVersionNumber(o.defaultVersion, `${path}.defaultVersion`);
  if (!versions.some((v) => v.version === defaultVersion)) {
    throw new FakeSeedError(
      `${path}.defaultVersion`,
      `version ${defaultVersion} is not one of the permission's versions`,
    );
  }
  const attachedTo = readArray(o.attachedTo ?? [], `${path}.attachedTo`, (v, p) =>
    readPattern(
      v,
      p,
      seedPatterns.resourceShareArn,
      "a resource share ARN such as arn:aws:ram:us-east-1:123456789012:resource-share/<id>",
    ),
  );
  return {
    name:
      permissionType === "AWS_MANAGED"
        ? readPattern(o.name, `${path}.name`, seedPatterns.awsManagedRamName, "1 to 128 characters [\\w.-]")
        : readRule(o.name, `${path}.name`, ramFieldRules.permissionName, "1 to 36 characters [\\w.-]"),
    permissionType,
    account: readOptionalPattern(o.account, `${path}.account`, seedPatterns.account, "a 12-digit account ID"),
    ...readPlacement(o, path),
    resourceType: readPattern(
      o.resourceType,
      `${path}.resourceType`,
      seedPatterns.resourceType,
      "<service-code>:<resource-type>, e.g. ec2:Subnet",
    ),
    versions,
    defaultVersion,
    attachedTo,
    creationTime: readOptionalTime(o.creationTime, `${path}.creationTime`),
    tags: readTags(o.tags, `${path}.tags`),
  };
}

/**
 * A partition and Region as AWS knows them: a known partition, a Region of
 * it. A Region alone implies its partition.
 */
function readPlacement(
  o: Record<string, unknown>,
  path: string,
): { region: string | undefined; partition: string | undefined } {
  const region = readOptionalString(o.region, `${path}.region`);
  const given = readOptionalString(o.partition, `${path}.partition`);
  if (given !== undefined && awsPartition(given) === undefined) {
    throw new FakeSeedError(
      `${path}.partition`,
      `${JSON.stringify(given)} is not an AWS partition such as aws, aws-cn, aws-us-gov or aws-eusc`,
    );
  }
  if (region === undefined) return { region, partition: given };
  const partition = partitionOfRegion(region);
  if (partition === undefined)
    throw new FakeSeedError(`${path}.region`, `${JSON.stringify(region)} is not a Region AWS has, such as us-east-1`);
  if (given !== undefined && given !== partition) {
    throw new FakeSeedError(`${path}.region`, `${region} is a Region of ${partition}, not of ${given}`);
  }
  return { region, partition };
}

function readTags(value: unknown, path: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const tags = readObject(value, path);
  for (const [key, tag] of Object.entries(tags)) {
    if (typeof tag !== "string") throw new FakeSeedError(`${path}${jsonKey(key)}`, "a tag value is a string");
  }
  return tags as Record<string, string>;
}

function parseRamVersion(value: unknown, path: string): FakeSeedRamPermissionVersion {
  const o = readObject(value, path, ["version", "policyTemplate", "creationTime"]);
  return {
    version: readVersionNumber(o.version, `${path}.version`),
    policyTemplate: readTemplate(o.policyTemplate, `${path}.policyTemplate`),
    creationTime: readOptionalTime(o.creationTime, `${path}.creationTime`),
  };
}

/** Templates are kept as the JSON text RAM stores. */
function readTemplate(value: unknown, path: string): string {
  const text = typeof value === "string" ? value : isPlainObject(value) ? JSON.stringify(value) : undefined;
  if (text === undefined) throw new FakeSeedError(path, "expected a policy template: a JSON object or its text");
  const problem = policyTemplateProblem(text);
  if (problem !== undefined) throw new FakeSeedError(path, problem);
  return text;
}

function readVersionNumber(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
    throw new FakeSeedError(path, "expected a version number: an integer of at least 1");
  return value;
}

function readOptionalTime(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  const text = readString(value, path);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(Date.parse(text))) {
    throw new FakeSeedError(path, "expected an ISO 8601 date-time such as 2024-01-01T00:00:00Z");
  }
  return text;
}

function readObject(value: unknown, path: string, allowedKeys?: readonly string[]): Record<string, unknown> {
  if (!isPlainObject(value)) throw new FakeSeedError(path, "expected a JSON object");
  if (allowedKeys !== undefined) {
    for (const key of Object.keys(value)) {
      if (!allowedKeys.includes(key))
        throw new FakeSeedError(`${path}${jsonKey(key)}`, `unknown field; expected one of ${allowedKeys.join(", ")}`);
    }
  }
  return value;
}

function readArray<T>(value: unknown, path: string, item: (value: unknown, path: string) => T): T[] {
  if (!Array.isArray(value)) throw new FakeSeedError(path, "expected a JSON array");
  return value.map((element: unknown, index) => item(element, `${path}[${index}]`));
}

function readString(value: unknown, path: string): string {
  if (typeof value !== "string" || value === "") throw new FakeSeedError(path, "expected a non-empty string");
  return value;
}

function readOptionalString(value: unknown, path: string): string | undefined {
  return value === undefined ? undefined : readString(value, path);
}

function readPattern(value: unknown, path: string, pattern: RegExp, expected: string): string {
  const text = readString(value, path);
  if (!pattern.test(text)) throw new FakeSeedError(path, `${JSON.stringify(text)} is not valid: expected ${expected}`);
  return text;
}

function readRule(value: unknown, path: string, rule: FieldRule, expected: string): string {
  const text = readString(value, path);
  if (brokenConstraint(text, rule) !== undefined)
    throw new FakeSeedError(path, `${JSON.stringify(text)} is not valid: expected ${expected}`);
  return text;
}

function readOptionalPattern(value: unknown, path: string, pattern: RegExp, expected: string): string | undefined {
  return value === undefined ? undefined : readPattern(value, path, pattern, expected);
}

function rejectDuplicates(values: readonly (string | number)[], path: string, what: string): void {
  const seen = new Set<string | number>();
  values.forEach((value, index) => {
    if (seen.has(value)) throw new FakeSeedError(`${path}[${index}]`, `duplicate ${what} ${JSON.stringify(value)}`);
    seen.add(value);
  });
}

function jsonKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

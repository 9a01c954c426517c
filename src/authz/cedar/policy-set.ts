// Turns policy files into one validated policy set: each policy with its ID
// (its @id annotation, else "<file>#<n>"), checked against the schema in
// strict mode. Every problem is reported at once, each naming the file,
// line and column, and the policy, so one start-up shows all that is wrong.
import { policySetTextToParts, policyToJson, validate, type DetailedError } from "@cedar-policy/cedar-wasm/nodejs";
import { AuthzPolicyError } from "../authorizer.js";
import type { PolicyFile } from "./policy-files.js";

export interface CompiledPolicySet {
  /** Policy ID -> policy text, as Cedar preparses it. */
  readonly policies: Readonly<Record<string, string>>;
  /** In file order. */
  readonly ids: readonly string[];
  /** What the validator warns about (e.g. a policy that can never apply), for the log. */
  readonly warnings: readonly string[];
}

interface PlacedPolicy {
  readonly id: string;
  readonly text: string;
  readonly file: PolicyFile;
  /** Where the policy starts in its file, in UTF-8 bytes (Cedar's unit); -1 when unknown. */
  readonly byteOffset: number;
}

/** Throws AuthzPolicyError listing every problem of every file. */
export function compilePolicySet(source: string, files: readonly PolicyFile[], schema: string): CompiledPolicySet {
  const problems: string[] = [];
  const byId = new Map<string, PlacedPolicy>();
  for (const policy of files.flatMap((file) => splitPolicies(file, problems))) {
    const earlier = byId.get(policy.id);
    if (earlier === undefined) byId.set(policy.id, policy);
    else problems.push(`${placeOf(policy)}: policy "${policy.id}": this ID is already used at ${placeOf(earlier)}`);
  }
  if (problems.length === 0 && byId.size === 0) problems.push("no policy at all: every call would be denied");
  if (problems.length > 0) throw new AuthzPolicyError(source, problems);

  const policies = Object.fromEntries([...byId].map(([id, policy]) => [id, policy.text]));
  const answer = validate({ schema, policies: { staticPolicies: policies }, validationSettings: { mode: "strict" } });
  if (answer.type === "failure") throw new AuthzPolicyError(source, answer.errors.map(describeError));
  for (const { policyId, error } of answer.validationErrors)
    problems.push(located(byId.get(policyId), policyId, error));
  if (problems.length > 0) throw new AuthzPolicyError(source, problems);
  return {
    policies,
    ids: [...byId.keys()],
    warnings: [
      ...answer.validationWarnings.map(({ policyId, error }) => located(byId.get(policyId), policyId, error)),
      ...answer.otherWarnings.map(describeError),
    ],
  };
}

function splitPolicies(file: PolicyFile, problems: string[]): PlacedPolicy[] {
  const parts = policySetTextToParts(file.text);
  if (parts.type === "failure") {
    for (const error of parts.errors) {
      problems.push(`${file.path}${position(file.text, error.sourceLocations?.[0]?.start)}: ${describeError(error)}`);
    }
    return [];
  }
  if (parts.policy_templates.length > 0) {
    problems.push(
      `${file.path}: templates (policies with ?principal or ?resource slots) are not supported; write static policies`,
    );
  }
  let cursor = 0;
  return parts.policies.flatMap((text, index) => {
    const at = file.text.indexOf(text, cursor);
    if (at >= 0) cursor = at + text.length;
    const placed = {
      id: annotatedId(text) ?? `${file.name}#${index + 1}`,
      text,
      file,
      byteOffset: at < 0 ? -1 : Buffer.byteLength(file.text.slice(0, at)),
    };
    if (placed.id !== "") return [placed];
    problems.push(`${placeOf(placed)}: @id("") is empty; give the policy a name, or drop the annotation`);
    return [];
  });
}

function annotatedId(policyText: string): string | undefined {
  const parsed = policyToJson(policyText);
  return parsed.type === "success" ? parsed.json.annotations?.["id"] : undefined;
}

function located(policy: PlacedPolicy | undefined, policyId: string, error: DetailedError): string {
  if (policy === undefined) return `policy "${policyId}": ${describeError(error)}`;
  const within = error.sourceLocations?.[0]?.start;
  const at = policy.byteOffset < 0 || within === undefined ? undefined : policy.byteOffset + within;
  return `${policy.file.path}${position(policy.file.text, at ?? Math.max(policy.byteOffset, 0))}: policy "${policyId}": ${describeError(error)}`;
}

function placeOf(policy: PlacedPolicy): string {
  return `${policy.file.path}${position(policy.file.text, policy.byteOffset < 0 ? undefined : policy.byteOffset)}`;
}

/** ":<line>:<column>" of a UTF-8 byte offset, or "" when there is none. */
function position(text: string, byteOffset: number | undefined): string {
  if (byteOffset === undefined) return "";
  const before = Buffer.from(text).subarray(0, byteOffset).toString("utf8");
  const lineStart = before.lastIndexOf("\n") + 1;
  return `:${before.split("\n").length}:${before.length - lineStart + 1}`;
}

function describeError(error: DetailedError): string {
  return error.help === null || error.help === undefined ? error.message : `${error.message} (${error.help})`;
}

// The Authorizer on Cedar (cedar-wasm). The schema and the policy set are
// preparsed once into cedar-wasm's cache under this authorizer's own slot;
// each call then only hands Cedar the request and its two entities (the
// caller with its groups, the resource), with no policy or schema text.
//
// Reload: the new set is read, validated and only then preparsed into the
// same slot, which replaces the old set in one synchronous step (a failed
// preparse leaves the slot as it was). authorize() is synchronous too, so a
// call evaluates against the old set or the new one, never a mixture.
//
// Reloads come from SIGHUP and from a poll of the files' contents: a
// Kubernetes ConfigMap update swaps the volume's ..data link, which no
// signal announces. A poll that finds what was last read does nothing, so
// an unchanged or still-broken set is neither recompiled nor logged again.
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  preparsePolicySet,
  preparseSchema,
  statefulIsAuthorized,
  type CedarValueJson,
  type StatefulAuthorizationCall,
} from "@cedar-policy/cedar-wasm/nodejs";
import type { Logger } from "../../logger.js";
import {
  AuthorizationEvaluationError,
  AuthzPolicyError,
  type AuthorizationDecision,
  type Authorizer,
  type ReloadResult,
} from "../authorizer.js";
import type { AuthorizationRequest } from "../request.js";
import { AUTHZ_SETTINGS } from "../config.js";
import { createDecisionCache } from "../decision-cache.js";
import { compilePolicySet, type CompiledPolicySet } from "./policy-set.js";
import { readPolicyFiles, type PolicyFile } from "./policy-files.js";
import { shippedSchemaFile } from "./schema-file.js";
import { errorMessage } from "../../util/error-message.js";

export interface CedarAuthorizerOptions {
  /** A .cedar file, or a directory whose .cedar files (at any depth) make the set (AUTHZ_POLICIES). */
  readonly policies: string;
  readonly logger: Logger;
  /** Default: authz/schema.cedarschema of this package. */
  readonly schemaFile?: string | undefined;
  /** Decisions remembered for repeated requests (AUTHZ_DECISION_CACHE_ENTRIES); 0: none. Default 10 000. */
  readonly decisionCacheEntries?: number | undefined;
  /** How often the policy files are read to look for a change (AUTH_RELOAD_INTERVAL_MS); 0 or unset: only reload(). */
  readonly pollIntervalMs?: number | undefined;
}

const NAMESPACE = "PermissionGateway";
const CALLER_TYPE = `${NAMESPACE}::Caller`;
const GROUP_TYPE = `${NAMESPACE}::Group`;
const ACTION_TYPE = `${NAMESPACE}::Action`;

/** Throws AuthzPolicyError when the schema or the policies cannot be used (start-up must stop). */
export async function createCedarAuthorizer(options: CedarAuthorizerOptions): Promise<Authorizer> {
  const { logger } = options;
  const schemaFile = options.schemaFile ?? shippedSchemaFile();
  const schema = await readSchema(schemaFile);
  // cedar-wasm's cache is per process: a slot of our own keeps two
  // authorizers (tests, a future multi-tenant set-up) from replacing each other's set.
  const slot = `permission-gateway-${randomUUID()}`;
  const parsedSchema = preparseSchema(slot, schema);
  if (parsedSchema.type === "failure") {
    throw new AuthzPolicyError(
      schemaFile,
      parsedSchema.errors.map((error) => error.message),
    );
  }

  /** The policy files as last read (or why they could not be read): what a poll compares with. */
  let lastSeen = "";
  const load = async (): Promise<CompiledPolicySet> => {
    const files = await readPolicyFiles(options.policies);
    lastSeen = filesKey(files);
    return compilePolicySet(options.policies, files, schema);
  };

  const decisions = createDecisionCache(options.decisionCacheEntries ?? AUTHZ_SETTINGS.decisionCacheEntries.default);
  let inForce: CompiledPolicySet | undefined;
  /** The swap: synchronous, so no authorize() runs between the preparse and the bookkeeping. */
  const install = (compiled: CompiledPolicySet): void => {
    const answer = preparsePolicySet(slot, { staticPolicies: compiled.policies });
    if (answer.type === "failure")
      throw new AuthzPolicyError(
        options.policies,
        answer.errors.map((error) => error.message),
      );
    inForce = compiled;
    decisions.clear();
    for (const warning of compiled.warnings) logger.warn("authorization policy warning", { warning });
    logger.info("authorization policies in force", { source: options.policies, policies: compiled.ids.length });
  };
  install(await load());

  // One reload at a time, in the order asked: a slow earlier reload must
  // not install its (older) files over a later one's.
  let reloads: Promise<ReloadResult> = Promise.resolve({ ok: true });
  const reloadOnce = async (): Promise<ReloadResult> => {
    try {
      install(await load());
      return { ok: true };
    } catch (error) {
      const message = errorMessage(error);
      logger.error("authorization policies not reloaded; the previous ones stay in force", { error: message });
      return { ok: false, error: message };
    }
  };

  const reload = (): Promise<ReloadResult> => {
    reloads = reloads.then(reloadOnce, reloadOnce);
    return reloads;
  };

  let polling = false;
  const poll = async (): Promise<void> => {
    const seen = await readPolicyFiles(options.policies).then(
      filesKey,
      (error: unknown) => `unreadable: ${errorMessage(error)}`,
    );
    if (seen === lastSeen) return;
    lastSeen = seen;
    await reload();
  };
  const timer =
    (options.pollIntervalMs ?? 0) > 0
      ? setInterval(() => {
          if (polling) return;
          polling = true;
          void poll().finally(() => (polling = false));
        }, options.pollIntervalMs)
      : undefined;
  timer?.unref();

  return {
    authorize: (request) =>
      decisions.decision(request, () => decide(request, statefulIsAuthorized(cedarCall(request, slot)))),
    reload,
    policyIds: () => inForce?.ids ?? [],
    close: () => clearInterval(timer),
  };
}

/** Names and texts of the policy files, as one string: equal exactly when nothing changed. */
function filesKey(files: readonly PolicyFile[]): string {
  return JSON.stringify(files.map(({ name, text }) => [name, text]));
}

async function readSchema(schemaFile: string): Promise<string> {
  try {
    return await readFile(schemaFile, "utf8");
  } catch (error) {
    throw new AuthzPolicyError(schemaFile, [
      `the Cedar schema cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    ]);
  }
}

function cedarCall(request: AuthorizationRequest, slot: string): StatefulAuthorizationCall {
  const principal = { type: CALLER_TYPE, id: request.caller.id };
  const resource = { type: `${NAMESPACE}::${request.resource.kind}`, id: request.resource.id };
  return {
    principal,
    action: { type: ACTION_TYPE, id: request.action },
    resource,
    // Readonly arrays and records are what Cedar reads; it never writes them.
    context: request.context as Record<string, CedarValueJson>,
    entities: [
      { uid: principal, attrs: {}, parents: request.caller.groups.map((id) => ({ type: GROUP_TYPE, id })) },
      { uid: resource, attrs: request.resource.attributes, parents: [] },
    ],
    preparsedSchemaName: slot,
    preparsedPolicySetId: slot,
    // Checked against the schema on every call: a context missing an
    // attribute would make a forbid policy error out and be skipped, which
    // could turn a denial into an allow. This validation is what rules it out.
    validateRequest: true,
  };
}

function decide(request: AuthorizationRequest, answer: ReturnType<typeof statefulIsAuthorized>): AuthorizationDecision {
  if (answer.type === "failure") {
    throw new AuthorizationEvaluationError(
      request.action,
      answer.errors.map((error) => error.message),
    );
  }
  const { decision, diagnostics } = answer.response;
  return {
    allowed: decision === "allow",
    determiningPolicies: diagnostics.reason,
    errors: diagnostics.errors.map(({ policyId, error }) => `${policyId}: ${error.message}`),
  };
}

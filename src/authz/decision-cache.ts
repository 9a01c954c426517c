// Decisions of the policy set in force, remembered for requests seen before.
// A Cedar decision depends only on what it is given (the caller and its
// groups, the action, the resource and its attributes, the context) and on
// the policies, so the same request under the same set gets the same answer;
// the cache is emptied in the same synchronous step that installs a new set.
// Bounded: the least recently used request goes first.
import type { AuthorizationDecision } from "./authorizer.js";
import type { AuthorizationRequest } from "./request.js";

export interface DecisionCache {
  /** The cached decision, or the one `decide` makes now (then cached). */
  decision(request: AuthorizationRequest, decide: () => AuthorizationDecision): AuthorizationDecision;
  /** Forgets every decision: the policies changed. */
  clear(): void;
  size(): number;
}

/** Everything Cedar is given about the request, as one string (JSON, so values cannot run into each other). */
function requestKey(request: AuthorizationRequest): string {
  const { caller, action, resource, context } = request;
  return JSON.stringify([caller.id, caller.groups, action, resource.kind, resource.id, resource.attributes, context]);
}

export function createDecisionCache(maxEntries: number): DecisionCache {
  const decisions = new Map<string, AuthorizationDecision>();
  if (maxEntries <= 0) return { decision: (_request, decide) => decide(), clear() {}, size: () => 0 };
  return {
    decision(request, decide) {
      const key = requestKey(request);
      const cached = decisions.get(key);
      if (cached !== undefined) {
        // Re-inserted: the map stays in order of last use.
        decisions.delete(key);
        decisions.set(key, cached);
        return cached;
      }
      const made = decide();
      const kept: AuthorizationDecision = Object.freeze({
        allowed: made.allowed,
        determiningPolicies: Object.freeze([...made.determiningPolicies]),
        errors: Object.freeze([...made.errors]),
      });
      if (decisions.size >= maxEntries) decisions.delete(decisions.keys().next().value as string);
      decisions.set(key, kept);
      return kept;
    },
    clear: () => decisions.clear(),
    size: () => decisions.size,
  };
}

// What a chaos drill found, judged only from what the fake AWS recorded
// (every change it made, with the statement it added or removed) against
// what the clients were told. One lane owns one function's statement Sid
// and runs operations one after another: an Add whose statement carries a
// tag of its own (its SourceArn), or a Remove of the statement with the tag
// that was there when it started. Each operation is one idempotency token,
// retried until a definitive answer or until the drill gives up on it.
//
// - double execution: an operation's change made twice, or made while its
//   operation was not running (a stale send from a replica that lost its
//   lease; the case: an old RemovePermission removing the statement
//   of a later Add);
// - wrong answer: success with no change made, or a definitive failure
//   (ALREADY_EXISTS, NOT_FOUND, ...) for a change that was made, or a final
//   policy that is not what the answers say;
// - lost success: a change made while its client never got an answer that
//   says so (it gave up on unknown outcomes and unavailability).

/** A change the fake AWS made. */
export interface Effect {
  readonly kind: "add" | "remove";
  readonly lane: number;
  /** The tag of the statement added or removed. */
  readonly tag: string;
  /** performance.now() of the drill process. */
  readonly at: number;
}

export type Answer =
  | { readonly kind: "ok" }
  /** A definitive failure: the gRPC code name. */
  | { readonly kind: "failed"; readonly code: string; readonly message?: string | undefined }
  /** Only retryable answers until the drill gave up. */
  | { readonly kind: "gave-up"; readonly last: string };

export interface Operation {
  readonly lane: number;
  readonly kind: "add" | "remove";
  /** Add: its own statement's tag. Remove: the tag of the statement there at its start. */
  readonly tag: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly attempts: number;
  readonly answer: Answer;
}

export interface Finding {
  readonly kind: "double execution" | "wrong answer" | "lost success";
  readonly detail: string;
}

export interface Verdict {
  readonly operations: number;
  readonly doubleExecutions: number;
  readonly wrongAnswers: number;
  readonly lostSuccesses: number;
  readonly findings: readonly Finding[];
}

/**
 * Judges a drill. `finalTags` is the tag of the statement each lane's Sid
 * holds at the end (undefined: none), read from the fake AWS after the
 * last operation.
 */
export function judgeDrill(
  operations: readonly Operation[],
  effects: readonly Effect[],
  finalTags: ReadonlyMap<number, string | undefined>,
): Verdict {
  const findings: Finding[] = [];
  const effectsOf = (kind: Effect["kind"], lane: number, tag: string): Effect[] =>
    effects.filter((e) => e.kind === kind && e.lane === lane && e.tag === tag);
  const ownerOf = (effect: Effect): Operation | undefined =>
    operations.find((op) => op.kind === effect.kind && op.lane === effect.lane && op.tag === effect.tag);
  const name = (op: Operation): string =>
    `lane ${op.lane} ${op.kind} ${op.tag} (${Math.round(op.startedAt)}..${Math.round(op.endedAt)} ms, ${op.attempts} attempts)`;

  for (const effect of effects) {
    const owner = ownerOf(effect);
    if (owner === undefined) {
      findings.push({
        kind: "double execution",
        detail: `${effect.kind} of ${effect.tag} by no operation of its kind`,
      });
    } else if (effect.at < owner.startedAt || effect.at > owner.endedAt) {
      findings.push({
        kind: "double execution",
        detail: `${name(owner)}: a stale send took effect ${Math.round(effect.at - owner.endedAt)} ms after its answer`,
      });
    }
  }

  for (const op of operations) {
    const made = effectsOf(op.kind, op.lane, op.tag).length;
    if (made > 1) findings.push({ kind: "double execution", detail: `${name(op)}: made ${made} times` });
    const answer = op.answer;
    if (answer.kind === "ok" && made === 0)
      findings.push({ kind: "wrong answer", detail: `${name(op)}: told success, and nothing was changed` });
    if (answer.kind === "failed" && made > 0)
      findings.push({
        kind: "wrong answer",
        detail: `${name(op)}: told ${answer.code} (${answer.message ?? ""}) for a change that was made`,
      });
    if (answer.kind === "gave-up" && made > 0)
      findings.push({ kind: "lost success", detail: `${name(op)}: made, and the client only heard ${answer.last}` });
  }

  // The answers, in order, say what each lane's Sid should hold at the end.
  for (const [lane, finalTag] of finalTags) {
    const laneOps = operations.filter((op) => op.lane === lane);
    const last = laneOps.filter((op) => op.answer.kind !== "failed").at(-1);
    if (last === undefined || last.answer.kind === "gave-up") continue; // nothing certain to compare with
    const expected = last.kind === "add" ? last.tag : undefined;
    if (expected !== finalTag) {
      findings.push({
        kind: "wrong answer",
        detail: `lane ${lane}: the answers say the Sid holds ${expected ?? "nothing"}, the policy has ${finalTag ?? "nothing"}`,
      });
    }
  }

  const count = (kind: Finding["kind"]): number => findings.filter((f) => f.kind === kind).length;
  return {
    operations: operations.length,
    doubleExecutions: count("double execution"),
    wrongAnswers: count("wrong answer"),
    lostSuccesses: count("lost success"),
    findings,
  };
}

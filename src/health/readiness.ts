// What a readiness probe answers. The backend and the idempotency store
// answer it, and health-state.ts polls them for gRPC Health and /readyz.

export interface Readiness {
  readonly ready: boolean;
  /** Why not, in a few words: /readyz serves it and the logs show it, so never a secret. */
  readonly detail?: string | undefined;
}

// GET /healthz (live: 200 while the process serves, shutdown included, so an
// orchestrator does not kill a draining gateway) and GET /readyz (200 when
// ready, naming checks that pass with a warning; 503 with a short JSON body
// naming the failing checks otherwise).
import type { HttpEndpoint } from "../observability/http-endpoint.js";
import { answerReadOnly, pathOf, send } from "../observability/http-endpoint.js";
import type { Logger } from "../logger.js";
import type { HealthState } from "./health-state.js";

export const LIVENESS_PATH = "/healthz";
export const READINESS_PATH = "/readyz";

export function createHealthEndpoint(state: HealthState, logger: Logger): HttpEndpoint {
  return (req, res) => {
    const path = pathOf(req);
    if (path === LIVENESS_PATH) {
      return answerReadOnly(req, res, logger, () => send(req, res, 200, "text/plain; charset=utf-8", "ok\n"));
    }
    if (path !== READINESS_PATH) return false;
    return answerReadOnly(req, res, logger, () => {
      const snapshot = state.snapshot();
      // A check that passes with a detail (a credential file with lines left out) is a warning.
      const warnings = snapshot.checks
        .filter((check) => check.ready && check.detail !== undefined)
        .map(({ name, detail }) => ({ check: name, detail }));
      const body = snapshot.ready
        ? { status: "SERVING", ...(warnings.length > 0 ? { warnings } : {}) }
        : {
            status: "NOT_SERVING",
            failing: snapshot.shuttingDown
              ? [{ check: "shutdown", detail: "the gateway is shutting down" }]
              : snapshot.checks.filter((check) => !check.ready).map(({ name, detail }) => ({ check: name, detail })),
          };
      send(req, res, snapshot.ready ? 200 : 503, "application/json", JSON.stringify(body) + "\n");
    });
  };
}

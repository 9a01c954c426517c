// GET /metrics: the registry in Prometheus's text format.
import type { HttpEndpoint } from "./http-endpoint.js";
import { answerReadOnly, pathOf, send } from "./http-endpoint.js";
import type { GatewayMetrics } from "./metrics.js";
import type { Logger } from "../logger.js";

export const METRICS_PATH = "/metrics";

export function createMetricsEndpoint(metrics: GatewayMetrics, logger: Logger): HttpEndpoint {
  return (req, res) => {
    if (pathOf(req) !== METRICS_PATH) return false;
    return answerReadOnly(req, res, logger, () => {
      metrics.render().then(
        (text) => send(req, res, 200, metrics.contentType, text),
        (error: unknown) => {
          logger.error("metrics collection failed", { error });
          send(req, res, 500, "text/plain; charset=utf-8", "metrics collection failed\n");
        },
      );
    });
  };
}

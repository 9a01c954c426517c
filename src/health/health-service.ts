// grpc.health.v1.Health over the health state: Check and List answer the
// current status; Watch sends it, then every change, until the client leaves
// or the gateway shuts down (then it sends NOT_SERVING and ends, so a watcher
// never holds up the drain). Health skips call admission (probes must answer
// under load) and authentication, so open Watch streams have a bound of their
// own: past it a new one is refused, RESOURCE_EXHAUSTED, and those open go on.
import { create } from "@bufbuild/protobuf";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import {
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as WireStatus,
  HealthListResponseSchema,
  type Health,
  type HealthCheckResponse,
} from "../../gen/health/v1/health_pb.js";
import { gatewayError, retryInfo } from "../errors.js";
import type { HealthState, ServingStatus } from "./health-state.js";

const wireStatus: Readonly<Record<ServingStatus, WireStatus>> = {
  SERVING: WireStatus.SERVING,
  NOT_SERVING: WireStatus.NOT_SERVING,
};

export interface HealthServiceOptions {
  /** Open Watch streams at most; default 100. */
  readonly maxWatchStreams?: number | undefined;
}

/** How soon a refused watcher may try again. */
const watchRetryMs = 1_000;

export function createHealthService(
  state: HealthState,
  options: HealthServiceOptions = {},
): ServiceImpl<typeof Health> {
  const maxWatchStreams = options.maxWatchStreams ?? 100;
  let watchStreams = 0;

  async function* watchStatus(service: string, signal: AbortSignal): AsyncGenerator<HealthCheckResponse> {
    let sent: WireStatus | undefined;
    for (;;) {
      const seen = state.version();
      const status = state.status(service);
      // A service unknown now may be known later: the spec keeps the stream open.
      const current = status === undefined ? WireStatus.SERVICE_UNKNOWN : wireStatus[status];
      if (current !== sent) {
        yield response(current);
        sent = current;
      }
      if (state.snapshot().shuttingDown || signal.aborted) return;
      await state.changed(seen, signal);
    }
  }

  return {
    check(request) {
      const status = state.status(request.service);
      if (status === undefined) {
        throw gatewayError(
          Code.NotFound,
          `unknown service: ${JSON.stringify(request.service.slice(0, 200))}`,
          "SERVICE_NOT_FOUND",
          [],
        );
      }
      return response(wireStatus[status]);
    },

    async *watch(request, context) {
      if (watchStreams >= maxWatchStreams) {
        throw gatewayError(
          Code.ResourceExhausted,
          `the gateway is at its limit of ${maxWatchStreams} open health Watch streams (HEALTH_MAX_WATCH_STREAMS); use Check, or retry later`,
          "HEALTH_WATCH_LIMIT",
          [retryInfo(watchRetryMs)],
        );
      }
      watchStreams++;
      try {
        yield* watchStatus(request.service, context.signal);
      } finally {
        watchStreams--;
      }
    },

    list() {
      const statuses: Record<string, HealthCheckResponse> = {};
      for (const service of state.services()) {
        const status = state.status(service);
        if (status !== undefined) statuses[service] = response(wireStatus[status]);
      }
      return create(HealthListResponseSchema, { statuses });
    },
  };
}

function response(status: WireStatus): HealthCheckResponse {
  return create(HealthCheckResponseSchema, { status });
}

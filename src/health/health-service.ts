// grpc.health.v1.Health over the health state: Check and List answer the
// current status; Watch sends it, then every change, until the client leaves
// or the gateway shuts down (then it sends NOT_SERVING and ends, so a watcher
// never holds up the drain).
import { create } from "@bufbuild/protobuf";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import {
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as WireStatus,
  HealthListResponseSchema,
  type Health,
  type HealthCheckResponse,
} from "../../gen/health/v1/health_pb.js";
import { gatewayError } from "../errors.js";
import type { HealthState, ServingStatus } from "./health-state.js";

const wireStatus: Readonly<Record<ServingStatus, WireStatus>> = {
  SERVING: WireStatus.SERVING,
  NOT_SERVING: WireStatus.NOT_SERVING,
};

export function createHealthService(state: HealthState): ServiceImpl<typeof Health> {
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
      let sent: WireStatus | undefined;
      for (;;) {
        const seen = state.version();
        const status = state.status(request.service);
        // A service unknown now may be known later: the spec keeps the stream open.
        const current = status === undefined ? WireStatus.SERVICE_UNKNOWN : wireStatus[status];
        if (current !== sent) {
          yield response(current);
          sent = current;
        }
        if (state.snapshot().shuttingDown || context.signal.aborted) return;
        await state.changed(seen, context.signal);
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

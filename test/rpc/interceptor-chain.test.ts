// The gateway's interceptors composed once: the same order as Connect would
// apply them, probes on their own chain, and no interceptor rebuilt per call.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createClient,
  createContextKey,
  createRouterTransport,
  type Interceptor,
} from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { GetLambdaPolicyResponseSchema, PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { composeInterceptors } from "../../src/rpc/interceptor-chain.js";

const seenKey = createContextKey<string[]>([], { description: "interceptors seen" });

function recorder(name: string, built: Map<string, number>): Interceptor {
  return (next) => {
    built.set(name, (built.get(name) ?? 0) + 1);
    return (req) => {
      req.contextValues.set(seenKey, [...req.contextValues.get(seenKey), name]);
      return next(req);
    };
  };
}

function transportWith(built: Map<string, number>, handled: string[][]) {
  const chain = composeInterceptors({
    calls: [recorder("observe", built), recorder("admit", built), recorder("authorize", built)],
    probes: [recorder("observe", built)],
    probeServices: new Set([Health.typeName]),
  });
  return createRouterTransport(
    (router) => {
      router.service(PermissionService, {
        getLambdaPolicy: (_req, context) => {
          handled.push(context.values.get(seenKey));
          return create(GetLambdaPolicyResponseSchema, { policy: "{}" });
        },
      });
      router.service(Health, {
        check: (_req, context) => {
          handled.push(context.values.get(seenKey));
          return { status: HealthCheckResponse_ServingStatus.SERVING };
        },
        async *watch() {},
        list: () => ({}),
      });
    },
    { router: { interceptors: [chain] } },
  );
}

describe("composeInterceptors", () => {
  test("calls pass every interceptor outermost first, probes only theirs, and nothing is rebuilt per call", async () => {
    const built = new Map<string, number>();
    const handled: string[][] = [];
    const transport = transportWith(built, handled);
    const permissions = createClient(PermissionService, transport);
    const health = createClient(Health, transport);

    for (let i = 0; i < 3; i++)
      assert.equal((await permissions.getLambdaPolicy({ functionName: "demo" })).policy, "{}");
    assert.equal((await health.check({})).status, HealthCheckResponse_ServingStatus.SERVING);

    assert.deepEqual(handled, [
      ["observe", "admit", "authorize"],
      ["observe", "admit", "authorize"],
      ["observe", "admit", "authorize"],
      ["observe"],
    ]);
    // Built once per chain at composition ("observe" is in both), never per call.
    assert.deepEqual(Object.fromEntries(built), { observe: 2, admit: 1, authorize: 1 });
  });

  test("an interceptor's refusal ends the call before the ones after it", async () => {
    const handled: string[][] = [];
    const refusing: Interceptor = () => () => Promise.reject(new ConnectError("refused here", Code.PermissionDenied));
    const chain = composeInterceptors({ calls: [refusing], probes: [], probeServices: new Set() });
    const transport = createRouterTransport(
      (router) =>
        router.service(PermissionService, {
          getLambdaPolicy: () => {
            handled.push([]);
            return create(GetLambdaPolicyResponseSchema, {});
          },
        }),
      { router: { interceptors: [chain] } },
    );
    await assert.rejects(
      createClient(PermissionService, transport).getLambdaPolicy({ functionName: "demo" }),
      (error: unknown) =>
        error instanceof ConnectError && error.code === Code.PermissionDenied && error.rawMessage === "refused here",
    );
    assert.deepEqual(handled, []);
  });
});

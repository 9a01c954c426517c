// How the endpoint turns what a backend throws into AWS's error format: an
// AwsApiError keeps its code, status, request ID and Retry-After; anything
// else is the service's internal error, logged. A tiny PermissionBackend
// that throws on cue stands in for the model here, since the point is the
// translation, not the model's decisions.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GetPolicyCommand, RemovePermissionCommand } from "@aws-sdk/client-lambda";
import { DeletePermissionCommand, ListPermissionsCommand } from "@aws-sdk/client-ram";
import type { PermissionBackend } from "../../src/backend/backend.js";
import { AwsApiError } from "../../src/backend/errors.js";
import { PERMISSION_ARN, UUID_RE, rejectionOf, startHarness } from "./harness.js";
import { createRecordingLogger } from "../support/recording-logger.js";

function throwingBackend(failure: () => unknown): PermissionBackend {
  const fail = () => Promise.reject(failure());
  return {
    removeLambdaPermission: fail,
    addLambdaPermission: fail,
    getLambdaPolicy: fail,
    deleteRamPermission: fail,
    createRamPermission: fail,
    getRamPermission: fail,
    listRamPermissions: fail,
    close: () => Promise.resolve(),
  };
}

describe("fake AWS endpoint: backend failures on the wire", () => {
  it("keeps an AwsApiError's code, status, request ID and Retry-After", async (t) => {
    const backend = throwingBackend(
      () =>
        new AwsApiError({
          service: "lambda",
          code: "TooManyRequestsException",
          message: "Rate exceeded",
          httpStatus: 429,
          requestId: "req-from-backend",
          retryAfterSeconds: 4,
        }),
    );
    const { lambda } = await startHarness(t, { backend });
    const error = await rejectionOf(lambda.send(new GetPolicyCommand({ FunctionName: "demo" })));
    assert.equal(error.name, "TooManyRequestsException");
    assert.equal(error.message, "Rate exceeded");
    assert.equal(error.$metadata.httpStatusCode, 429);
    assert.equal(error.$metadata.requestId, "req-from-backend");
    assert.equal(error["retryAfterSeconds"], "4");
  });

  it("answers AWS's status for a code when the backend gives none, and a fresh request ID", async (t) => {
    const backend = throwingBackend(
      () => new AwsApiError({ service: "ram", code: "UnknownResourceException", message: "gone" }),
    );
    const { ram } = await startHarness(t, { backend });
    const error = await rejectionOf(ram.send(new DeletePermissionCommand({ permissionArn: PERMISSION_ARN })));
    assert.equal(error.name, "UnknownResourceException");
    assert.equal(error.$metadata.httpStatusCode, 400);
    assert.match(error.$metadata.requestId ?? "", UUID_RE);
  });

  const unexpected: {
    service: string;
    send: (h: Awaited<ReturnType<typeof startHarness>>) => Promise<unknown>;
    code: string;
  }[] = [
    {
      service: "Lambda",
      send: (h) => h.lambda.send(new RemovePermissionCommand({ FunctionName: "demo", StatementId: "s" })),
      code: "ServiceException",
    },
    { service: "RAM", send: (h) => h.ram.send(new ListPermissionsCommand({})), code: "ServerInternalException" },
  ];
  for (const { service, send, code } of unexpected) {
    it(`answers any other failure as ${service}'s ${code} (500) without leaking it, and logs it`, async (t) => {
      const logger = createRecordingLogger();
      const backend = throwingBackend(() => new TypeError("secret detail"));
      const harness = await startHarness(t, { backend, logger });
      const error = await rejectionOf(send(harness));
      assert.equal(error.name, code);
      assert.equal(error.$metadata.httpStatusCode, 500);
      assert.equal(error.$fault, "server");
      assert.doesNotMatch(error.message, /secret/);
      const errors = logger.lines.filter((line) => line.level === "error");
      assert.equal(errors.length, 1);
      assert.equal((errors[0]?.fields?.["error"] as Error).message, "secret detail");
    });
  }

  it("hands the backend a signal that aborts when the client goes away", async (t) => {
    let entered: (signal: AbortSignal) => void = () => {};
    const backendEntered = new Promise<AbortSignal>((resolve) => (entered = resolve));
    const backend: PermissionBackend = {
      ...throwingBackend(() => new Error("unused")),
      listRamPermissions: (_input, options) =>
        new Promise((resolve) => {
          entered(options.signal);
          options.signal.addEventListener("abort", () => resolve({ permissions: [] }));
        }),
    };
    const { ram } = await startHarness(t, { backend });
    const controller = new AbortController();
    const call = ram.send(new ListPermissionsCommand({}), { abortSignal: controller.signal });
    const signal = await backendEntered;
    assert.equal(signal.aborted, false);
    controller.abort();
    assert.equal((await rejectionOf(call)).name, "AbortError");
    await new Promise<void>((resolve) =>
      signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve()),
    );
    assert.equal(signal.aborted, true);
  });
});

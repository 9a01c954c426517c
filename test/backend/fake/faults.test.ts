// Fault injection and call counting of the fake backend.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createFakeBackend } from "../../../src/backend/fake/fake-backend.js";
import type { FakeBackend, FakeOperation } from "../../../src/backend/fake/fake-backend.js";
import type { CallOptions } from "../../../src/backend/backend.js";
import { UpstreamOutcomeUnknownError, UpstreamTimeoutError } from "../../../src/backend/errors.js";
import { manualClock } from "../../support/manual-clock.js";
import { permissionRef } from "../../support/permission-ref.js";
import { callOptions, fn, rejectsWithAws } from "./fake-test-helpers.js";

const demoPermission = "arn:aws:ram:us-east-1:123456789012:permission/demo-permission";
const template = JSON.stringify({ Effect: "Allow", Action: "ec2:DescribeSubnets" });

/** One call of each operation, each of which succeeds on the demo seed without faults. */
const calls: Record<FakeOperation, (backend: FakeBackend, options?: CallOptions) => Promise<unknown>> = {
  AddPermission: (b, o = callOptions()) =>
    b.addLambdaPermission(
      {
        function: fn("demo"),
        statementId: `s${Math.random()}`.replace(".", ""),
        action: "lambda:InvokeFunction",
        principal: "*",
      },
      o,
    ),
  GetPolicy: async (b, o = callOptions()) => {
    await b
      .addLambdaPermission(
        { function: fn("demo"), statementId: "for-get", action: "lambda:InvokeFunction", principal: "*" },
        callOptions(),
      )
      .catch(() => undefined);
    return b.getLambdaPolicy({ function: fn("demo") }, o);
  },
  RemovePermission: async (b, o = callOptions()) => {
    await b
      .addLambdaPermission(
        { function: fn("demo"), statementId: "for-remove", action: "lambda:InvokeFunction", principal: "*" },
        callOptions(),
      )
      .catch(() => undefined);
    return b.removeLambdaPermission({ function: fn("demo"), statementId: "for-remove" }, o);
  },
  CreatePermission: (b, o = callOptions()) =>
    b.createRamPermission(
      {
        name: `p${Math.floor(Math.random() * 1e9)}`,
        resourceType: "ec2:Subnet",
        policyTemplate: template,
        clientToken: `${Math.random()}`,
        tags: {},
      },
      o,
    ),
  GetPermission: (b, o = callOptions()) => b.getRamPermission({ permission: permissionRef(demoPermission) }, o),
  ListPermissions: (b, o = callOptions()) => b.listRamPermissions({ maxResults: 10 }, o),
  DeletePermission: async (b, o = callOptions()) => {
    const arn = "arn:aws:ram:us-east-1:123456789012:permission/for-delete";
    await b
      .createRamPermission(
        { name: "for-delete", resourceType: "ec2:Subnet", policyTemplate: template, clientToken: "c", tags: {} },
        callOptions(),
      )
      .catch(() => undefined);
    return b.deleteRamPermission({ permission: permissionRef(arn), clientToken: `${Math.random()}` }, o);
  },
};
const lambdaOperations: FakeOperation[] = ["AddPermission", "GetPolicy", "RemovePermission"];
const ramOperations: FakeOperation[] = ["CreatePermission", "GetPermission", "ListPermissions", "DeletePermission"];

describe("fake faults: error rate", () => {
  it("with rate 1 and no code, fails every Lambda call with TooManyRequestsException (429, Retry-After)", async () => {
    const backend = createFakeBackend({ faults: { errorRate: 1 } });
    for (const operation of lambdaOperations) {
      const error = await rejectsWithAws(calls[operation](backend), {
        service: "lambda",
        code: "TooManyRequestsException",
        httpStatus: 429,
      });
      assert.equal(error.retryAfterSeconds, 1, operation);
    }
  });

  it("with rate 1 and no code, fails every RAM call with ThrottlingException (429, Retry-After)", async () => {
    const backend = createFakeBackend({ faults: { errorRate: 1 }, limits: { retryAfterSeconds: 7 } });
    for (const operation of ramOperations) {
      const error = await rejectsWithAws(calls[operation](backend), {
        service: "ram",
        code: "ThrottlingException",
        httpStatus: 429,
      });
      assert.equal(error.retryAfterSeconds, 7, operation);
    }
  });

  const chosen: [string, "lambda" | "ram", number, FakeOperation][] = [
    ["ServiceException", "lambda", 500, "GetPolicy"],
    ["ResourceNotFoundException", "lambda", 404, "RemovePermission"],
    ["ResourceConflictException", "lambda", 409, "AddPermission"],
    ["PreconditionFailedException", "lambda", 412, "AddPermission"],
    ["PolicyLengthExceededException", "lambda", 400, "AddPermission"],
    ["InvalidParameterValueException", "lambda", 400, "GetPolicy"],
    ["ServerInternalException", "ram", 500, "GetPermission"],
    ["ServiceUnavailableException", "ram", 503, "ListPermissions"],
    ["UnknownResourceException", "ram", 400, "DeletePermission"],
    ["OperationNotPermittedException", "ram", 400, "DeletePermission"],
    ["MalformedArnException", "ram", 400, "GetPermission"],
    ["InvalidParameterException", "ram", 400, "CreatePermission"],
    ["MalformedPolicyTemplateException", "ram", 400, "CreatePermission"],
    ["PermissionAlreadyExistsException", "ram", 409, "CreatePermission"],
    ["PermissionLimitExceededException", "ram", 400, "CreatePermission"],
    ["IdempotentParameterMismatchException", "ram", 400, "CreatePermission"],
    ["InvalidClientTokenException", "ram", 400, "DeletePermission"],
    ["InvalidNextTokenException", "ram", 400, "ListPermissions"],
  ];
  for (const [code, service, httpStatus, operation] of chosen) {
    it(`injects ${code} with AWS's status ${httpStatus}`, async () => {
      const backend = createFakeBackend({ faults: { errorRate: 1, errorCode: code } });
      const error = await rejectsWithAws(calls[operation](backend), { service, code, httpStatus });
      assert.equal(error.retryAfterSeconds, undefined, "only throttling carries Retry-After");
    });
  }

  // Lambda's generic not-found message is its "no policy" answer, and the AWS
  // adapter reads it so; the injected error must mean the same thing.
  it("reads injected not-found errors as AWS's: Lambda's default says nothing certain, RAM's is the permission", async () => {
    const lambda = createFakeBackend({ faults: { errorRate: 1, errorCode: "ResourceNotFoundException" } });
    const injected = await rejectsWithAws(calls.RemovePermission(lambda), {
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      message: "The resource you requested does not exist.",
    });
    assert.equal(injected.missing, undefined, "never a gone statement that allow_missing would turn into success");
    const ram = createFakeBackend({ faults: { errorRate: 1, errorCode: "UnknownResourceException" } });
    await rejectsWithAws(calls.GetPermission(ram), {
      service: "ram",
      code: "UnknownResourceException",
      httpStatus: 400,
      missing: "permission",
    });
  });

  it("with rate 0 never fails", async () => {
    const backend = createFakeBackend({ faults: { errorRate: 0, errorCode: "ServiceException" } });
    for (let i = 0; i < 50; i++) await calls.ListPermissions(backend);
    for (const operation of [...lambdaOperations, ...ramOperations]) await calls[operation](backend);
  });

  it("fails the share of calls the injected random source decides", async () => {
    const draws = [0.1, 0.9, 0.49, 0.5, 0.2];
    const backend = createFakeBackend({ faults: { errorRate: 0.5 }, random: () => draws.shift() ?? 1 });
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      outcomes.push(
        await calls.ListPermissions(backend).then(
          () => "ok",
          () => "failed",
        ),
      );
    }
    assert.deepEqual(outcomes, ["failed", "ok", "failed", "ok", "failed"]);
  });

  it("applies a RAM error code only to RAM operations by default", async () => {
    const backend = createFakeBackend({ faults: { errorRate: 1, errorCode: "ServiceUnavailableException" } });
    for (const operation of lambdaOperations) await calls[operation](backend);
    for (const operation of ramOperations) {
      await rejectsWithAws(calls[operation](backend), {
        service: "ram",
        code: "ServiceUnavailableException",
        httpStatus: 503,
      });
    }
  });

  it("applies a common error such as AccessDeniedException to both services", async () => {
    const backend = createFakeBackend({ faults: { errorRate: 1, errorCode: "AccessDeniedException" } });
    await rejectsWithAws(calls.GetPolicy(backend), {
      service: "lambda",
      code: "AccessDeniedException",
      httpStatus: 403,
    });
    await rejectsWithAws(calls.ListPermissions(backend), {
      service: "ram",
      code: "AccessDeniedException",
      httpStatus: 403,
    });
  });

  it("applies faults only to the operations named", async () => {
    const backend = createFakeBackend({ faults: { errorRate: 1, operations: ["GetPolicy", "GetPermission"] } });
    await rejectsWithAws(calls.GetPolicy(backend), {
      service: "lambda",
      code: "TooManyRequestsException",
      httpStatus: 429,
    });
    await rejectsWithAws(calls.GetPermission(backend), {
      service: "ram",
      code: "ThrottlingException",
      httpStatus: 429,
    });
    for (const operation of [
      "AddPermission",
      "RemovePermission",
      "CreatePermission",
      "ListPermissions",
      "DeletePermission",
    ] as const) {
      await calls[operation](backend);
    }
  });

  it("does not touch the model when a call is failed", async () => {
    const backend = createFakeBackend({ faults: { errorRate: 1, operations: ["AddPermission"] } });
    await rejectsWithAws(
      backend.addLambdaPermission(
        { function: fn("demo"), statementId: "never", action: "lambda:InvokeFunction", principal: "*" },
        callOptions(),
      ),
      { service: "lambda", code: "TooManyRequestsException", httpStatus: 429 },
    );
    await rejectsWithAws(backend.getLambdaPolicy({ function: fn("demo") }, callOptions()), {
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      message: "The resource you requested does not exist.",
    });
  });

  it("setFaults replaces the faults at run time", async () => {
    const backend = createFakeBackend();
    await calls.GetPermission(backend);
    backend.setFaults({ errorRate: 1, errorCode: "ServerInternalException" });
    await rejectsWithAws(calls.GetPermission(backend), {
      service: "ram",
      code: "ServerInternalException",
      httpStatus: 500,
    });
    backend.setFaults({});
    await calls.GetPermission(backend);
  });

  const invalid: [string, object][] = [
    ["an unknown error code", { errorCode: "NoSuchThingException" }],
    ["a rate above 1", { errorRate: 1.5 }],
    ["a negative rate", { errorRate: -0.1 }],
    ["a negative latency", { latencyMs: -1 }],
    ["an unknown operation", { operations: ["Invoke"] }],
    [
      "a code the named operation's service does not have",
      { errorCode: "ThrottlingException", operations: ["GetPolicy"] },
    ],
  ];
  for (const [what, faults] of invalid) {
    it(`refuses ${what}`, () => {
      const backend = createFakeBackend();
      assert.throws(() => backend.setFaults(faults), Error);
      assert.throws(() => createFakeBackend({ faults }), Error);
    });
  }
});

describe("fake faults: execute, then lose the answer", () => {
  it("applies the mutation and then answers UpstreamOutcomeUnknownError", async () => {
    const backend = createFakeBackend({ faults: { lostAnswerRate: 1, operations: ["AddPermission"] } });
    await assert.rejects(
      backend.addLambdaPermission(
        { function: fn("demo"), statementId: "landed", action: "lambda:InvokeFunction", principal: "*" },
        callOptions(),
      ),
      (error: unknown) =>
        error instanceof UpstreamOutcomeUnknownError && error.service === "lambda" && error.abort === undefined,
    );
    const policy = JSON.parse((await backend.getLambdaPolicy({ function: fn("demo") }, callOptions())).policy) as {
      Statement: { Sid: string }[];
    };
    assert.deepEqual(
      policy.Statement.map((statement) => statement.Sid),
      ["landed"],
      "the statement was added all the same",
    );
  });

  it("never picks a read, which has no effect to lose", async () => {
    const backend = createFakeBackend({ faults: { lostAnswerRate: 1 } });
    for (const operation of ["GetPolicy", "GetPermission", "ListPermissions"] as const) await calls[operation](backend);
    for (const operation of ["CreatePermission", "DeletePermission"] as const) {
      await assert.rejects(calls[operation](backend), UpstreamOutcomeUnknownError);
    }
  });

  it("loses the share of answers the injected random source decides", async () => {
    const draws = [0.1, 0.9, 0.2];
    const backend = createFakeBackend({ faults: { lostAnswerRate: 0.5 }, random: () => draws.shift() ?? 1 });
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++)
      outcomes.push(
        await calls.CreatePermission(backend).then(
          () => "answered",
          () => "lost",
        ),
      );
    assert.deepEqual(outcomes, ["lost", "answered", "lost"]);
  });

  it("refuses a rate outside 0..1", () => {
    assert.throws(
      () => createFakeBackend({ faults: { lostAnswerRate: 2 } }),
      /faults\.lostAnswerRate must be from 0 to 1/,
    );
  });
});

describe("fake faults: latency", () => {
  it("delays the call, then answers normally", async () => {
    const backend = createFakeBackend({ faults: { latencyMs: 20 } });
    const permission = (await calls.GetPermission(backend)) as { name: string };
    assert.equal(permission.name, "demo-permission");
  });

  it("rejects promptly with UpstreamTimeoutError (cancelled) when the caller aborts", async () => {
    const backend = createFakeBackend({ faults: { latencyMs: 60_000 } });
    const controller = new AbortController();
    const started = Date.now();
    const pending = calls.GetPermission(backend, { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await assert.rejects(pending, (error: unknown) => {
      assert.ok(error instanceof UpstreamTimeoutError);
      assert.equal(error.service, "ram");
      assert.equal(error.callerDeadlineExceeded, false);
      assert.equal(error.cancelled, true);
      return true;
    });
    assert.ok(Date.now() - started < 30_000, "well before the latency ends");
    await backend.close();
  });

  it("reports callerDeadlineExceeded when the caller's deadline has passed", async () => {
    const clock = manualClock();
    const backend = createFakeBackend({ clock, faults: { latencyMs: 60_000 } });
    const controller = new AbortController();
    const pending = backend.getLambdaPolicy(
      { function: fn("demo") },
      { signal: controller.signal, deadline: clock.now() + 50 },
    );
    setTimeout(() => {
      clock.advance(50);
      controller.abort();
    }, 10);
    await assert.rejects(pending, (error: unknown) => {
      assert.ok(error instanceof UpstreamTimeoutError);
      assert.equal(error.service, "lambda");
      assert.equal(error.callerDeadlineExceeded, true);
      assert.equal(error.cancelled, false);
      return true;
    });
  });

  it("rejects at once when the signal is already aborted, leaving the model alone", async () => {
    const backend = createFakeBackend();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      backend.addLambdaPermission(
        { function: fn("demo"), statementId: "x", action: "lambda:InvokeFunction", principal: "*" },
        { signal: controller.signal },
      ),
      UpstreamTimeoutError,
    );
    await rejectsWithAws(backend.getLambdaPolicy({ function: fn("demo") }, callOptions()), {
      service: "lambda",
      code: "ResourceNotFoundException",
      httpStatus: 404,
      message: "The resource you requested does not exist.",
    });
  });

  it("ends pending latency waits on close", async () => {
    const backend = createFakeBackend({ faults: { latencyMs: 60_000 } });
    const pending = calls.ListPermissions(backend);
    await backend.close();
    await assert.rejects(pending, UpstreamTimeoutError);
  });

  it("adds latency only to the operations named", async () => {
    const backend = createFakeBackend({ faults: { latencyMs: 60_000, operations: ["ListPermissions"] } });
    await calls.GetPermission(backend);
    const pending = calls.ListPermissions(backend);
    await backend.close();
    await assert.rejects(pending, UpstreamTimeoutError);
  });
});

describe("fake call counts", () => {
  it("counts calls per operation and in total, faulted calls included", async () => {
    const backend = createFakeBackend();
    await calls.ListPermissions(backend);
    await calls.ListPermissions(backend);
    await calls.GetPermission(backend);
    backend.setFaults({ errorRate: 1, operations: ["GetPolicy"] });
    await assert.rejects(backend.getLambdaPolicy({ function: fn("demo") }, callOptions()));
    assert.equal(backend.callCount("ListPermissions"), 2);
    assert.equal(backend.callCount("GetPermission"), 1);
    assert.equal(backend.callCount("GetPolicy"), 1);
    assert.equal(backend.callCount("DeletePermission"), 0);
    assert.equal(backend.callCount(), 4);
  });

  it("counts calls that AWS refused", async () => {
    const backend = createFakeBackend();
    await assert.rejects(backend.getLambdaPolicy({ function: fn("nope") }, callOptions()));
    assert.equal(backend.callCount("GetPolicy"), 1);
  });

  it("resets the counts", async () => {
    const backend = createFakeBackend();
    await calls.ListPermissions(backend);
    backend.resetCallCounts();
    assert.equal(backend.callCount(), 0);
    assert.equal(backend.callCount("ListPermissions"), 0);
    await calls.ListPermissions(backend);
    assert.equal(backend.callCount(), 1);
  });
});

// Fault injection and call counting, observed through the real SDK clients:
// an error for N requests then success (with the SDK's own retries), added
// latency, a dropped connection, and the counts every attempt adds to.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GetPolicyCommand, AddPermissionCommand } from "@aws-sdk/client-lambda";
import { GetPermissionCommand, ListPermissionsCommand } from "@aws-sdk/client-ram";
import { InvalidFakeAwsFaultError, parseFakeAwsFault, type FakeAwsFault } from "../../src/fake-aws/faults.js";
import { PERMISSION_ARN, rejectionOf, startHarness } from "./harness.js";

const addDemo = (sid: string) =>
  new AddPermissionCommand({
    FunctionName: "demo",
    StatementId: sid,
    Action: "lambda:InvokeFunction",
    Principal: "s3.amazonaws.com",
  });

describe("fake AWS endpoint: faults", () => {
  it("fails the next N matching requests, then lets them through", async (t) => {
    const { lambda, server } = await startHarness(t);
    server.injectFault({ operation: "AddPermission", errorCode: "ServiceException", times: 2 });
    assert.equal((await rejectionOf(lambda.send(addDemo("a")))).name, "ServiceException");
    assert.equal((await rejectionOf(lambda.send(addDemo("a")))).name, "ServiceException");
    const added = await lambda.send(addDemo("a"));
    assert.equal(added.$metadata.httpStatusCode, 201);
    assert.equal(server.callCount("AddPermission"), 3);
  });

  it("applies only to the named operation", async (t) => {
    const { lambda, ram, server } = await startHarness(t);
    server.injectFault({ operation: "GetPermission", errorCode: "ServiceUnavailableException" });
    await lambda.send(addDemo("a"));
    await ram.send(new ListPermissionsCommand({}));
    const error = await rejectionOf(ram.send(new GetPermissionCommand({ permissionArn: PERMISSION_ARN })));
    assert.equal(error.name, "ServiceUnavailableException");
    assert.equal(error.$metadata.httpStatusCode, 503);
    // Without `times` the fault stays until cleared.
    assert.equal(
      (await rejectionOf(ram.send(new GetPermissionCommand({ permissionArn: PERMISSION_ARN })))).name,
      "ServiceUnavailableException",
    );
    server.clearFaults();
    await ram.send(new GetPermissionCommand({ permissionArn: PERMISSION_ARN }));
  });

  it("counts every attempt the SDK's retries make, faulted ones included", async (t) => {
    const { server, clients } = await startHarness(t);
    const { lambda } = clients({ maxAttempts: 3 });
    server.injectFault({ operation: "GetPolicy", errorCode: "ServiceException", times: 2 });
    await lambda.send(addDemo("a"));
    const policy = await lambda.send(new GetPolicyCommand({ FunctionName: "demo" }));
    assert.equal(policy.$metadata.attempts, 3);
    assert.equal(server.callCount("GetPolicy"), 3);
    assert.equal(server.callCount("AddPermission"), 1);
    assert.equal(server.callCount(), 4);
    server.resetCallCounts();
    assert.equal(server.callCount(), 0);
  });

  it("picks the service's own error for a fault that names only a status", async (t) => {
    const { lambda, ram, server } = await startHarness(t);
    server.injectFault({ httpStatus: 503, times: 2 });
    const ramError = await rejectionOf(ram.send(new ListPermissionsCommand({})));
    assert.equal(ramError.name, "ServiceUnavailableException");
    const lambdaError = await rejectionOf(lambda.send(new GetPolicyCommand({ FunctionName: "demo" })));
    assert.equal(lambdaError.name, "ServiceException");
    assert.equal(lambdaError.$metadata.httpStatusCode, 503);
  });

  it("adds latency before answering: a caller that gives up first never reaches the backend, a patient one succeeds", async (t) => {
    const { ram, server, backend } = await startHarness(t);
    server.injectFault({ operation: "ListPermissions", latencyMs: 2_000, times: 1 });
    const error = await rejectionOf(ram.send(new ListPermissionsCommand({}), { abortSignal: AbortSignal.timeout(50) }));
    assert.equal(error.name, "AbortError");
    assert.equal(error.$metadata?.httpStatusCode, undefined);

    server.injectFault({ operation: "ListPermissions", latencyMs: 50, times: 1 });
    const listed = await ram.send(new ListPermissionsCommand({}));
    assert.equal(listed.$metadata.httpStatusCode, 200);
    assert.equal(server.callCount("ListPermissions"), 2);
    // The abandoned request was dropped during its latency, before the backend.
    assert.equal(backend.callCount("ListPermissions"), 1);
  });

  it("drops the connection without answering: the SDK sees a network error, not an AWS error", async (t) => {
    const { lambda, server } = await startHarness(t);
    server.injectFault({ dropConnection: true, times: 1 });
    const error = await rejectionOf(lambda.send(new GetPolicyCommand({ FunctionName: "demo" })));
    assert.equal(error.$metadata.httpStatusCode, undefined);
    assert.equal(error.$response, undefined);
    assert.match(`${error.code ?? ""} ${error.message}`, /ECONNRESET|socket hang up/);
    assert.equal(server.callCount("GetPolicy"), 1);
    // The next request is served normally.
    assert.equal(
      (await rejectionOf(lambda.send(new GetPolicyCommand({ FunctionName: "demo" })))).name,
      "ResourceNotFoundException",
    );
  });

  it("executes, then drops the connection: the statement is added though the SDK never hears so", async (t) => {
    const { lambda, server } = await startHarness(t);
    server.injectFault({ operation: "AddPermission", afterExecution: true, dropConnection: true, times: 1 });
    const error = await rejectionOf(lambda.send(addDemo("landed")));
    assert.equal(error.$metadata.httpStatusCode, undefined);
    assert.match(`${error.code ?? ""} ${error.message}`, /ECONNRESET|socket hang up/);
    const policy = await lambda.send(new GetPolicyCommand({ FunctionName: "demo" }));
    assert.match(policy.Policy ?? "", /"Sid":"landed"/);
  });

  it("executes, then answers late: a client that stops waiting has still made the change", async (t) => {
    const { lambda, server } = await startHarness(t);
    server.injectFault({ operation: "AddPermission", afterExecution: true, latencyMs: 30_000, times: 1 });
    const error = await rejectionOf(lambda.send(addDemo("late"), { abortSignal: AbortSignal.timeout(300) }));
    assert.equal(error.name, "AbortError");
    const policy = await lambda.send(new GetPolicyCommand({ FunctionName: "demo" }));
    assert.match(policy.Policy ?? "", /"Sid":"late"/);
  });

  it("executes, then answers the backend's own answer late to a patient client", async (t) => {
    const { lambda, server } = await startHarness(t);
    server.injectFault({ operation: "AddPermission", afterExecution: true, latencyMs: 100, times: 1 });
    const added = await lambda.send(addDemo("patient"));
    assert.equal(added.$metadata.httpStatusCode, 201);
    assert.match(added.Statement ?? "", /patient/);
  });

  it("drops the connection when the backend lost its answer (the in-process fake's fault)", async (t) => {
    const { lambda, backend } = await startHarness(t);
    backend.setFaults({ lostAnswerRate: 1, operations: ["AddPermission"] });
    const error = await rejectionOf(lambda.send(addDemo("lost")));
    assert.equal(error.$metadata.httpStatusCode, undefined);
    backend.setFaults({});
    assert.match((await lambda.send(new GetPolicyCommand({ FunctionName: "demo" }))).Policy ?? "", /"Sid":"lost"/);
  });

  it("refuses a fault that does not make sense", async (t) => {
    const { server } = await startHarness(t);
    assert.throws(
      () => server.injectFault({ operation: "Invoke", errorCode: "ServiceException" }),
      InvalidFakeAwsFaultError,
    );
  });
});

describe("parseFakeAwsFault", () => {
  const valid: FakeAwsFault[] = [
    { errorCode: "ThrottlingException" },
    { operation: "RemovePermission", httpStatus: 500, times: 3 },
    { latencyMs: 0 },
    { dropConnection: true, latencyMs: 10 },
    { errorCode: "TooManyRequestsException", retryAfterSeconds: 0 },
    { operation: "AddPermission", afterExecution: true, dropConnection: true, times: 1 },
    { afterExecution: true, latencyMs: 10_000 },
  ];
  for (const fault of valid) {
    it(`accepts ${JSON.stringify(fault)}`, () => {
      assert.deepEqual(parseFakeAwsFault(fault), fault);
    });
  }

  const invalid: [unknown, RegExp][] = [
    [null, /JSON object/],
    [[], /JSON object/],
    [{}, /needs errorCode, httpStatus, latencyMs or dropConnection/],
    [{ dropConnection: false }, /needs/],
    [{ errorCode: "X", latency: 5 }, /unknown fault field\(s\): latency/],
    [{ operation: "Invoke", errorCode: "X" }, /operation must be one of RemovePermission, /],
    [{ errorCode: "" }, /errorCode/],
    [{ errorCode: "Bad\r\nHeader" }, /errorCode/],
    [{ httpStatus: 200 }, /httpStatus must be an integer from 400 to 599/],
    [{ errorCode: "X", times: 0 }, /times must be an integer of 1 or more/],
    [{ errorCode: "X", times: 1.5 }, /times/],
    [{ latencyMs: -1 }, /latencyMs/],
    [{ latencyMs: "5" }, /latencyMs/],
    [{ latencyMs: 5, retryAfterSeconds: 1 }, /retryAfterSeconds needs errorCode or httpStatus/],
    [{ dropConnection: "yes" }, /dropConnection must be a boolean/],
    [{ afterExecution: "yes", dropConnection: true }, /afterExecution must be a boolean/],
    [{ afterExecution: true }, /needs errorCode, httpStatus, latencyMs or dropConnection/],
  ];
  for (const [fault, message] of invalid) {
    it(`refuses ${JSON.stringify(fault)}`, () => {
      assert.throws(
        () => parseFakeAwsFault(fault),
        (error: unknown) => {
          assert.ok(error instanceof InvalidFakeAwsFaultError);
          assert.equal(error.name, "InvalidFakeAwsFaultError");
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});

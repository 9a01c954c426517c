// Retries, deadlines, cancellation, broken connections and missing
// credentials, observed on the wire: the fake AWS endpoint counts every
// attempt and the recording proxy shows what each attempt carried.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, test } from "node:test";
import {
  AwsApiError,
  UpstreamCredentialsError,
  UpstreamNetworkError,
  UpstreamOutcomeUnknownError,
  UpstreamTimeoutError,
} from "../../../src/backend/errors.js";
import { freePort } from "../../support/redis-server.js";
import {
  DEMO_PERMISSION,
  awsBackendAt,
  deadlineIn,
  fn,
  noDeadline,
  rejectionOf,
  startAwsStack,
  type AwsStack,
  type AwsStackOptions,
} from "./aws-test-stack.js";
import { permissionRef } from "../../support/permission-ref.js";

/** Generous: the machine is noisy; "promptly" only has to beat the injected latency. */
const PROMPT_MS = 1200;

let stack: AwsStack | undefined;
async function start(options: AwsStackOptions = {}): Promise<AwsStack> {
  stack = await startAwsStack(options);
  return stack;
}
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const subnetTemplate = JSON.stringify({ Effect: "Allow", Action: ["ec2:DescribeSubnets"] });

describe("SDK retries", () => {
  test("a throttled Lambda call (429 TooManyRequestsException) is retried and then succeeds", async () => {
    const s = await start();
    s.endpoint.injectFault({ operation: "AddPermission", errorCode: "TooManyRequestsException", times: 1 });
    const output = await s.backend.addLambdaPermission(
      {
        function: fn("demo"),
        statementId: "after-throttle",
        action: "lambda:InvokeFunction",
        principal: "s3.amazonaws.com",
      },
      deadlineIn(10_000),
    );
    assert.equal((JSON.parse(output.statement) as { Sid: string }).Sid, "after-throttle");
    assert.equal(s.endpoint.callCount("AddPermission"), 2);
    assert.deepEqual(
      s.proxy.exchanges.map((e) => e.status),
      [429, 201],
    );
  });

  test("a throttled RAM call (429 ThrottlingException) is retried and then succeeds", async () => {
    const s = await start();
    s.endpoint.injectFault({ operation: "ListPermissions", errorCode: "ThrottlingException", times: 1 });
    const output = await s.backend.listRamPermissions({ maxResults: 10 }, deadlineIn(10_000));
    assert.ok(output.permissions.length > 0);
    assert.equal(s.endpoint.callCount("ListPermissions"), 2);
  });

  test("a 503 on CreatePermission is retried with the same clientToken, creating one permission", async () => {
    const s = await start();
    s.endpoint.injectFault({ operation: "CreatePermission", httpStatus: 503, times: 1 });
    const output = await s.backend.createRamPermission(
      {
        name: "retried",
        resourceType: "ec2:Subnet",
        policyTemplate: subnetTemplate,
        clientToken: "caller-token-1",
        tags: {},
      },
      deadlineIn(10_000),
    );
    assert.equal(output.clientToken, "caller-token-1");
    assert.equal(s.endpoint.callCount("CreatePermission"), 2);
    const attempts = s.proxy.exchanges.filter((e) => e.path === "/createpermission");
    assert.deepEqual(
      attempts.map((e) => e.status),
      [503, 200],
    );
    assert.deepEqual(
      attempts.map((e) => (JSON.parse(e.body) as { clientToken: string }).clientToken),
      ["caller-token-1", "caller-token-1"],
    );
    const listed = await s.backend.listRamPermissions(
      { maxResults: 100, permissionType: "CUSTOMER_MANAGED" },
      noDeadline(),
    );
    assert.equal(listed.permissions.filter((p) => p.name === "retried").length, 1);
  });

  test("a 500 on DeletePermission is retried with the same clientToken", async () => {
    const s = await start();
    s.endpoint.injectFault({ operation: "DeletePermission", errorCode: "ServerInternalException", times: 1 });
    const output = await s.backend.deleteRamPermission(
      { permission: permissionRef(DEMO_PERMISSION), clientToken: "caller-token-2" },
      deadlineIn(10_000),
    );
    const { awsRequestId, ...answer } = output;
    assert.deepEqual(answer, { returnValue: true, clientToken: "caller-token-2", permissionStatus: "DELETED" });
    const attempts = s.proxy.exchanges.filter((e) => e.path === "/deletepermission");
    assert.equal(awsRequestId, attempts.at(-1)?.requestId, "the request ID of the attempt that answered");
    assert.deepEqual(
      attempts.map((e) => [e.status, e.query.get("clientToken")]),
      [
        [500, "caller-token-2"],
        [200, "caller-token-2"],
      ],
    );
  });

  test("a 503 on RemovePermission (ServiceException) is retried and then succeeds", async () => {
    const s = await start();
    await s.backend.addLambdaPermission(
      {
        function: fn("demo"),
        statementId: "to-remove",
        action: "lambda:InvokeFunction",
        principal: "s3.amazonaws.com",
      },
      noDeadline(),
    );
    s.endpoint.injectFault({ operation: "RemovePermission", httpStatus: 503, times: 1 });
    await s.backend.removeLambdaPermission({ function: fn("demo"), statementId: "to-remove" }, deadlineIn(10_000));
    assert.equal(s.endpoint.callCount("RemovePermission"), 2);
  });

  test("a failure that persists is the last AWS answer once the attempts are spent", async () => {
    const s = await start({ maxAttempts: 2 });
    s.endpoint.injectFault({ operation: "GetPermission", errorCode: "ServiceUnavailableException" });
    const error = await rejectionOf(
      s.backend.getRamPermission({ permission: permissionRef(DEMO_PERMISSION) }, deadlineIn(10_000)),
    );
    assert.ok(error instanceof AwsApiError);
    assert.equal(error.code, "ServiceUnavailableException");
    assert.equal(error.httpStatus, 503);
    assert.equal(s.endpoint.callCount("GetPermission"), 2);
  });
});

describe("attempts that may have taken effect", () => {
  test("AddPermission whose connection drops after it executed: one attempt, UpstreamOutcomeUnknownError", async () => {
    const s = await start({ maxAttempts: 3 });
    s.endpoint.injectFault({ operation: "AddPermission", afterExecution: true, dropConnection: true, times: 1 });
    const error = await rejectionOf(
      s.backend.addLambdaPermission(
        { function: fn("demo"), statementId: "dropped", action: "lambda:InvokeFunction", principal: "*" },
        deadlineIn(10_000),
      ),
    );
    assert.ok(
      error instanceof UpstreamOutcomeUnknownError,
      `expected UpstreamOutcomeUnknownError, got ${error.name}: ${error.message}`,
    );
    assert.equal(error.service, "lambda");
    assert.equal(error.abort, undefined);
    assert.equal(s.endpoint.callCount("AddPermission"), 1, "not retried");
  });

  test("RemovePermission answered after the request timeout: one attempt, UpstreamOutcomeUnknownError", async () => {
    const s = await start({ maxAttempts: 3, requestTimeoutMs: 300 });
    await s.backend.addLambdaPermission(
      { function: fn("demo"), statementId: "late", action: "lambda:InvokeFunction", principal: "*" },
      noDeadline(),
    );
    s.endpoint.injectFault({ operation: "RemovePermission", afterExecution: true, latencyMs: 3_000, times: 1 });
    const error = await rejectionOf(
      s.backend.removeLambdaPermission({ function: fn("demo"), statementId: "late" }, deadlineIn(10_000)),
    );
    assert.ok(
      error instanceof UpstreamOutcomeUnknownError,
      `expected UpstreamOutcomeUnknownError, got ${error.name}: ${error.message}`,
    );
    assert.equal(s.endpoint.callCount("RemovePermission"), 1, "not retried");
  });

  test("a caller's deadline while AddPermission is with AWS: an unknown outcome that names the deadline", async () => {
    const s = await start({ maxAttempts: 3 });
    s.endpoint.injectFault({ operation: "AddPermission", afterExecution: true, latencyMs: 3_000, times: 1 });
    const error = await rejectionOf(
      s.backend.addLambdaPermission(
        { function: fn("demo"), statementId: "deadline", action: "lambda:InvokeFunction", principal: "*" },
        deadlineIn(300),
      ),
    );
    assert.ok(
      error instanceof UpstreamOutcomeUnknownError,
      `expected UpstreamOutcomeUnknownError, got ${error.name}: ${error.message}`,
    );
    assert.equal(error.abort, "deadline");
  });

  test("RAM's CreatePermission after a dropped connection is retried with the same clientToken, creating one permission", async () => {
    const s = await start({ maxAttempts: 3 });
    s.endpoint.injectFault({ operation: "CreatePermission", afterExecution: true, dropConnection: true, times: 1 });
    const output = await s.backend.createRamPermission(
      {
        name: "dropped-once",
        resourceType: "ec2:Subnet",
        policyTemplate: subnetTemplate,
        clientToken: "caller-token-3",
        tags: {},
      },
      deadlineIn(10_000),
    );
    assert.equal(output.clientToken, "caller-token-3");
    assert.equal(s.endpoint.callCount("CreatePermission"), 2);
    const listed = await s.backend.listRamPermissions(
      { maxResults: 100, permissionType: "CUSTOMER_MANAGED" },
      noDeadline(),
    );
    assert.equal(listed.permissions.filter((p) => p.name === "dropped-once").length, 1);
  });
});

describe("the caller's deadline and cancellation", () => {
  test("a deadline shorter than the endpoint's latency ends the call promptly, with no further attempts", async () => {
    const s = await start({ maxAttempts: 3 });
    const latencyMs = 1500;
    s.endpoint.injectFault({ operation: "GetPermission", latencyMs });
    const started = Date.now();
    const error = await rejectionOf(
      s.backend.getRamPermission({ permission: permissionRef(DEMO_PERMISSION) }, deadlineIn(300)),
    );
    const elapsed = Date.now() - started;
    assert.ok(error instanceof UpstreamTimeoutError, `expected UpstreamTimeoutError, got ${error.name}`);
    assert.equal(error.service, "ram");
    assert.equal(error.callerDeadlineExceeded, true);
    assert.equal(error.cancelled, false);
    assert.ok(elapsed < PROMPT_MS, `took ${elapsed} ms`);
    await sleep(latencyMs + 300);
    assert.equal(s.endpoint.callCount("GetPermission"), 1);
  });

  test("a deadline set only on the signal (AbortSignal.timeout) counts as the deadline", async () => {
    const s = await start();
    s.endpoint.injectFault({ operation: "GetPolicy", latencyMs: 1500 });
    const error = await rejectionOf(
      s.backend.getLambdaPolicy({ function: fn("demo") }, { signal: AbortSignal.timeout(200) }),
    );
    assert.ok(error instanceof UpstreamTimeoutError);
    assert.equal(error.service, "lambda");
    assert.equal(error.callerDeadlineExceeded, true);
  });

  test("a caller that cancels gets a cancelled timeout, and nothing is retried", async () => {
    const s = await start();
    s.endpoint.injectFault({ operation: "ListPermissions", latencyMs: 1500 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const error = await rejectionOf(
      s.backend.listRamPermissions({ maxResults: 5 }, { signal: controller.signal, deadline: Date.now() + 10_000 }),
    );
    assert.ok(error instanceof UpstreamTimeoutError);
    assert.equal(error.cancelled, true);
    assert.equal(error.callerDeadlineExceeded, false);
    await sleep(1800);
    assert.equal(s.endpoint.callCount("ListPermissions"), 1);
  });

  test("a call whose signal is already aborted sends nothing", async () => {
    const s = await start();
    const error = await rejectionOf(
      s.backend.getRamPermission(
        { permission: permissionRef(DEMO_PERMISSION) },
        { signal: AbortSignal.abort(), deadline: Date.now() - 1 },
      ),
    );
    assert.ok(error instanceof UpstreamTimeoutError);
    assert.equal(error.callerDeadlineExceeded, true);
    assert.equal(s.endpoint.callCount(), 0);
  });

  test("a Retry-After beyond the deadline returns AWS's throttling answer at once instead of waiting", async () => {
    const s = await start();
    s.endpoint.injectFault({ operation: "GetPolicy", errorCode: "TooManyRequestsException", retryAfterSeconds: 30 });
    const started = Date.now();
    const error = await rejectionOf(s.backend.getLambdaPolicy({ function: fn("demo") }, deadlineIn(3000)));
    assert.ok(error instanceof AwsApiError, `expected AwsApiError, got ${error.name}`);
    assert.equal(error.code, "TooManyRequestsException");
    assert.equal(error.retryAfterSeconds, 30);
    assert.ok(Date.now() - started < 2500, "did not wait for the deadline");
    assert.equal(s.endpoint.callCount("GetPolicy"), 1);
  });

  test("an attempt that outlives the request timeout is retried while the caller has time", async () => {
    const s = await start({ requestTimeoutMs: 300, maxAttempts: 2 });
    s.endpoint.injectFault({ operation: "GetPermission", latencyMs: 1000, times: 1 });
    const permission = await s.backend.getRamPermission(
      { permission: permissionRef(DEMO_PERMISSION) },
      deadlineIn(10_000),
    );
    assert.equal(permission.name, "demo-permission");
    assert.equal(s.endpoint.callCount("GetPermission"), 2);
  });

  test("attempts that all outlive the request timeout are an upstream timeout, not the caller's deadline", async () => {
    const s = await start({ requestTimeoutMs: 300, maxAttempts: 2 });
    s.endpoint.injectFault({ operation: "GetPermission", latencyMs: 1000 });
    const error = await rejectionOf(
      s.backend.getRamPermission({ permission: permissionRef(DEMO_PERMISSION) }, deadlineIn(10_000)),
    );
    assert.ok(error instanceof UpstreamTimeoutError, `expected UpstreamTimeoutError, got ${error.name}`);
    assert.equal(error.callerDeadlineExceeded, false);
    assert.equal(error.cancelled, false);
    assert.equal(s.endpoint.callCount("GetPermission"), 2);
  });
});

describe("connections and credentials", () => {
  test("a refused connection is an UpstreamNetworkError", async () => {
    const backend = awsBackendAt(await freePort());
    try {
      const lambda = await rejectionOf(backend.getLambdaPolicy({ function: fn("demo") }, deadlineIn(10_000)));
      assert.ok(lambda instanceof UpstreamNetworkError, `expected UpstreamNetworkError, got ${lambda.name}`);
      assert.equal(lambda.service, "lambda");
      const ram = await rejectionOf(backend.listRamPermissions({ maxResults: 5 }, deadlineIn(10_000)));
      assert.ok(ram instanceof UpstreamNetworkError);
      assert.equal(ram.service, "ram");
    } finally {
      await backend.close();
    }
  });

  test("an HTML 502 from something in front of AWS is an UpstreamNetworkError, never an AWS error", async () => {
    let requests = 0;
    const proxyPage = createServer((req, res) => {
      requests += 1;
      req.resume();
      req.on("end", () => {
        res.writeHead(502, { "content-type": "text/html" });
        res.end("<html><body>502 Bad Gateway</body></html>");
      });
    });
    await new Promise<void>((resolve) => proxyPage.listen(0, "127.0.0.1", resolve));
    const { port } = proxyPage.address() as AddressInfo;
    const backend = awsBackendAt(port);
    try {
      const error = await rejectionOf(
        backend.getRamPermission({ permission: permissionRef(DEMO_PERMISSION) }, deadlineIn(10_000)),
      );
      assert.ok(
        error instanceof UpstreamNetworkError,
        `expected UpstreamNetworkError, got ${error.name}: ${error.message}`,
      );
      assert.equal(error.service, "ram");
      assert.equal(requests, 2, "a 502 is retried like any transient failure");
    } finally {
      await backend.close();
      proxyPage.closeAllConnections();
      await new Promise<void>((resolve) => proxyPage.close(() => resolve()));
    }
  });

  test("a connection the endpoint drops is an UpstreamNetworkError after every attempt", async () => {
    const s = await start({ maxAttempts: 3 });
    s.endpoint.injectFault({ operation: "GetPermission", dropConnection: true });
    const error = await rejectionOf(
      s.backend.getRamPermission({ permission: permissionRef(DEMO_PERMISSION) }, deadlineIn(10_000)),
    );
    assert.ok(
      error instanceof UpstreamNetworkError,
      `expected UpstreamNetworkError, got ${error.name}: ${error.message}`,
    );
    assert.equal(s.endpoint.callCount("GetPermission"), 3);
  });

  test("credentials that cannot be loaded are an UpstreamCredentialsError, and nothing is sent", async () => {
    const s = await start({
      credentials: async () => {
        throw Object.assign(new Error("Could not load credentials from any providers"), {
          name: "CredentialsProviderError",
        });
      },
    });
    const lambda = await rejectionOf(s.backend.getLambdaPolicy({ function: fn("demo") }, deadlineIn(10_000)));
    assert.ok(lambda instanceof UpstreamCredentialsError, `expected UpstreamCredentialsError, got ${lambda.name}`);
    assert.equal(lambda.service, "lambda");
    assert.equal(lambda.code, "CredentialsProviderError");
    const ram = await rejectionOf(
      s.backend.getRamPermission({ permission: permissionRef(DEMO_PERMISSION) }, deadlineIn(10_000)),
    );
    assert.ok(ram instanceof UpstreamCredentialsError);
    assert.equal(ram.service, "ram");
    assert.equal(s.endpoint.callCount(), 0);
  });
});

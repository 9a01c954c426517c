// The endpoint as a client in any other language sees it: raw HTTP requests
// and responses (headers, bodies, encodings), and the /__fake control
// endpoints for faults and call counts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FUNCTION_ARN, UUID_RE, startHarness } from "./harness.js";

async function send(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; text: string; json: unknown }> {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

const jsonPost = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

describe("fake AWS endpoint: raw HTTP", () => {
  it("answers in AWS's error format: x-amzn-ErrorType, x-amzn-RequestId, the shape's own message member", async (t) => {
    const { server } = await startHarness(t);
    const lambda = await send(`${server.url}/2015-03-31/functions/nope/policy`);
    assert.equal(lambda.status, 404);
    assert.equal(lambda.headers.get("x-amzn-errortype"), "ResourceNotFoundException");
    assert.match(lambda.headers.get("x-amzn-requestid") ?? "", UUID_RE);
    assert.equal(lambda.headers.get("content-type"), "application/json");
    assert.equal((lambda.json as Record<string, unknown>)["Type"], "User");
    assert.equal(typeof (lambda.json as Record<string, unknown>)["Message"], "string");

    const ram = await send(
      `${server.url}/getpermission`,
      jsonPost({ permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/nope" }),
    );
    assert.equal(ram.status, 400);
    assert.equal(ram.headers.get("x-amzn-errortype"), "UnknownResourceException");
    assert.equal(typeof (ram.json as Record<string, unknown>)["message"], "string");
  });

  it("sends x-amzn-RequestId on success too, and an empty 204 for RemovePermission", async (t) => {
    const { server } = await startHarness(t);
    const added = await send(
      `${server.url}/2015-03-31/functions/${encodeURIComponent(FUNCTION_ARN)}/policy`,
      jsonPost({ StatementId: "s", Action: "lambda:InvokeFunction", Principal: "sns.amazonaws.com" }),
    );
    assert.equal(added.status, 201);
    assert.match(added.headers.get("x-amzn-requestid") ?? "", UUID_RE);
    assert.equal(typeof (added.json as Record<string, unknown>)["Statement"], "string");

    const removed = await send(`${server.url}/2015-03-31/functions/demo/policy/s`, { method: "DELETE" });
    assert.equal(removed.status, 204);
    assert.equal(removed.text, "");
    assert.match(removed.headers.get("x-amzn-requestid") ?? "", UUID_RE);
  });

  it("reads the query parameters of the DELETE operations", async (t) => {
    const { server } = await startHarness(t);
    const path = `${server.url}/2015-03-31/functions/demo/policy`;
    await send(
      `${path}?Qualifier=live`,
      jsonPost({ StatementId: "s", Action: "lambda:InvokeFunction", Principal: "sns.amazonaws.com" }),
    );
    const wrongQualifier = await send(`${path}/s?Qualifier=1`, { method: "DELETE" });
    assert.equal(wrongQualifier.status, 404);
    const stale = await send(`${path}/s?Qualifier=live&RevisionId=stale`, { method: "DELETE" });
    assert.equal(stale.headers.get("x-amzn-errortype"), "PreconditionFailedException");

    const deleted = await send(
      `${server.url}/deletepermission?permissionArn=${encodeURIComponent("arn:aws:ram:us-east-1:123456789012:permission/demo-permission")}&clientToken=tok`,
      { method: "DELETE" },
    );
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.json, { returnValue: true, clientToken: "tok", permissionStatus: "DELETED" });
  });

  it("sends numbers for RAM timestamps (epoch seconds) and a string version", async (t) => {
    const { server } = await startHarness(t);
    const got = await send(
      `${server.url}/getpermission`,
      jsonPost({ permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/demo-permission" }),
    );
    const permission = (got.json as { permission: Record<string, unknown> }).permission;
    assert.equal(permission["creationTime"], Date.parse("2024-01-01T00:00:00Z") / 1000);
    assert.equal(permission["version"], "1");
  });

  const malformed: { name: string; path: string; init: RequestInit; status: number; code: string }[] = [
    {
      name: "an unknown path",
      path: "/2015-03-31/functions/demo/aliases",
      init: {},
      status: 404,
      code: "UnknownOperationException",
    },
    {
      name: "a known path with another method",
      path: "/getpermission",
      init: { method: "GET" },
      status: 404,
      code: "UnknownOperationException",
    },
    {
      name: "a Lambda body that is not JSON",
      path: "/2015-03-31/functions/demo/policy",
      init: jsonPost("{"),
      status: 400,
      code: "InvalidRequestContentException",
    },
    {
      name: "a Lambda member of the wrong type",
      path: "/2015-03-31/functions/demo/policy",
      init: jsonPost({ StatementId: 5 }),
      status: 400,
      code: "InvalidRequestContentException",
    },
    {
      name: "a RAM body that is not an object",
      path: "/listpermissions",
      init: jsonPost("[]"),
      status: 400,
      code: "InvalidParameterException",
    },
    {
      name: "a bad percent-escape in a label",
      path: "/2015-03-31/functions/%E0%A4%A/policy",
      init: {},
      status: 400,
      code: "InvalidParameterValueException",
    },
    {
      name: "a body over 1 MiB",
      path: "/2015-03-31/functions/demo/policy",
      init: jsonPost(`{"StatementId":"${"x".repeat(1024 * 1024)}"}`),
      status: 413,
      code: "RequestTooLargeException",
    },
    {
      name: "DeletePermission without permissionArn",
      path: "/deletepermission",
      init: { method: "DELETE" },
      status: 400,
      code: "MissingRequiredParameterException",
    },
    {
      name: "an empty Qualifier",
      path: "/2015-03-31/functions/demo/policy?Qualifier=",
      init: {},
      status: 400,
      code: "ValidationException",
    },
    {
      name: "InvokedViaFunctionUrl that is no boolean",
      path: "/2015-03-31/functions/demo/policy",
      init: jsonPost({
        StatementId: "s",
        Action: "lambda:InvokeFunction",
        Principal: "*",
        InvokedViaFunctionUrl: "yes",
      }),
      status: 400,
      code: "InvalidRequestContentException",
    },
  ];
  for (const request of malformed) {
    it(`answers ${request.code} (${request.status}) to ${request.name}`, async (t) => {
      const { server } = await startHarness(t);
      const answer = await send(`${server.url}${request.path}`, request.init);
      assert.equal(answer.status, request.status);
      assert.equal(answer.headers.get("x-amzn-errortype"), request.code);
      assert.match(answer.headers.get("x-amzn-requestid") ?? "", UUID_RE);
    });
  }

  it("answers a fault's Retry-After header on throttling", async (t) => {
    const { server } = await startHarness(t);
    server.injectFault({ operation: "GetPolicy", errorCode: "TooManyRequestsException", retryAfterSeconds: 3 });
    const answer = await send(`${server.url}/2015-03-31/functions/demo/policy`);
    assert.equal(answer.status, 429);
    assert.equal(answer.headers.get("retry-after"), "3");
    assert.equal((answer.json as Record<string, unknown>)["Reason"], "CallerRateLimitExceeded");
  });
});

describe("fake AWS endpoint: /__fake control endpoints", () => {
  it("injects, lists and clears faults over HTTP", async (t) => {
    const { server } = await startHarness(t);
    const added = await send(
      `${server.url}/__fake/faults`,
      jsonPost({ operation: "GetPolicy", httpStatus: 500, times: 2 }),
    );
    assert.equal(added.status, 201);
    assert.deepEqual(added.json, { fault: { operation: "GetPolicy", httpStatus: 500, times: 2 } });

    const first = await send(`${server.url}/2015-03-31/functions/demo/policy`);
    assert.equal(first.headers.get("x-amzn-errortype"), "ServiceException");
    const listed = await send(`${server.url}/__fake/faults`);
    assert.deepEqual(listed.json, { faults: [{ operation: "GetPolicy", httpStatus: 500, times: 1 }] });

    const cleared = await send(`${server.url}/__fake/faults`, { method: "DELETE" });
    assert.equal(cleared.status, 204);
    const after = await send(`${server.url}/2015-03-31/functions/demo/policy`);
    assert.equal(after.headers.get("x-amzn-errortype"), "ResourceNotFoundException");
  });

  it("refuses a bad fault with 400 and a message", async (t) => {
    const { server } = await startHarness(t);
    for (const body of ["{", JSON.stringify({ latency: 5 }), ""]) {
      const answer = await send(`${server.url}/__fake/faults`, jsonPost(body));
      assert.equal(answer.status, 400, body);
      assert.equal(typeof (answer.json as Record<string, unknown>)["message"], "string");
    }
    assert.equal((await send(`${server.url}/__fake/faults`, { method: "PUT" })).status, 405);
  });

  it("reports and resets the call counts of all seven operations; control requests do not count", async (t) => {
    const { server } = await startHarness(t);
    await send(`${server.url}/2015-03-31/functions/demo/policy`);
    await send(`${server.url}/2015-03-31/functions/demo/policy`);
    await send(`${server.url}/listpermissions`, jsonPost({}));
    await send(`${server.url}/nowhere`);
    const calls = await send(`${server.url}/__fake/calls`);
    assert.deepEqual(calls.json, {
      RemovePermission: 0,
      AddPermission: 0,
      GetPolicy: 2,
      DeletePermission: 0,
      CreatePermission: 0,
      GetPermission: 0,
      ListPermissions: 1,
    });
    assert.equal((await send(`${server.url}/__fake/calls`, { method: "DELETE" })).status, 204);
    assert.equal(server.callCount(), 0);
    assert.equal((await send(`${server.url}/__fake/nothing`)).status, 404);
  });
});

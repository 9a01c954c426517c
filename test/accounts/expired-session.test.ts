// An expired role session on the fake AWS endpoint: Lambda and RAM refuse a
// session key past its expiry (by the fake's clock) with ExpiredTokenException
// (403), which the gateway answers INTERNAL UPSTREAM_CREDENTIALS (the error
// catalogue's row). AWS's clock is a manual one the test moves past the
// session's expiry while the gateway's stays put (as with clock skew), so the
// gateway still signs with the key it was given.
//
// This file changes process.env (node:test runs each file in its own process).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Code } from "@connectrpc/connect";
import type { FakeAwsServer } from "../../src/fake-aws/server.js";
import type { Gateway } from "../../src/gateway.js";
import { createGatewayClient, failureOf, responseOf, type GatewayClient } from "../support/clients.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { manualClock } from "../support/manual-clock.js";
import { ACCOUNT_A, registryFile, startAccountsFakeAws } from "./accounts-fixture.js";

const awsClock = manualClock(Date.now());
const HOUR_AND_A_SECOND_MS = 3_601_000;

let dir: string;
let fake: FakeAwsServer;
let gateway: Gateway;
let client: GatewayClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "pg-expired-session-"));
  fake = await startAccountsFakeAws(dir, awsClock);
  gateway = await startConfiguredGateway({
    BACKEND: "aws",
    AWS_ACCOUNTS_FILE: registryFile(dir),
    AWS_MAX_ATTEMPTS: "1",
  });
  client = createGatewayClient("connect-json", gateway.url);
});

after(async () => {
  client.close();
  await gateway.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

const headers = { "x-caller-id": "ivan" };
const add = (statementId: string, caller = "ivan") =>
  client.call(
    "addLambdaPermission",
    {
      functionName: `arn:aws:lambda:us-east-1:${ACCOUNT_A}:function:demo`,
      statementId,
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
    },
    { headers: { "x-caller-id": caller } },
  );
const getRam = () =>
  client.call(
    "getRamPermission",
    { permissionArn: `arn:aws:ram:us-east-1:${ACCOUNT_A}:permission/absent` },
    { headers },
  );

test("an expired session key is refused by Lambda and RAM with ExpiredTokenException; a fresh session is served", async () => {
  responseOf(await add("before-expiry"));
  assert.equal(fake.callCount("AssumeRole"), 1);
  // A live session reaches RAM: the permission is not there.
  assert.equal(failureOf(await getRam()).code, Code.NotFound);

  // AWS's time passes the session's expiry; the gateway still holds the key it was given.
  awsClock.advance(HOUR_AND_A_SECOND_MS);
  for (const refused of [failureOf(await add("expired")), failureOf(await getRam())]) {
    assert.equal(refused.code, Code.Internal);
    assert.equal(refused.reason, "UPSTREAM_CREDENTIALS");
    assert.equal(refused.metadata["awsErrorCode"], "ExpiredTokenException");
    assert.equal(refused.metadata["httpStatus"], "403");
  }
  assert.equal(fake.callCount("AssumeRole"), 1);

  // A session assumed now (another caller's) is valid by AWS's clock: the refusal is the key's expiry, not the account's.
  responseOf(await add("fresh", "judy"));
  assert.equal(fake.callCount("AssumeRole"), 2);
});

// The registry in a whole gateway (the in-process fake backend): calls in an
// unlisted account or Region end FAILED_PRECONDITION before the backend; the
// file is reloaded on SIGHUP (Gateway.reload) and when it changes; a broken
// file keeps the previous registry, and the log and readiness say so.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Code } from "@connectrpc/connect";
import type { Gateway } from "../../src/gateway.js";
import { createGatewayClient, failureOf, type CallResult, type GatewayClient } from "../support/clients.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { createRecordingLogger, type RecordingLogger } from "../support/recording-logger.js";

const other = {
  id: "210987654321",
  alias: "payments-prod",
  roleArn: "arn:aws:iam::210987654321:role/permission-gateway",
};
const third = {
  id: "111122223333",
  roleArn: "arn:aws:iam::111122223333:role/permission-gateway",
  regions: ["eu-west-1"],
};

let dir: string;
let file: string;
let gateway: Gateway;
let client: GatewayClient;
let logger: RecordingLogger;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "pg-accounts-"));
  file = join(dir, "accounts.json");
  writeFileSync(file, JSON.stringify({ accounts: [other] }));
  logger = createRecordingLogger();
  gateway = await startConfiguredGateway({ AWS_ACCOUNTS_FILE: file, AUTH_RELOAD_INTERVAL_MS: "0" }, logger);
  client = createGatewayClient("connect-json", gateway.url);
});

after(async () => {
  client.close();
  await gateway.close();
  rmSync(dir, { recursive: true, force: true });
});

const policyOf = (functionName: string) => client.call("getLambdaPolicy", { functionName });

/** The call got past the registry to the backend: the demo functions have no policy yet, which Lambda answers 404. */
function assertReachedLambda(result: CallResult): void {
  const failure = failureOf(result);
  assert.equal(failure.domain, "lambda.amazonaws.com", JSON.stringify(failure));
  assert.equal(failure.reason, "RESOURCE_NOT_FOUND");
}

test("a listed account (through its role) and the own account are served; an unlisted one is ACCOUNT_NOT_MANAGED", async () => {
  assertReachedLambda(await policyOf("demo"));
  assertReachedLambda(await policyOf("arn:aws:lambda:us-east-1:123456789012:function:demo"));
  assertReachedLambda(await policyOf("arn:aws:lambda:us-east-1:210987654321:function:demo"));
  const refused = failureOf(await policyOf("arn:aws:lambda:us-east-1:999999999999:function:demo"));
  assert.equal(refused.code, Code.FailedPrecondition);
  assert.equal(refused.reason, "ACCOUNT_NOT_MANAGED");
  assert.equal(refused.metadata["account"], "999999999999");
});

test("the registry is reloaded on SIGHUP; a Region the account does not allow is REGION_NOT_MANAGED", async () => {
  const thirdArn = (region: string) => `arn:aws:lambda:${region}:111122223333:function:demo`;
  assert.equal(failureOf(await policyOf(thirdArn("eu-west-1"))).reason, "ACCOUNT_NOT_MANAGED");
  writeFileSync(file, JSON.stringify({ accounts: [other, third] }));
  await gateway.reload();
  // Past the registry, the in-process fake assumes the account's role as STS would; the demo seed has
  // no role in 111122223333, so its trust refuses.
  const denied = failureOf(await policyOf(thirdArn("eu-west-1")));
  assert.equal(denied.code, Code.PermissionDenied);
  assert.equal(denied.reason, "UPSTREAM_ACCESS_DENIED");
  assert.equal(denied.metadata["roleArn"], third.roleArn);
  const region = failureOf(await policyOf(thirdArn("us-east-1")));
  assert.equal(region.code, Code.FailedPrecondition);
  assert.equal(region.reason, "REGION_NOT_MANAGED");
  assert.deepEqual(region.metadata, { account: "111122223333", region: "us-east-1" });
});

test("a broken file keeps the previous registry, and the log and readiness say so", async () => {
  writeFileSync(file, JSON.stringify({ accounts: [{ ...other, id: "21098765432" }] }));
  await gateway.reload();
  assertReachedLambda(await policyOf("arn:aws:lambda:us-east-1:210987654321:function:demo"));
  assert.ok(
    logger.lines.some((r) => r.message === "account registry changed but is not valid, keeping the previous one"),
  );
  const broken = (await gateway.health.refresh()).checks.find((c) => c.name === "accounts");
  assert.match(broken?.detail ?? "", /own account 123456789012; AWS_ACCOUNTS_FILE is not valid.*accounts\[0\]\.id/);
  writeFileSync(file, JSON.stringify({ accounts: [other] }));
  await gateway.reload();
  const check = (await gateway.health.refresh()).checks.find((c) => c.name === "accounts");
  assert.equal(check?.detail, "own account 123456789012");
});

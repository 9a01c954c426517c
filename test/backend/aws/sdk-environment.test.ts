// The production path, with no client factory and no test credentials: the
// SDK itself reads AWS_ENDPOINT_URL_LAMBDA / AWS_ENDPOINT_URL_RAM /
// AWS_ENDPOINT_URL and its default credential chain from the environment, as
// it will under `BACKEND=aws`. This file changes process.env (node:test runs
// each file in its own process) and restores it after each test.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { createAwsBackend } from "../../../src/backend/aws/aws-backend.js";
import { UpstreamCredentialsError } from "../../../src/backend/errors.js";
import { createFakeBackend } from "../../../src/backend/fake/fake-backend.js";
import { startFakeAwsServer, type FakeAwsServer } from "../../../src/fake-aws/server.js";
import { silentLogger } from "../../../src/logger.js";
import type { PermissionBackend } from "../../../src/backend/backend.js";
import {
  DEMO_PERMISSION,
  deadlineIn,
  fn,
  rejectionOf,
  startRecordingProxy,
  testCredentials,
  type RecordingProxy,
} from "./aws-test-stack.js";
import { permissionRef } from "../../support/permission-ref.js";

const touched = [
  "AWS_ENDPOINT_URL",
  "AWS_ENDPOINT_URL_LAMBDA",
  "AWS_ENDPOINT_URL_RAM",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_EC2_METADATA_DISABLED",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_CONFIG_FILE",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_ROLE_ARN",
  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
  "HOME",
] as const;

let saved: Record<string, string | undefined>;
let home: string;
let endpoint: FakeAwsServer;
let lambdaProxy: RecordingProxy;
let ramProxy: RecordingProxy;
let backend: PermissionBackend | undefined;

beforeEach(async () => {
  saved = Object.fromEntries(touched.map((name) => [name, process.env[name]]));
  for (const name of touched) delete process.env[name];
  // No profile files, no instance metadata: the chain has nothing but what a test sets.
  home = mkdtempSync(join(tmpdir(), "pg-aws-env-"));
  process.env["HOME"] = home;
  process.env["AWS_SHARED_CREDENTIALS_FILE"] = join(home, "no-credentials");
  process.env["AWS_CONFIG_FILE"] = join(home, "no-config");
  process.env["AWS_EC2_METADATA_DISABLED"] = "true";
  endpoint = await startFakeAwsServer({ backend: createFakeBackend() });
  lambdaProxy = await startRecordingProxy(endpoint.url);
  ramProxy = await startRecordingProxy(endpoint.url);
});

afterEach(async () => {
  await backend?.close();
  backend = undefined;
  await lambdaProxy.close();
  await ramProxy.close();
  await endpoint.close();
  for (const name of touched) {
    const value = saved[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  rmSync(home, { recursive: true, force: true });
});

function productionBackend(): PermissionBackend {
  backend = createAwsBackend({
    defaultRegion: "us-east-1",
    maxAttempts: 2,
    requestTimeoutMs: 3000,
    logger: silentLogger,
  });
  return backend;
}

function useEnvCredentials(): void {
  process.env["AWS_ACCESS_KEY_ID"] = testCredentials.accessKeyId;
  process.env["AWS_SECRET_ACCESS_KEY"] = testCredentials.secretAccessKey;
}

test("AWS_ENDPOINT_URL_LAMBDA and AWS_ENDPOINT_URL_RAM send each service to its own endpoint", async () => {
  useEnvCredentials();
  process.env["AWS_ENDPOINT_URL_LAMBDA"] = lambdaProxy.url;
  process.env["AWS_ENDPOINT_URL_RAM"] = ramProxy.url;
  const b = productionBackend();
  await b.addLambdaPermission(
    { function: fn("demo"), statementId: "env", action: "lambda:InvokeFunction", principal: "s3.amazonaws.com" },
    deadlineIn(10_000),
  );
  const permission = await b.getRamPermission({ permission: permissionRef(DEMO_PERMISSION) }, deadlineIn(10_000));
  assert.equal(permission.name, "demo-permission");
  assert.deepEqual(
    lambdaProxy.exchanges.map((e) => [e.signingService, e.path.split("/")[1]]),
    [["lambda", "2015-03-31"]],
  );
  assert.deepEqual(
    ramProxy.exchanges.map((e) => [e.signingService, e.path]),
    [["ram", "/getpermission"]],
  );
});

test("AWS_ENDPOINT_URL serves both services, and routing still signs for the ARN's Region", async () => {
  useEnvCredentials();
  process.env["AWS_ENDPOINT_URL"] = lambdaProxy.url;
  const b = productionBackend();
  await b
    .getLambdaPolicy({ function: fn("arn:aws:lambda:eu-west-1:123456789012:function:demo") }, deadlineIn(10_000))
    .catch(() => undefined);
  await b
    .getRamPermission(
      { permission: permissionRef("arn:aws:ram:ap-northeast-1:123456789012:permission/p") },
      deadlineIn(10_000),
    )
    .catch(() => undefined);
  await b.listRamPermissions({ maxResults: 5 }, deadlineIn(10_000));
  assert.deepEqual(
    lambdaProxy.exchanges.map((e) => [e.signingService, e.signingRegion]),
    [
      ["lambda", "eu-west-1"],
      ["ram", "ap-northeast-1"],
      ["ram", "us-east-1"],
    ],
  );
});

test("no credentials anywhere in the default chain is an UpstreamCredentialsError, and nothing is sent", async () => {
  process.env["AWS_ENDPOINT_URL"] = lambdaProxy.url;
  const b = productionBackend();
  const lambda = await rejectionOf(b.getLambdaPolicy({ function: fn("demo") }, deadlineIn(10_000)));
  assert.ok(
    lambda instanceof UpstreamCredentialsError,
    `expected UpstreamCredentialsError, got ${lambda.name}: ${lambda.message}`,
  );
  assert.equal(lambda.service, "lambda");
  assert.equal(lambda.code, "CredentialsProviderError");
  const ram = await rejectionOf(
    b.deleteRamPermission({ permission: permissionRef(DEMO_PERMISSION), clientToken: "t" }, deadlineIn(10_000)),
  );
  assert.ok(ram instanceof UpstreamCredentialsError);
  assert.equal(lambdaProxy.exchanges.length, 0);
  assert.equal(endpoint.callCount(), 0);
});

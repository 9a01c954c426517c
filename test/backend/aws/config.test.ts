import assert from "node:assert/strict";
import { test } from "node:test";
import { AWS_ENV_HELP, FALLBACK_AWS_REGION, parseAwsConfig } from "../../../src/backend/aws/config.js";
import { ConfigError } from "../../../src/config-values.js";

test("defaults: us-east-1, 3 attempts, 5 s per attempt", () => {
  assert.deepEqual(parseAwsConfig({}), {
    defaultRegion: "us-east-1",
    maxAttempts: 3,
    requestTimeoutMs: 5000,
    connectTimeoutMs: 2000,
  });
  assert.equal(FALLBACK_AWS_REGION, "us-east-1");
});

const regionCases: { env: Record<string, string>; region: string }[] = [
  { env: { AWS_REGION: "eu-west-1" }, region: "eu-west-1" },
  { env: { AWS_DEFAULT_REGION: "ap-south-1" }, region: "ap-south-1" },
  { env: { AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "ap-south-1" }, region: "eu-west-1" },
  { env: { AWS_REGION: "", AWS_DEFAULT_REGION: "us-gov-west-1" }, region: "us-gov-west-1" },
  { env: { AWS_REGION: "cn-north-1" }, region: "cn-north-1" },
];
for (const c of regionCases) {
  test(`default Region from ${JSON.stringify(c.env)} is ${c.region}`, () => {
    assert.equal(parseAwsConfig(c.env).defaultRegion, c.region);
  });
}

test("settings within their ranges are taken", () => {
  const config = parseAwsConfig({
    AWS_MAX_ATTEMPTS: "1",
    AWS_REQUEST_TIMEOUT_MS: "250",
    AWS_CONNECT_TIMEOUT_MS: "100",
  });
  assert.equal(config.maxAttempts, 1);
  assert.equal(config.requestTimeoutMs, 250);
  assert.equal(config.connectTimeoutMs, 100);
  assert.equal(parseAwsConfig({ AWS_MAX_ATTEMPTS: "10" }).maxAttempts, 10);
});

const invalid: [string, string][] = [
  ["AWS_MAX_ATTEMPTS", "0"],
  ["AWS_MAX_ATTEMPTS", "11"],
  ["AWS_MAX_ATTEMPTS", "three"],
  ["AWS_REQUEST_TIMEOUT_MS", "5s"],
  ["AWS_REQUEST_TIMEOUT_MS", "10"],
  ["AWS_CONNECT_TIMEOUT_MS", "-1"],
  ["AWS_REGION", "us-east1"],
  ["AWS_REGION", "US-EAST-1"],
  ["AWS_DEFAULT_REGION", "everywhere"],
];
for (const [variable, value] of invalid) {
  test(`${variable}=${value} fails naming the variable`, () => {
    assert.throws(
      () => parseAwsConfig({ [variable]: value }),
      (error: unknown) =>
        error instanceof ConfigError && error.variable === variable && error.message.includes(variable),
    );
  });
}

test("the help names every variable the AWS backend depends on, the SDK's own included", () => {
  const names = AWS_ENV_HELP.map((line) => line.name).join(" ");
  for (const name of [
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_MAX_ATTEMPTS",
    "AWS_REQUEST_TIMEOUT_MS",
    "AWS_CONNECT_TIMEOUT_MS",
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_ENDPOINT_URL_RAM",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
  ]) {
    assert.ok(names.includes(name), `${name} is missing from AWS_ENV_HELP`);
  }
  const region = AWS_ENV_HELP.find((line) => line.name === "AWS_REGION");
  assert.match(region?.default ?? "", /us-east-1/);
  for (const line of AWS_ENV_HELP) {
    assert.ok(
      line.accepted !== "" && line.default !== "" && line.description !== "",
      `${line.name} has an empty help field`,
    );
  }
});

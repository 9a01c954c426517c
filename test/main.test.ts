// Start-up as an operator sees it: the real process, spawned with an
// environment. A bad value stops it with a message naming the variable; a
// good one serves the demo seed and stops cleanly on SIGTERM.
import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { test } from "node:test";
import { spawnGateway, waitUntilServing } from "./process/gateway-process.js";

/** The source under tsx, so these tests follow src/ without a build (test/process runs the build). */
function startGatewayProcess(env: Record<string, string>, args: string[] = []) {
  return spawnGateway("tsx-import", env, { args });
}

const badValues: [string, string, RegExp][] = [
  ["PORT", "abc", /PORT="abc" is not valid: expected an integer from 0 to 65535/],
  ["PORT", "70000", /PORT="70000"/],
  ["BACKEND", "gcp", /BACKEND="gcp" is not valid: expected one of fake, aws/],
  ["LOG_LEVEL", "loud", /LOG_LEVEL="loud"/],
  ["IDEMPOTENCY_STORE", "disk", /IDEMPOTENCY_STORE="disk"/],
  ["FAKE_ERROR_RATE", "2", /FAKE_ERROR_RATE="2"/],
  ["CORS_ALLOWED_ORIGINS", "console.example.com", /CORS_ALLOWED_ORIGINS="console\.example\.com" is not valid/],
  ["IDEMPOTENCY_TTL_SECONDS", "0", /IDEMPOTENCY_TTL_SECONDS="0"/],
  ["AWS_MAX_ATTEMPTS", "0", /AWS_MAX_ATTEMPTS="0"/],
  [
    "FAKE_ERROR_CODE",
    "BogusException",
    /FAKE_ERROR_CODE="BogusException" is not valid: expected an AWS error name the fake knows/,
  ],
  [
    "TLS_CERT_FILE",
    "/tmp/cert.pem",
    /TLS_KEY_FILE="" is not valid: expected a PEM file path, set together with TLS_CERT_FILE/,
  ],
  ["MAX_REQUEST_BYTES", "10", /MAX_REQUEST_BYTES="10"/],
  ["SHUTDOWN_GRACE_MS", "-1", /SHUTDOWN_GRACE_MS="-1"/],
];

for (const [name, value, message] of badValues) {
  test(`start-up refuses ${name}=${value} with a clear message`, async () => {
    const gateway = startGatewayProcess({ [name]: value, PORT: name === "PORT" ? value : "0" });
    assert.equal((await gateway.exited).code, 2);
    assert.match(gateway.output().stderr, message);
  });
}

test("start-up refuses a seed file that does not exist, naming it", async () => {
  const gateway = startGatewayProcess({ PORT: "0", FAKE_SEED: "/nonexistent/seed.json" });
  assert.equal((await gateway.exited).code, 2);
  assert.match(gateway.output().stderr, /\/nonexistent\/seed\.json/);
});

test("TLS files that cannot be read stop start-up, naming the variable", async () => {
  const gateway = startGatewayProcess({
    PORT: "0",
    TLS_CERT_FILE: "/nonexistent/cert.pem",
    TLS_KEY_FILE: "/nonexistent/key.pem",
  });
  assert.equal((await gateway.exited).code, 2);
  assert.match(gateway.output().stderr, /TLS_CERT_FILE="\/nonexistent\/cert\.pem" cannot be read/);
});

test("a port in use stops start-up with exit 2, naming HOST and PORT", async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const { port } = blocker.address() as AddressInfo;
  try {
    const gateway = startGatewayProcess({ PORT: String(port) });
    assert.equal((await gateway.exited).code, 2);
    assert.match(
      gateway.output().stderr,
      new RegExp(`cannot listen on HOST=127\\.0\\.0\\.1 PORT=${port}: .*EADDRINUSE`),
    );
  } finally {
    blocker.close();
  }
});

test("start-up refuses PORT equal to METRICS_PORT, naming both, instead of failing with EADDRINUSE", async () => {
  const gateway = startGatewayProcess({ PORT: "9464", METRICS_PORT: "9464" });
  assert.equal((await gateway.exited).code, 2);
  assert.match(gateway.output().stderr, /METRICS_PORT="9464" is not valid: expected .*other than PORT \(PORT=9464/);
});

test("start-up warns about a misspelt variable and a variable that does not apply, and serves", async (t) => {
  const gateway = startGatewayProcess({ PORT: "0", PROT: "9000", REDIS_URL: "redis://127.0.0.1:1" });
  t.after(() => gateway.kill());
  await waitUntilServing(gateway);
  const warnings = gateway
    .output()
    .stderr.split("\n")
    .filter((line) => line.includes('"level":"warn"'));
  assert.ok(
    warnings.some((line) => line.includes("PROT is not a setting; did you mean PORT?")),
    warnings.join("\n"),
  );
  assert.ok(
    warnings.some((line) =>
      line.includes("REDIS_URL is set but ignored: it applies only with IDEMPOTENCY_STORE=redis"),
    ),
    warnings.join("\n"),
  );
});

test("--help lists every variable", async () => {
  const gateway = startGatewayProcess({}, ["--help"]);
  assert.equal((await gateway.exited).code, 0);
  for (const name of ["HOST", "PORT", "BACKEND", "FAKE_SEED", "IDEMPOTENCY_STORE", "REDIS_URL", "LOG_LEVEL"]) {
    assert.match(gateway.output().stdout, new RegExp(`\\b${name}\\b`));
  }
  for (const heading of ["Server:", "Authentication and rate limit:", "Idempotency and Redis:", "Fake backend:"]) {
    assert.match(gateway.output().stdout, new RegExp(`^${heading}$`, "m"), "grouped by section");
  }
});

test("the embedded default serves the demo seed and stops on SIGTERM", async (t) => {
  const gateway = startGatewayProcess({ PORT: "0" });
  t.after(() => gateway.kill());
  const port = await waitUntilServing(gateway);
  const response = await fetch(`http://127.0.0.1:${port}/permission.v1.PermissionService/GetRamPermission`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/demo-permission" }),
  });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { permission: { name: string } };
  assert.equal(body.permission.name, "demo-permission");
  gateway.child.kill("SIGTERM");
  assert.deepEqual(await gateway.exited, { code: 0, signal: null }, gateway.output().stderr);
});

// docs/security.md's "Authentication" section, tested as written: each mode's
// start line is parsed as the gateway would parse it, its files are made
// under the names it uses, and its curl line is run (host and port aside)
// against a server with the authenticator that configuration builds. The
// API key command is run too, and its output used.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { parseApiKeyFile } from "../../src/auth/api-key/api-key-file.js";
import { createAuthenticationInterceptor } from "../../src/auth/authentication-interceptor.js";
import { AUTH_ENV_HELP, parseAuthConfig, type AuthConfig } from "../../src/auth/config.js";
import { createAuthenticator } from "../../src/auth/create-authenticator.js";
import type { CallerIdentity } from "../../src/auth/identity.js";
import { assertListenAllowed } from "../../src/auth/listen-policy.js";
import { createTlsMaterialSource } from "../../src/auth/tls-material.js";
import { systemClock } from "../../src/clock.js";
import { ConfigError } from "../../src/config-values.js";
import { silentLogger } from "../../src/logger.js";
import { skipWithoutCurl } from "../support/require-tool.js";
import { codeBlocks, CONFIGURATION_DOC, readDoc, sectionOf } from "../support/readme.js";
import { startAuthTestServer, type AuthTestServer } from "./support/auth-server.js";
import { createTestCa, skipWithoutOpenssl } from "./support/pki.js";

const run = promisify(execFile);
const security = await readDoc("docs/security.md");
const section = sectionOf(security, "## Authentication");

/** The lines of the sh blocks of `text`. */
function shLines(text: string): string[] {
  return codeBlocks(text, "sh")
    .flatMap((block) => block.split("\n"))
    .filter((line) => line.trim() !== "");
}

/** The VAR=value assignments of docs/security.md's `... npm start` line that contains `mark`. */
function startEnv(text: string, mark: string): Record<string, string> {
  const line = shLines(text).find((l) => l.includes(mark) && l.endsWith("npm start"));
  assert.ok(line !== undefined, `no "npm start" line with ${mark}`);
  const env: Record<string, string> = {};
  for (const word of line.replace(/ npm start$/, "").split(/\s+/)) {
    const [name = "", ...value] = word.split("=");
    assert.match(name, /^[A-Z][A-Z0-9_]*$/, `${word} in: ${line}`);
    env[name] = value.join("=");
  }
  return env;
}

/** Relative file variables are relative to where `npm start` runs: here, the test's dir. */
function inDir(env: Record<string, string>, dir: string): Record<string, string> {
  const files = ["TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CLIENT_CA_FILE", "API_KEYS_FILE", "JWT_JWKS_FILE"];
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, files.includes(k) && !isAbsolute(v) ? join(dir, v) : v]),
  );
}

function configOf(env: Record<string, string>): AuthConfig {
  const certFile = env["TLS_CERT_FILE"];
  const keyFile = env["TLS_KEY_FILE"];
  const config = parseAuthConfig(env, {
    tls: certFile === undefined || keyFile === undefined ? undefined : { certFile, keyFile },
  });
  // Its lines listen on 0.0.0.0: allowed because authentication is
  // on; bearer credentials without TLS get the cleartext warning.
  const tls = certFile !== undefined && keyFile !== undefined;
  const warning = assertListenAllowed({
    host: env["HOST"] ?? "127.0.0.1",
    authMode: config.authentication.mode,
    allowUnauthenticated: config.allowUnauthenticated,
    tls,
  });
  if (tls || config.authentication.mode === "mtls") assert.equal(warning, undefined);
  else assert.match(warning ?? "", /takes bearer credentials, .* serves cleartext/);
  return config;
}

/** Runs the curl line of `text` in `dir`, pointed at `server`; the caller the service saw. */
async function runCurl(
  text: string,
  dir: string,
  server: AuthTestServer,
  env: Record<string, string> = {},
): Promise<CallerIdentity> {
  const line = shLines(text).find((l) => l.startsWith("curl "));
  assert.ok(line !== undefined, "no curl line");
  const port = new URL(server.url).port;
  const script = line
    .replace("http://localhost:8080", server.url)
    .replace("https://localhost:8443", `https://localhost:${port}`);
  const { stdout } = await run("bash", ["-c", script], { cwd: dir, env: { ...process.env, ...env } });
  const response = JSON.parse(stdout) as { policy?: string };
  assert.ok(response.policy !== undefined, `curl answered ${stdout}`);
  return JSON.parse(response.policy) as CallerIdentity;
}

async function withServer(
  config: AuthConfig,
  tls: Parameters<typeof startAuthTestServer>[0]["tls"],
  body: (server: AuthTestServer) => Promise<void>,
) {
  const authenticator = await createAuthenticator(config, { logger: silentLogger, clock: systemClock });
  const server = await startAuthTestServer({
    interceptors: [createAuthenticationInterceptor(authenticator, silentLogger)],
    tls,
  });
  try {
    await body(server);
  } finally {
    await server.close();
    await authenticator.close();
  }
}

describe("docs/security.md: Authentication", () => {
  let dir = "";
  before(async () => void (dir = await mkdtemp(join(tmpdir(), "pg-readme-auth-"))));
  after(() => rm(dir, { recursive: true, force: true }));

  test("without authentication, HOST=0.0.0.0 stops start-up with docs/security.md's words", () => {
    const said = section.split("\n").find((line) => line.startsWith("permission-gateway: HOST="));
    const config = parseAuthConfig({}, { tls: undefined });
    assert.throws(
      () =>
        assertListenAllowed({
          host: "0.0.0.0",
          authMode: config.authentication.mode,
          allowUnauthenticated: config.allowUnauthenticated,
          tls: false,
        }),
      (error) => error instanceof ConfigError && `permission-gateway: ${error.message}` === said,
    );
    assert.match(
      assertListenAllowed({ host: "0.0.0.0", authMode: "none", allowUnauthenticated: true, tls: false }) ?? "",
      /anyone who can reach the port/,
    );
  });

  test("mutual TLS: the start line and the curl line, with certificates under docs/security.md's file names", async (t) => {
    if (skipWithoutOpenssl(t) || skipWithoutCurl(t)) return;
    const text = sectionOf(section, "### Mutual TLS");
    const [serverCa, clientCa] = await Promise.all([createTestCa(dir, "server-ca"), createTestCa(dir, "client-ca")]);
    const server = await serverCa.issue("gateway", { dns: ["localhost"], ips: ["127.0.0.1"], usage: "server" });
    const client = await clientCa.issue("deployer", {
      cn: "deployer",
      uris: ["spiffe://example.org/ns/payments/sa/deployer"],
      usage: "client",
    });
    const files: Record<string, Buffer> = {
      "server.pem": server.cert,
      "server.key": server.key,
      "client-ca.pem": clientCa.cert,
      "server-ca.pem": serverCa.cert,
      "client.pem": client.cert,
      "client.key": client.key,
    };
    for (const [name, contents] of Object.entries(files)) await writeFile(join(dir, name), contents);
    const env = inDir(startEnv(text, "AUTH_MODE=mtls"), dir);
    const config = configOf(env);
    const material = await createTlsMaterialSource(
      {
        certFile: env["TLS_CERT_FILE"] ?? "",
        keyFile: env["TLS_KEY_FILE"] ?? "",
        clientCaFile: env["TLS_CLIENT_CA_FILE"],
        reloadIntervalMs: 0,
      },
      silentLogger,
    );
    await withServer(config, material.current(), async (running) => {
      assert.deepEqual(await runCurl(text, dir, running), {
        id: "spiffe://example.org/ns/payments/sa/deployer",
        groups: [],
        authMode: "mtls",
      });
    });
    material.close();
  });

  test("JWT: the URL line parses as written; the file line and its curl line work with a token of that issuer and audience", async (t) => {
    if (skipWithoutCurl(t)) return;
    const text = sectionOf(section, "### JWT bearer tokens");
    const byUrl = configOf(startEnv(text, "JWT_JWKS_URL=")).authentication;
    assert.ok(byUrl.mode === "jwt" && byUrl.jwks.kind === "url");
    assert.equal(byUrl.jwks.url.href, "https://idp.example.com/.well-known/jwks.json");

    const env = inDir(startEnv(text, "JWT_JWKS_FILE="), dir);
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    await writeFile(
      env["JWT_JWKS_FILE"] ?? "",
      JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "2026-01", alg: "ES256" }] }),
    );
    const token = await new SignJWT({ groups: ["payments"] })
      .setProtectedHeader({ alg: "ES256", kid: "2026-01" })
      .setIssuer(env["JWT_ISSUER"] ?? "")
      .setAudience(env["JWT_AUDIENCE"] ?? "")
      .setSubject("payments-ci")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    await withServer(configOf(env), undefined, async (server) => {
      assert.deepEqual(await runCurl(text, dir, server, { TOKEN: token }), {
        id: "payments-ci",
        groups: ["payments"],
        authMode: "jwt",
      });
    });
  });

  test("API keys: the command makes a key and its line; the file example parses; the start and curl lines work", async (t) => {
    if (skipWithoutOpenssl(t) || skipWithoutCurl(t)) return;
    const text = sectionOf(section, "### API keys");
    const command = [...text.matchAll(/```sh\n([\s\S]*?)```/g)]
      .map((m) => m[1] ?? "")
      .find((block) => block.includes("openssl rand"));
    assert.ok(command !== undefined, "the key command");
    const { stdout } = await run("bash", ["-c", command]);
    const key = /^hand to the caller: +(pgk_[0-9a-f]{64})$/m.exec(stdout)?.[1];
    const line = /^add to API_KEYS_FILE: (.+)$/m.exec(stdout)?.[1];
    assert.ok(key !== undefined && line !== undefined, stdout);

    const example = /```\n(# sha256 of the key[\s\S]*?)```/.exec(text)?.[1];
    assert.ok(example !== undefined, "the key file example");
    assert.deepEqual(
      [...parseApiKeyFile(example).entries.values()].map((entry) => entry.caller),
      [{ id: "payments-ci", groups: ["payments", "deployers"], authMode: "api-key" }],
    );

    const env = inDir(startEnv(text, "AUTH_MODE=api-key"), dir);
    // The example's line and the new one: two keys of one caller, as in a rotation.
    await writeFile(env["API_KEYS_FILE"] ?? "", `${example}${line}\n`);
    await withServer(configOf(env), undefined, async (server) => {
      assert.deepEqual(await runCurl(text, dir, server, { KEY: key }), {
        id: "payments-ci",
        groups: ["payments", "deployers"],
        authMode: "api-key",
      });
    });
  });

  test("the rate-limit line parses as written", () => {
    const config = configOf(startEnv(sectionOf(security, "## Per-caller rate limit"), "RATE_LIMIT_CALLS="));
    assert.deepEqual(config.rateLimit, { calls: 10, windowSeconds: 1 });
    assert.equal(config.authentication.mode, "api-key");
  });

  test("the configuration table has a row for every authentication and rate-limit variable", async () => {
    const table = await readDoc(CONFIGURATION_DOC);
    for (const { name } of AUTH_ENV_HELP)
      assert.ok(table.includes(`| \`${name}\` |`), `${name} is missing from the table of ${CONFIGURATION_DOC}`);
  });
});

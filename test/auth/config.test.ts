// parseAuthConfig: each mode's variables, the errors that name the variable
// and what it accepts, and help lines for every variable it reads.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AUTH_ENV_HELP, parseAuthConfig, type AuthConfig } from "../../src/auth/config.js";
import { ConfigError, type Env } from "../../src/config-values.js";

const tls = { certFile: "server.pem", keyFile: "server.key" };
const parse = (env: Env, serverTls: typeof tls | undefined = undefined): AuthConfig =>
  parseAuthConfig(env, { tls: serverTls });

function assertConfigError(
  env: Env,
  variable: string,
  accepted: RegExp,
  serverTls: typeof tls | undefined = undefined,
): void {
  assert.throws(
    () => parse(env, serverTls),
    (error) => {
      assert.ok(error instanceof ConfigError, `${JSON.stringify(env)}: ${String(error)}`);
      assert.equal(error.variable, variable, JSON.stringify(env));
      assert.match(error.accepted, accepted, JSON.stringify(env));
      return true;
    },
  );
}

const urlBase = { AUTH_MODE: "jwt", JWT_ISSUER: "https://idp.example.com/", JWT_AUDIENCE: "permission-gateway" };
const jwtBase = { ...urlBase, JWT_JWKS_FILE: "jwks.json" };

describe("parseAuthConfig", () => {
  test("defaults: no authentication, loopback only, files checked every 5 s, no rate limit", () => {
    assert.deepEqual(parse({}), {
      authentication: { mode: "none" },
      allowUnauthenticated: false,
      reloadIntervalMs: 5_000,
      rateLimit: undefined,
    });
  });

  test("mtls needs the server's TLS and a client CA bundle; the identity order is configurable", () => {
    assert.deepEqual(parse({ AUTH_MODE: "mtls", TLS_CLIENT_CA_FILE: "clients.pem" }, tls).authentication, {
      mode: "mtls",
      clientCaFile: "clients.pem",
      identityFrom: ["spiffe", "dns", "cn"],
    });
    assert.deepEqual(
      parse({ AUTH_MODE: "mtls", TLS_CLIENT_CA_FILE: "c.pem", MTLS_IDENTITY_FROM: "cn, dns" }, tls).authentication,
      {
        mode: "mtls",
        clientCaFile: "c.pem",
        identityFrom: ["cn", "dns"],
      },
    );
    assertConfigError(
      { AUTH_MODE: "mtls", TLS_CLIENT_CA_FILE: "c.pem" },
      "AUTH_MODE",
      /TLS_CERT_FILE and TLS_KEY_FILE/,
    );
    assertConfigError({ AUTH_MODE: "mtls" }, "TLS_CLIENT_CA_FILE", /PEM bundle/, tls);
    for (const order of ["spiffe,uri", "cn,cn", "dns,,cn"]) {
      assertConfigError(
        { AUTH_MODE: "mtls", TLS_CLIENT_CA_FILE: "c.pem", MTLS_IDENTITY_FROM: order },
        "MTLS_IDENTITY_FROM",
        /spiffe, dns, cn/,
        tls,
      );
    }
  });

  test("jwt: a JWKS file or an https URL, issuer and audience required, asymmetric algorithms only, never none", () => {
    assert.deepEqual(parse(jwtBase).authentication, {
      mode: "jwt",
      jwks: { kind: "file", path: "jwks.json" },
      issuer: "https://idp.example.com/",
      audience: ["permission-gateway"],
      algorithms: ["RS256", "ES256"],
      clockSkewSeconds: 30,
      identityClaim: "sub",
      groupsClaim: "groups",
    });
    const url = parse({
      ...urlBase,
      JWT_JWKS_URL: "https://idp.example.com/.well-known/jwks.json",
      JWT_AUDIENCE: "a, b",
      JWT_ALGORITHMS: "EdDSA,PS256",
      JWT_CLOCK_SKEW_SECONDS: "0",
      JWT_IDENTITY_CLAIM: "client_id",
      JWT_GROUPS_CLAIM: "scope",
      JWT_JWKS_COOLDOWN_SECONDS: "5",
      JWT_JWKS_REFRESH_SECONDS: "60",
    }).authentication;
    assert.ok(url.mode === "jwt");
    assert.deepEqual(url.jwks, {
      kind: "url",
      url: new URL("https://idp.example.com/.well-known/jwks.json"),
      cooldownMs: 5_000,
      refreshIntervalMs: 60_000,
    });
    assert.deepEqual(
      [url.audience, url.algorithms, url.clockSkewSeconds, url.identityClaim, url.groupsClaim],
      [["a", "b"], ["EdDSA", "PS256"], 0, "client_id", "scope"],
    );

    const table: [Env, string, RegExp][] = [
      [{ ...jwtBase, JWT_ALGORITHMS: "none" }, "JWT_ALGORITHMS", /never none/],
      [{ ...jwtBase, JWT_ALGORITHMS: "ES256,none" }, "JWT_ALGORITHMS", /never none/],
      [{ ...jwtBase, JWT_ALGORITHMS: "HS256" }, "JWT_ALGORITHMS", /RS256, .*Ed25519/],
      [{ ...jwtBase, JWT_ALGORITHMS: "," }, "JWT_ALGORITHMS", /comma-separated/],
      [{ ...jwtBase, JWT_ISSUER: "" }, "JWT_ISSUER", /required with AUTH_MODE=jwt/],
      [{ ...jwtBase, JWT_AUDIENCE: "" }, "JWT_AUDIENCE", /required with AUTH_MODE=jwt/],
      [{ ...jwtBase, JWT_AUDIENCE: "a,,b" }, "JWT_AUDIENCE", /comma-separated/],
      [{ ...jwtBase, JWT_CLOCK_SKEW_SECONDS: "301" }, "JWT_CLOCK_SKEW_SECONDS", /0 to 300/],
      [{ ...jwtBase, JWT_JWKS_URL: "https://idp.example.com/jwks" }, "JWT_JWKS_FILE+JWT_JWKS_URL", /exactly one/],
      [{ ...urlBase }, "JWT_JWKS_FILE", /or JWT_JWKS_URL/],
      [{ ...urlBase, JWT_JWKS_URL: "http://idp.example.com/jwks" }, "JWT_JWKS_URL", /https:\/\//],
      [{ ...urlBase, JWT_JWKS_URL: "not a url" }, "JWT_JWKS_URL", /https:\/\//],
      [
        { ...jwtBase, JWT_JWKS_COOLDOWN_SECONDS: "5" },
        "JWT_JWKS_COOLDOWN_SECONDS",
        /applies only with JWT_JWKS_URL set/,
      ],
    ];
    for (const [env, variable, accepted] of table) assertConfigError(env, variable, accepted);
  });

  test("api-key needs API_KEYS_FILE", () => {
    assert.deepEqual(parse({ AUTH_MODE: "api-key", API_KEYS_FILE: "keys" }).authentication, {
      mode: "api-key",
      keysFile: "keys",
    });
    assertConfigError({ AUTH_MODE: "api-key" }, "API_KEYS_FILE", /required with AUTH_MODE=api-key/);
  });

  test("a variable of another mode is an error, so nobody believes a check is on that is not", () => {
    assertConfigError(
      { API_KEYS_FILE: "keys" },
      "API_KEYS_FILE",
      /^unset: it applies only with AUTH_MODE=api-key, and here AUTH_MODE=none/,
    );
    assertConfigError({ AUTH_MODE: "api-key", API_KEYS_FILE: "k", JWT_ISSUER: "x" }, "JWT_ISSUER", /AUTH_MODE=jwt/);
    assertConfigError({ ...jwtBase, TLS_CLIENT_CA_FILE: "c.pem" }, "TLS_CLIENT_CA_FILE", /AUTH_MODE=mtls/);
    assertConfigError({ AUTH_MODE: "jwts" }, "AUTH_MODE", /none, mtls, jwt, api-key/);
  });

  test("ALLOW_UNAUTHENTICATED only means something without authentication", () => {
    assert.equal(parse({ ALLOW_UNAUTHENTICATED: "true" }).allowUnauthenticated, true);
    assertConfigError(
      { ...jwtBase, ALLOW_UNAUTHENTICATED: "true" },
      "ALLOW_UNAUTHENTICATED",
      /applies only with AUTH_MODE=none/,
    );
    assertConfigError({ ALLOW_UNAUTHENTICATED: "yes" }, "ALLOW_UNAUTHENTICATED", /true, false/);
  });

  test("the rate limit: off by default and with 0, else calls per window", () => {
    assert.deepEqual(parse({ RATE_LIMIT_CALLS: "20" }).rateLimit, { calls: 20, windowSeconds: 1 });
    assert.deepEqual(parse({ RATE_LIMIT_CALLS: "600", RATE_LIMIT_WINDOW_SECONDS: "60" }).rateLimit, {
      calls: 600,
      windowSeconds: 60,
    });
    assert.equal(parse({ RATE_LIMIT_CALLS: "0" }).rateLimit, undefined);
    assertConfigError({ RATE_LIMIT_CALLS: "-1" }, "RATE_LIMIT_CALLS", /0 to 1000000/);
    assertConfigError({ RATE_LIMIT_WINDOW_SECONDS: "0" }, "RATE_LIMIT_WINDOW_SECONDS", /1 to 86400/);
    assert.equal(parse({ AUTH_RELOAD_INTERVAL_MS: "0" }).reloadIntervalMs, 0);
  });

  test("every variable it reads has a help line", () => {
    const read = new Set<string>();
    const recording = (env: Record<string, string>): Env =>
      new Proxy(env, { get: (target, name) => (typeof name === "string" && read.add(name), target[name as string]) });
    for (const env of [
      {},
      { AUTH_MODE: "mtls", TLS_CLIENT_CA_FILE: "c.pem" },
      jwtBase,
      { ...urlBase, JWT_JWKS_URL: "https://idp.example.com/jwks" },
      { AUTH_MODE: "api-key", API_KEYS_FILE: "k" },
    ]) {
      parse(recording(env), tls);
    }
    const documented = new Set(AUTH_ENV_HELP.map((line) => line.name));
    for (const name of read) assert.ok(documented.has(name), `${name} has no help line`);
    assert.equal(documented.size, AUTH_ENV_HELP.length, "no variable is documented twice");
  });
});

// JWT bearer tokens through a real server and client: every way a token can
// be wrong gets its own reason, the JWKS file reloads, and the JWKS URL (a
// real HTTPS server with a test CA) is cached, refreshed on an unknown kid
// within a cooldown, and kept when the provider is down.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { Code, type Transport } from "@connectrpc/connect";
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
} from "jose";
import { createAuthenticationInterceptor } from "../../src/auth/authentication-interceptor.js";
import { createFileJwks, createRemoteJwks, type JwtKeys } from "../../src/auth/jwt/jwks.js";
import { createJwtAuthenticator, type JwtRules } from "../../src/auth/jwt/jwt-authenticator.js";
import type { Clock } from "../../src/clock.js";
import { silentLogger, type Logger } from "../../src/logger.js";
import { freePort } from "../support/redis-server.js";
import {
  callAs,
  connectTransport,
  startAuthTestServer,
  type AuthTestServer,
  type CallOutcome,
} from "./support/auth-server.js";
import { fetchTrusting, startJwksServer, type JwksServer } from "./support/jwks-server.js";
import {
  createTestCa,
  opensslAvailable,
  skipWithoutOpenssl,
  type IssuedCertificate,
  type TestCa,
} from "./support/pki.js";
import { createRecordingLogger } from "../support/recording-logger.js";

const ISSUER = "https://idp.example.com/";
const AUDIENCE = "permission-gateway";
/** The gateway's clock: fixed, so exp/nbf cases do not depend on when the test runs. */
const NOW = 1_900_000_000;
const clock: Clock = { now: () => NOW * 1000 };
const rules: JwtRules = {
  issuer: ISSUER,
  audience: [AUDIENCE, "another-audience"],
  algorithms: ["ES256", "RS256"],
  clockSkewSeconds: 30,
  identityClaim: "sub",
  groupsClaim: "groups",
};

interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function signingKey(kid: string, alg: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

const jwksOf = (...keys: SigningKey[]): JSONWebKeySet => ({ keys: keys.map((k) => k.jwk) });

/** Valid claims, with overrides; an override of undefined leaves the claim out. */
function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const all = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "alice",
    groups: ["payments", "auditors"],
    iat: NOW,
    exp: NOW + 300,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

async function sign(
  key: SigningKey,
  payload: JWTPayload = claims(),
  header: { kid?: string; alg?: string } = {},
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

function unsignedToken(payload: JWTPayload): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", kid: "k1" })}.${part(payload)}.`;
}

async function startJwtServer(keys: JwtKeys, overrides: Partial<JwtRules> = {}): Promise<AuthTestServer> {
  const authenticator = createJwtAuthenticator({ ...rules, ...overrides, keys, clock });
  return startAuthTestServer({ interceptors: [createAuthenticationInterceptor(authenticator, silentLogger)] });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function assertRefused(outcome: CallOutcome, reason: string, label: string): void {
  assert.ok(!outcome.ok, `${label}: must be refused`);
  assert.equal(outcome.code, Code.Unauthenticated, label);
  assert.equal(outcome.reason, reason, label);
  assert.equal(outcome.domain, "permission-gateway", label);
}

describe("JWT bearer, JWKS file", () => {
  let dir = "";
  let k1: SigningKey, k2: SigningKey, k3: SigningKey, impostor: SigningKey, es384: SigningKey;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pg-jwt-"));
    [k1, k2, k3, es384] = await Promise.all([
      signingKey("k1", "ES256"),
      signingKey("k2", "RS256"),
      signingKey("k3", "ES256"),
      signingKey("k4", "ES384"),
    ]);
    impostor = await signingKey("k1", "ES256");
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A gateway verifying with a JWKS file holding `jwks`, for the body. */
  async function withFileKeys(
    jwks: JSONWebKeySet,
    options: { rules?: Partial<JwtRules>; reloadIntervalMs?: number; logger?: Logger },
    body: (setup: { path: string; keys: JwtKeys; server: AuthTestServer; transport: Transport }) => Promise<void>,
  ): Promise<void> {
    const path = join(dir, `jwks-${randomUUID()}.json`);
    await writeFile(path, JSON.stringify(jwks));
    const keys = await createFileJwks(
      { path, reloadIntervalMs: options.reloadIntervalMs ?? 0 },
      options.logger ?? silentLogger,
    );
    const server = await startJwtServer(keys, options.rules);
    try {
      await body({ path, keys, server, transport: connectTransport(server.url) });
    } finally {
      await server.close();
      keys.close();
    }
  }

  test("accepted: the caller is sub, the groups an array or a space-separated string; x-caller-id is ignored", async () => {
    await withFileKeys(jwksOf(k1, k2), {}, async ({ transport }) => {
      assert.deepEqual(await callAs(transport, { ...bearer(await sign(k1)), "x-caller-id": "mallory" }), {
        ok: true,
        caller: { id: "alice", groups: ["payments", "auditors"], authMode: "jwt" },
      });
      const rsa = await sign(
        k2,
        claims({ sub: "bob", groups: " payments  deployers ", aud: ["x", "another-audience"] }),
      );
      assert.deepEqual(await callAs(transport, bearer(rsa)), {
        ok: true,
        caller: { id: "bob", groups: ["payments", "deployers"], authMode: "jwt" },
      });
      const noGroups = await sign(k1, claims({ groups: undefined }));
      assert.deepEqual(await callAs(transport, bearer(noGroups)), {
        ok: true,
        caller: { id: "alice", groups: [], authMode: "jwt" },
      });
      // Inside the clock skew: just expired, about to become valid.
      const skewed = await sign(k1, claims({ exp: NOW - 20, nbf: NOW + 20 }));
      assert.equal((await callAs(transport, bearer(skewed))).ok, true);
    });
  });

  test("missing, malformed, expired, not yet valid, wrong issuer, audience, algorithm, key or signature: each its reason", async () => {
    await withFileKeys(jwksOf(k1, k2), {}, async ({ server, transport }) => {
      const hs256 = await new SignJWT(claims())
        .setProtectedHeader({ alg: "HS256", kid: "k1" })
        .sign(new TextEncoder().encode("a-shared-secret-of-32-bytes-long!"));
      const table: [string, Record<string, string>, string][] = [
        ["no authorization header", {}, "CREDENTIALS_MISSING"],
        ["another scheme", { authorization: "Basic YWxpY2U6cGFzc3dvcmQ=" }, "CREDENTIALS_MALFORMED"],
        ["Bearer and nothing", { authorization: "Bearer " }, "CREDENTIALS_MALFORMED"],
        ["not a JWT", bearer("not-a-jwt"), "TOKEN_MALFORMED"],
        ["a JWT cut short", bearer((await sign(k1)).split(".").slice(0, 2).join(".")), "TOKEN_MALFORMED"],
        ["expired beyond the skew", bearer(await sign(k1, claims({ exp: NOW - 31 }))), "TOKEN_EXPIRED"],
        ["not yet valid beyond the skew", bearer(await sign(k1, claims({ nbf: NOW + 31 }))), "TOKEN_NOT_YET_VALID"],
        [
          "another issuer",
          bearer(await sign(k1, claims({ iss: "https://evil.example.com/" }))),
          "TOKEN_ISSUER_MISMATCH",
        ],
        ["no issuer", bearer(await sign(k1, claims({ iss: undefined }))), "TOKEN_ISSUER_MISMATCH"],
        ["another audience", bearer(await sign(k1, claims({ aud: "some-other-service" }))), "TOKEN_AUDIENCE_MISMATCH"],
        ["no exp (would never expire)", bearer(await sign(k1, claims({ exp: undefined }))), "TOKEN_CLAIM_INVALID"],
        ["no sub", bearer(await sign(k1, claims({ sub: undefined }))), "TOKEN_CLAIM_INVALID"],
        ["groups not strings", bearer(await sign(k1, claims({ groups: [1, 2] }))), "TOKEN_CLAIM_INVALID"],
        ["alg none", bearer(unsignedToken(claims())), "TOKEN_ALGORITHM_NOT_ALLOWED"],
        ["alg HS256 (a shared secret)", bearer(hs256), "TOKEN_ALGORITHM_NOT_ALLOWED"],
        ["alg ES384, not on the list", bearer(await sign(es384)), "TOKEN_ALGORITHM_NOT_ALLOWED"],
        [
          "a crit header naming an unknown extension",
          bearer(
            await new SignJWT(claims())
              .setProtectedHeader({ alg: k1.alg, kid: k1.kid, crit: ["exp-ext"], "exp-ext": true })
              .sign(k1.privateKey, { crit: { "exp-ext": true } }),
          ),
          "TOKEN_CRIT_UNSUPPORTED",
        ],
        ["a kid the JWKS does not have", bearer(await sign(k3)), "TOKEN_KEY_UNKNOWN"],
        ["signed by another key under kid k1", bearer(await sign(impostor)), "TOKEN_SIGNATURE_INVALID"],
      ];
      for (const [label, headers, reason] of table) {
        const outcome = await callAs(transport, headers);
        assertRefused(outcome, reason, label);
        // Never the credential in the answer.
        const credential = headers["authorization"]?.replace(/^\S+ /, "");
        if (credential) assert.ok(!JSON.stringify(outcome).includes(credential), `${label}: the token leaked`);
      }
      assert.equal(server.handled(), 0, "no refused call reached the service");
    });
  });

  test("a token without kid is checked against every key that fits its alg", async () => {
    await withFileKeys(jwksOf(k1, k3), {}, async ({ transport }) => {
      const withoutKid = (key: SigningKey) =>
        new SignJWT(claims()).setProtectedHeader({ alg: "ES256" }).sign(key.privateKey);
      assert.equal((await callAs(transport, bearer(await withoutKid(k3)))).ok, true);
      assert.equal((await callAs(transport, bearer(await withoutKid(k1)))).ok, true);
      assertRefused(
        await callAs(transport, bearer(await withoutKid(impostor))),
        "TOKEN_SIGNATURE_INVALID",
        "no kid, no key fits",
      );
    });
  });

  test("another identity claim and groups claim", async () => {
    await withFileKeys(
      jwksOf(k1),
      { rules: { identityClaim: "client_id", groupsClaim: "scope" } },
      async ({ transport }) => {
        const token = await sign(k1, claims({ client_id: "payments-ci", scope: "lambda.write ram.read" }));
        assert.deepEqual(await callAs(transport, bearer(token)), {
          ok: true,
          caller: { id: "payments-ci", groups: ["lambda.write", "ram.read"], authMode: "jwt" },
        });
      },
    );
  });

  test("the JWKS file reloads: a new key works, a removed key stops, a broken file keeps the last keys", async () => {
    const logger = createRecordingLogger();
    await withFileKeys(jwksOf(k1), { reloadIntervalMs: 50, logger }, async ({ path, keys, transport }) => {
      assertRefused(await callAs(transport, bearer(await sign(k3))), "TOKEN_KEY_UNKNOWN", "k3 before the rotation");
      // Polled: the file changes, the log says so, the new key works.
      await writeFile(path, JSON.stringify(jwksOf(k1, k3)));
      await logger.waitFor((line) => line.message === "JWKS reloaded");
      assert.equal((await callAs(transport, bearer(await sign(k3)))).ok, true);
      // The old key is removed: its tokens stop working (SIGHUP path).
      await writeFile(path, JSON.stringify(jwksOf(k3)));
      await keys.reload();
      assertRefused(await callAs(transport, bearer(await sign(k1))), "TOKEN_KEY_UNKNOWN", "k1 after removal");
      // A broken write keeps what was there.
      await writeFile(path, '{"keys": [');
      await keys.reload();
      await logger.waitFor(
        (line) => line.level === "error" && line.message === "JWKS changed but is not valid, keeping the previous one",
      );
      assert.equal((await callAs(transport, bearer(await sign(k3)))).ok, true);
    });
  });

  test("a JWKS file with a private key is refused at start-up", async () => {
    const path = join(dir, "private.json");
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    await writeFile(path, JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: "oops" }] }));
    await assert.rejects(
      createFileJwks({ path, reloadIntervalMs: 0 }, silentLogger),
      /JWT_JWKS_FILE=.*key 0 \(kid oops\) is a private or secret key/,
    );
  });

  test("algorithms must be a non-empty list without none", () => {
    const keys: JwtKeys = {
      getKey: () => Promise.reject(new Error("unused")),
      reload: () => Promise.resolve(),
      close: () => {},
    };
    assert.throws(
      () => createJwtAuthenticator({ ...rules, algorithms: [], keys, clock }),
      /non-empty list without none/,
    );
    assert.throws(
      () => createJwtAuthenticator({ ...rules, algorithms: ["ES256", "none"], keys, clock }),
      /without none/,
    );
  });
});

describe("JWT bearer, JWKS URL over HTTPS", () => {
  let dir = "";
  let ca: TestCa | undefined;
  let serverCert: IssuedCertificate | undefined;
  let k1: SigningKey, k2: SigningKey;
  before(async () => {
    [k1, k2] = await Promise.all([signingKey("k1", "ES256"), signingKey("k2", "ES256")]);
    if (!opensslAvailable()) return;
    dir = await mkdtemp(join(tmpdir(), "pg-jwks-"));
    ca = await createTestCa(dir, "idp-ca");
    serverCert = await ca.issue("idp", { cn: "idp", ips: ["127.0.0.1"], usage: "server" });
  });
  after(() => (dir === "" ? undefined : rm(dir, { recursive: true, force: true })));

  interface RemoteSetup {
    /** The identity provider; undefined when `url` pointed elsewhere. */
    readonly idp: JwksServer | undefined;
    readonly keys: JwtKeys;
    readonly transport: Transport;
  }

  /** A gateway whose keys come from a fresh JWKS server holding k1 (or from `url`), for the body. */
  async function withRemoteKeys(
    options: { cooldownMs: number; url?: URL; logger?: Logger },
    body: (setup: RemoteSetup) => Promise<void>,
  ): Promise<void> {
    assert.ok(ca !== undefined && serverCert !== undefined);
    const idp = options.url === undefined ? await startJwksServer(serverCert, jwksOf(k1)) : undefined;
    const url = options.url ?? idp?.url ?? assert.fail("no JWKS URL");
    const fetch = fetchTrusting(ca.cert);
    const keys = createRemoteJwks(
      { url, cooldownMs: options.cooldownMs, refreshIntervalMs: 3_600_000, fetch },
      options.logger ?? silentLogger,
    );
    const server = await startJwtServer(keys);
    try {
      await idp?.fetched(1); // the fetch at start
      await body({ idp, keys, transport: connectTransport(server.url) });
    } finally {
      await server.close();
      keys.close();
      await idp?.close();
    }
  }

  test("fetched once at start, cached; an unknown kid refetches it (cooldown 0) and the new key works", async (t) => {
    if (skipWithoutOpenssl(t)) return;
    await withRemoteKeys({ cooldownMs: 0 }, async ({ idp, transport }) => {
      assert.ok(idp !== undefined);
      for (let i = 0; i < 3; i++) assert.equal((await callAs(transport, bearer(await sign(k1)))).ok, true);
      assert.equal(idp.fetches(), 1, "known keys are served from the cache");
      idp.setKeys(jwksOf(k1, k2));
      assert.deepEqual(await callAs(transport, bearer(await sign(k2, claims({ sub: "carol" })))), {
        ok: true,
        caller: { id: "carol", groups: ["payments", "auditors"], authMode: "jwt" },
      });
      assert.equal(idp.fetches(), 2, "one refetch for the unknown kid");
    });
  });

  test("a flood of unknown kids within the cooldown does not hammer the provider", async (t) => {
    if (skipWithoutOpenssl(t)) return;
    await withRemoteKeys({ cooldownMs: 600_000 }, async ({ idp, transport }) => {
      const made: Promise<string>[] = [];
      for (let i = 0; i < 20; i++) made.push(sign(k2, claims(), { kid: `made-up-${i}` }));
      const outcomes = await Promise.all((await Promise.all(made)).map((token) => callAs(transport, bearer(token))));
      for (const outcome of outcomes) assertRefused(outcome, "TOKEN_KEY_UNKNOWN", "made-up kid");
      assert.equal(idp?.fetches(), 1, "no refetch inside the cooldown");
    });
  });

  test("the provider down: before the first fetch UNAVAILABLE; after it, the last keys keep working", async (t) => {
    if (skipWithoutOpenssl(t)) return;
    const logger = createRecordingLogger();
    const nowhere = new URL(`https://127.0.0.1:${await freePort()}/.well-known/jwks.json`);
    await withRemoteKeys({ cooldownMs: 0, url: nowhere, logger }, async ({ transport }) => {
      const outcome = await callAs(transport, bearer(await sign(k1)));
      assert.ok(!outcome.ok);
      assert.equal(outcome.code, Code.Unavailable);
      assert.equal(outcome.reason, "AUTHENTICATION_UNAVAILABLE");
      assert.ok(logger.lines.some((line) => line.level === "warn" && line.message.startsWith("JWKS fetch failed")));
    });
    await withRemoteKeys({ cooldownMs: 0, logger }, async ({ idp, keys, transport }) => {
      await idp?.close();
      await keys.reload(); // the scheduled refresh, now failing
      assert.equal((await callAs(transport, bearer(await sign(k1)))).ok, true);
    });
  });

  test("in production the global fetch trusts a private CA through NODE_EXTRA_CA_CERTS, and only then", async (t) => {
    if (skipWithoutOpenssl(t) || ca === undefined || serverCert === undefined) return;
    const idp = await startJwksServer(serverCert, jwksOf(k1));
    try {
      const jwksModule = pathToFileURL(join(import.meta.dirname, "../../src/auth/jwt/jwks.ts")).href;
      const script = [
        `import { createRemoteJwks } from ${JSON.stringify(jwksModule)};`,
        `const keys = createRemoteJwks({ url: new URL(${JSON.stringify(idp.url.href)}), cooldownMs: 0, refreshIntervalMs: 60000 },`,
        `  { debug() {}, info() {}, warn() {}, error() {} });`,
        `try { await keys.getKey({ alg: "ES256", kid: "k1" }); console.log("trusted"); }`,
        `catch (error) { console.log("refused: " + error.name); }`,
        `keys.close();`,
      ].join("\n");
      const run = async (env: NodeJS.ProcessEnv) =>
        (
          await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { env })
        ).stdout.trim();
      const environment = { ...process.env };
      delete environment["NODE_EXTRA_CA_CERTS"];
      assert.equal(await run({ ...environment, NODE_EXTRA_CA_CERTS: ca.certPath }), "trusted");
      assert.equal(await run(environment), "refused: AuthenticationUnavailableError");
    } finally {
      await idp.close();
    }
  });
});

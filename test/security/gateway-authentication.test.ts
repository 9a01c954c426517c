// Authentication in front of the whole gateway, as main.ts composes it: a
// call with no or bad credentials is UNAUTHENTICATED and reaches nothing
// else; with authentication on, the caller's identity (never x-caller-id)
// scopes idempotency records, so two callers' tokens never meet.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import type { Gateway } from "../../src/gateway.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { createTestCa, skipWithoutOpenssl } from "../auth/support/pki.js";

const sha256 = (key: string): string => createHash("sha256").update(key).digest("hex");

async function reasonOf(call: Promise<unknown>): Promise<{ code: Code; reason: string | undefined }> {
  try {
    await call;
  } catch (error) {
    const e = ConnectError.from(error);
    return { code: e.code, reason: e.findDetails(ErrorInfoSchema)[0]?.reason };
  }
  assert.fail("the call succeeded");
}

describe("API keys through the gateway", () => {
  let dir: string;
  let gateway: Gateway;
  const alice = [randomBytes(24).toString("base64url"), randomBytes(24).toString("base64url")];
  const bob = randomBytes(24).toString("base64url");
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pg-gw-auth-"));
    const keys = join(dir, "keys");
    await writeFile(
      keys,
      `# two keys for alice during a rotation\n${sha256(alice[0]!)} alice\n${sha256(alice[1]!)} alice\n${sha256(bob)} bob\n`,
    );
    gateway = await startConfiguredGateway({ AUTH_MODE: "api-key", API_KEYS_FILE: keys });
  });
  after(async () => {
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  const client = (key?: string, extra: Record<string, string> = {}, kind: "connect" | "grpc" = "connect") => {
    const headers: Record<string, string> = {
      ...extra,
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    };
    const transport =
      kind === "grpc"
        ? createGrpcTransport({
            baseUrl: gateway.url,
            interceptors: [
              (next) => (req) => (Object.entries(headers).forEach(([k, v]) => req.header.set(k, v)), next(req)),
            ],
          })
        : createConnectTransport({
            baseUrl: gateway.url,
            httpVersion: "1.1",
            interceptors: [
              (next) => (req) => (Object.entries(headers).forEach(([k, v]) => req.header.set(k, v)), next(req)),
            ],
          });
    return createClient(PermissionService, transport);
  };

  test("no credentials, and a key nobody has, are UNAUTHENTICATED in both protocols", async () => {
    for (const kind of ["connect", "grpc"] as const) {
      assert.deepEqual(await reasonOf(client(undefined, {}, kind).listRamPermissions({})), {
        code: Code.Unauthenticated,
        reason: "CREDENTIALS_MISSING",
      });
      assert.deepEqual(await reasonOf(client("not-a-key", {}, kind).listRamPermissions({})), {
        code: Code.Unauthenticated,
        reason: "API_KEY_UNKNOWN",
      });
    }
  });

  test("an unauthenticated mutation reaches nothing: the statement is not added", async () => {
    await reasonOf(
      client("nope").addLambdaPermission({
        functionName: "demo",
        statementId: "never",
        action: "lambda:InvokeFunction",
        principal: "s3.amazonaws.com",
      }),
    );
    const policy = await client(bob)
      .getLambdaPolicy({ functionName: "demo" })
      .catch((error: unknown) => ConnectError.from(error));
    assert.ok(policy instanceof ConnectError && policy.code === Code.NotFound, "demo still has no policy");
  });

  test("both of alice's keys work during a rotation", async () => {
    for (const key of alice) await client(key).listRamPermissions({});
  });

  test("two callers' records never meet, whatever x-caller-id says", async () => {
    const token = "shared-token-1";
    const aliceAdd = await client(alice[0]).addLambdaPermission({
      functionName: "demo",
      statementId: "alice-sid",
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
      idempotencyKey: token,
    });
    // Bob's different request under the same token is his own first call, not a mismatch with alice's.
    const bobAdd = await client(bob, { "x-caller-id": "alice" }).addLambdaPermission({
      functionName: "demo",
      statementId: "bob-sid",
      action: "lambda:InvokeFunction",
      principal: "sns.amazonaws.com",
      idempotencyKey: token,
    });
    assert.match(aliceAdd.statement, /alice-sid/);
    assert.match(bobAdd.statement, /bob-sid/);
    // Alice claiming to be bob replays her own record (same request) and cannot reach his.
    const replayed = await client(alice[1], { "x-caller-id": "bob" }).addLambdaPermission({
      functionName: "demo",
      statementId: "alice-sid",
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
      idempotencyKey: token,
    });
    assert.equal(replayed.statement, aliceAdd.statement);
    const mismatch = await reasonOf(
      client(alice[0], { "x-caller-id": "bob" }).addLambdaPermission({
        functionName: "demo",
        statementId: "bob-sid",
        action: "lambda:InvokeFunction",
        principal: "sns.amazonaws.com",
        idempotencyKey: token,
      }),
    );
    assert.deepEqual(
      mismatch,
      { code: Code.FailedPrecondition, reason: "IDEMPOTENT_PARAMETER_MISMATCH" },
      "alice's token holds alice's request, not bob's",
    );
  });

  // Last in this group: it rewrites the key file.
  test("a key file with a bad line: bob's removal applies, and /readyz names the line", async () => {
    await writeFile(join(dir, "keys"), `${sha256(alice[0]!)} alice\n${sha256(alice[1]!)} alice extra fields\n`);
    await gateway.reload();
    assert.deepEqual(await reasonOf(client(bob).listRamPermissions({})), {
      code: Code.Unauthenticated,
      reason: "API_KEY_UNKNOWN",
    });
    await client(alice[0]).listRamPermissions({});
    await gateway.health.refresh();
    const readyz = await fetch(new URL("/readyz", gateway.url));
    assert.equal(readyz.status, 200, "a bad line does not take the gateway out of service");
    const body = (await readyz.json()) as { status: string; warnings?: { check: string; detail: string }[] };
    assert.equal(body.status, "SERVING");
    assert.equal(body.warnings?.[0]?.check, "credentials");
    assert.match(body.warnings[0].detail, /^API_KEYS_FILE: 1 line ignored \(line 2: expected /);
  });
});

describe("JWT bearer tokens through the gateway", () => {
  let dir: string;
  let gateway: Gateway;
  let sign: (claims: Record<string, unknown>) => Promise<string>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pg-gw-jwt-"));
    const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
    await writeFile(
      join(dir, "jwks.json"),
      JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" }] }),
    );
    sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: "k1" }).sign(privateKey);
    gateway = await startConfiguredGateway({
      AUTH_MODE: "jwt",
      JWT_JWKS_FILE: join(dir, "jwks.json"),
      JWT_ISSUER: "https://issuer.example",
      JWT_AUDIENCE: "permission-gateway",
      JWT_ALGORITHMS: "ES256",
    });
  });
  after(async () => {
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  const call = (token: string) =>
    createClient(
      PermissionService,
      createGrpcTransport({
        baseUrl: gateway.url,
        interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))],
      }),
    ).listRamPermissions({});
  const now = () => Math.floor(Date.now() / 1000);

  test("a valid token is served; an expired one and one for another audience are not", async () => {
    const base = { iss: "https://issuer.example", aud: "permission-gateway", sub: "svc-a" };
    await call(await sign({ ...base, exp: now() + 300 }));
    assert.deepEqual(await reasonOf(call(await sign({ ...base, exp: now() - 600 }))), {
      code: Code.Unauthenticated,
      reason: "TOKEN_EXPIRED",
    });
    assert.deepEqual(await reasonOf(call(await sign({ ...base, aud: "other", exp: now() + 300 }))), {
      code: Code.Unauthenticated,
      reason: "TOKEN_AUDIENCE_MISMATCH",
    });
  });
});

describe("mutual TLS through the gateway", () => {
  let dir: string;
  let gateway: Gateway | undefined;
  let serverCa: Awaited<ReturnType<typeof createTestCa>>;
  let clientCa: Awaited<ReturnType<typeof createTestCa>>;
  let strangerCa: Awaited<ReturnType<typeof createTestCa>>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pg-gw-mtls-"));
    try {
      [serverCa, clientCa, strangerCa] = await Promise.all([
        createTestCa(dir, "server-ca"),
        createTestCa(dir, "client-ca"),
        createTestCa(dir, "stranger-ca"),
      ]);
    } catch {
      return; // openssl missing: each test skips (or fails with REQUIRE_OPENSSL)
    }
    const server = await serverCa.issue("gateway", { dns: ["localhost"], ips: ["127.0.0.1"], usage: "server" });
    await writeFile(join(dir, "client.crl.pem"), await clientCa.crl());
    gateway = await startConfiguredGateway({
      AUTH_MODE: "mtls",
      TLS_CERT_FILE: server.certPath,
      TLS_KEY_FILE: server.keyPath,
      TLS_CLIENT_CA_FILE: clientCa.certPath,
      MTLS_CRL_FILE: join(dir, "client.crl.pem"),
      AUTH_RELOAD_INTERVAL_MS: "0",
    });
  });
  after(async () => {
    await gateway?.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const httpVersion of ["2", "1.1"] as const) {
    test(`HTTP/${httpVersion}: a certificate of the CA is served; none, or another CA's, is UNAUTHENTICATED`, async (t) => {
      if (skipWithoutOpenssl(t) || gateway === undefined) return;
      const ca = serverCa.cert;
      const call = (cert?: { cert: Buffer; key: Buffer }) =>
        createClient(
          PermissionService,
          createConnectTransport({ baseUrl: gateway!.url, httpVersion, nodeOptions: { ca, ...cert } }),
        ).listRamPermissions({});
      const good = await clientCa.issue(`svc-${httpVersion}`, { uris: ["spiffe://example.org/svc"], usage: "client" });
      const stranger = await strangerCa.issue(`intruder-${httpVersion}`, { cn: "intruder", usage: "client" });
      await call({ cert: good.cert, key: good.key });
      assert.deepEqual(await reasonOf(call()), { code: Code.Unauthenticated, reason: "CLIENT_CERTIFICATE_MISSING" });
      assert.deepEqual(await reasonOf(call({ cert: stranger.cert, key: stranger.key })), {
        code: Code.Unauthenticated,
        reason: "CLIENT_CERTIFICATE_UNTRUSTED",
      });
    });
  }

  test("a CN of the form spiffe://... is refused; a certificate revoked in MTLS_CRL_FILE stops working after SIGHUP's reload", async (t) => {
    if (skipWithoutOpenssl(t) || gateway === undefined) return;
    const call = (cert: { cert: Buffer; key: Buffer }) =>
      createClient(
        PermissionService,
        createConnectTransport({
          baseUrl: gateway!.url,
          httpVersion: "2",
          nodeOptions: { ca: serverCa.cert, ...cert },
        }),
      ).listRamPermissions({});
    const impostor = await clientCa.issue("impostor", { cn: "spiffe://example.org/svc", usage: "client" });
    assert.deepEqual(await reasonOf(call(impostor)), {
      code: Code.Unauthenticated,
      reason: "CLIENT_CERTIFICATE_IDENTITY_INVALID",
    });
    const leaving = await clientCa.issue("leaving", { uris: ["spiffe://example.org/leaving"], usage: "client" });
    await call(leaving);
    await clientCa.revoke(leaving);
    await writeFile(join(dir, "client.crl.pem"), await clientCa.crl());
    await gateway.reload();
    assert.deepEqual(await reasonOf(call(leaving)), {
      code: Code.Unauthenticated,
      reason: "CLIENT_CERTIFICATE_UNTRUSTED",
    });
  });
});

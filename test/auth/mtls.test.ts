// Mutual TLS end to end: a real HTTPS server (HTTP/2 by ALPN and HTTP/1.1)
// with the authentication interceptor, real Connect clients presenting
// certificates made by openssl at test time, and the TLS material reloaded
// while the server runs.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { createAuthenticationInterceptor } from "../../src/auth/authentication-interceptor.js";
import { certificateIdentity, parseSubjectAltNames } from "../../src/auth/mtls/certificate-identity.js";
import { createMtlsAuthenticator } from "../../src/auth/mtls/mtls-authenticator.js";
import { createTlsMaterialSource, type TlsMaterialSource } from "../../src/auth/tls-material.js";
import { CredentialFileError } from "../../src/auth/watched-files.js";
import { silentLogger, type Logger } from "../../src/logger.js";
import { createRecordingLogger } from "../support/recording-logger.js";
import { callAs, connectTransport, startAuthTestServer, type AuthTestServer } from "./support/auth-server.js";
import {
  createTestCa,
  opensslAvailable,
  skipWithoutOpenssl,
  type IssuedCertificate,
  type TestCa,
} from "./support/pki.js";

const SPIFFE_ID = "spiffe://example.org/ns/payments/sa/deployer";

interface Pki {
  readonly dir: string;
  readonly serverCa: TestCa;
  readonly clientCa: TestCa;
  readonly otherCa: TestCa;
  readonly server: IssuedCertificate;
  readonly clients: Record<
    "spiffe" | "dns" | "cn" | "expired" | "notYetValid" | "foreign" | "twoSpiffe" | "spiffeCn" | "spiffeDns",
    IssuedCertificate
  >;
}

async function makePki(): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), "pg-mtls-"));
  const [serverCa, clientCa, otherCa] = await Promise.all([
    createTestCa(dir, "server-ca"),
    createTestCa(dir, "client-ca"),
    createTestCa(dir, "other-ca"),
  ]);
  const server = await serverCa.issue("server", { cn: "gateway", ips: ["127.0.0.1"], usage: "server" });
  const clients = {
    spiffe: await clientCa.issue("spiffe", {
      cn: "deployer",
      dns: ["deployer.payments.internal"],
      uris: [SPIFFE_ID],
      usage: "client",
    }),
    dns: await clientCa.issue("dns", { cn: "ci", dns: ["ci.payments.internal", "ci"], usage: "client" }),
    cn: await clientCa.issue("cn", { cn: "batch-job", usage: "client" }),
    expired: await clientCa.issue("expired", { cn: "old", usage: "client", validity: "expired" }),
    notYetValid: await clientCa.issue("future", { cn: "future", usage: "client", validity: "not-yet-valid" }),
    foreign: await otherCa.issue("foreign", { cn: "intruder", uris: ["spiffe://evil.example/x"], usage: "client" }),
    twoSpiffe: await clientCa.issue("two", {
      uris: ["spiffe://example.org/a", "spiffe://example.org/b"],
      usage: "client",
    }),
    // From the trusted CA, no SAN: a CN that has the form of the deployer's SPIFFE ID.
    spiffeCn: await clientCa.issue("spiffe-cn", { cn: SPIFFE_ID, usage: "client" }),
    spiffeDns: await clientCa.issue("spiffe-dns", { dns: [SPIFFE_ID], usage: "client" }),
  };
  return { dir, serverCa, clientCa, otherCa, server, clients };
}

interface MtlsServer {
  readonly server: AuthTestServer;
  readonly material: TlsMaterialSource;
  close(): Promise<void>;
}

async function startMtlsServer(
  files: { cert: string; key: string; ca: string; crl?: string },
  reloadIntervalMs = 0,
  logger: Logger = silentLogger,
): Promise<MtlsServer> {
  const material = await createTlsMaterialSource(
    { certFile: files.cert, keyFile: files.key, clientCaFile: files.ca, crlFile: files.crl, reloadIntervalMs },
    logger,
  );
  const authenticator = createMtlsAuthenticator({ identityFrom: ["spiffe", "dns", "cn"] });
  const server = await startAuthTestServer({
    interceptors: [createAuthenticationInterceptor(authenticator, silentLogger)],
    tls: material.current(),
  });
  // What the gateway's server does with a reload: new connections get the new context.
  material.onChange((context) => server.tlsServer?.setSecureContext(context));
  return {
    server,
    material,
    async close() {
      material.close();
      await server.close();
    },
  };
}

function client(
  pki: Pki,
  server: AuthTestServer,
  httpVersion: "1.1" | "2",
  certificate?: IssuedCertificate,
  ca = pki.serverCa.cert,
) {
  return connectTransport(server.url, {
    httpVersion,
    tls: certificate === undefined ? { ca } : { ca, cert: certificate.cert, key: certificate.key },
  });
}

describe("mutual TLS", { concurrency: false }, () => {
  let pki: Pki | undefined;
  let running: MtlsServer | undefined;

  before(async () => {
    if (!opensslAvailable()) return;
    pki = await makePki();
    running = await startMtlsServer({ cert: pki.server.certPath, key: pki.server.keyPath, ca: pki.clientCa.certPath });
  });
  after(async () => {
    await running?.close();
    if (pki !== undefined) await rm(pki.dir, { recursive: true, force: true });
  });

  for (const httpVersion of ["2", "1.1"] as const) {
    test(`HTTP/${httpVersion}: the caller is the SPIFFE ID, else a DNS SAN, else the CN; x-caller-id is ignored`, async (t) => {
      if (skipWithoutOpenssl(t) || pki === undefined || running === undefined) return;
      const { server } = running;
      const cases = [
        [pki.clients.spiffe, SPIFFE_ID],
        [pki.clients.dns, "ci.payments.internal"],
        [pki.clients.cn, "batch-job"],
      ] as const;
      for (const [certificate, id] of cases) {
        const outcome = await callAs(client(pki, server, httpVersion, certificate), { "x-caller-id": "someone-else" });
        assert.deepEqual(outcome, { ok: true, caller: { id, groups: [], authMode: "mtls" } });
      }
    });

    test(`HTTP/${httpVersion}: no certificate, another CA's, expired and not yet valid are UNAUTHENTICATED and reach nothing`, async (t) => {
      if (skipWithoutOpenssl(t) || pki === undefined || running === undefined) return;
      const { server } = running;
      const cases = [
        [undefined, "CLIENT_CERTIFICATE_MISSING", undefined],
        [pki.clients.foreign, "CLIENT_CERTIFICATE_UNTRUSTED", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
        [pki.clients.expired, "CLIENT_CERTIFICATE_UNTRUSTED", "CERT_HAS_EXPIRED"],
        [pki.clients.notYetValid, "CLIENT_CERTIFICATE_UNTRUSTED", "CERT_NOT_YET_VALID"],
        [pki.clients.twoSpiffe, "CLIENT_CERTIFICATE_IDENTITY_INVALID", undefined],
        // A CN or DNS SAN cannot pass for a SPIFFE ID: only a URI SAN names one.
        [pki.clients.spiffeCn, "CLIENT_CERTIFICATE_IDENTITY_INVALID", undefined],
        [pki.clients.spiffeDns, "CLIENT_CERTIFICATE_IDENTITY_INVALID", undefined],
      ] as const;
      const handledBefore = server.handled();
      for (const [certificate, reason, verifyError] of cases) {
        const outcome = await callAs(client(pki, server, httpVersion, certificate));
        assert.ok(!outcome.ok, `${reason} must be refused`);
        assert.equal(outcome.code, Code.Unauthenticated);
        assert.equal(outcome.reason, reason);
        assert.equal(outcome.domain, "permission-gateway");
        assert.equal(outcome.metadata["verifyError"], verifyError);
      }
      assert.equal(server.handled(), handledBefore, "no refused call reached the service");
    });
  }

  test("a cleartext connection has no certificate to check: CLIENT_CERTIFICATE_MISSING", async () => {
    const authenticator = createMtlsAuthenticator({ identityFrom: ["spiffe", "dns", "cn"] });
    const server = await startAuthTestServer({
      interceptors: [createAuthenticationInterceptor(authenticator, silentLogger)],
    });
    try {
      const outcome = await callAs(connectTransport(server.url));
      assert.ok(!outcome.ok);
      assert.equal(outcome.code, Code.Unauthenticated);
      assert.equal(outcome.reason, "CLIENT_CERTIFICATE_MISSING");
      assert.equal(server.handled(), 0);
    } finally {
      await server.close();
    }
  });

  test("MTLS_IDENTITY_FROM decides which field wins", async (t) => {
    if (skipWithoutOpenssl(t) || pki === undefined) return;
    const certificate = new X509Certificate(pki.clients.spiffe.cert);
    const table = [
      [["spiffe", "dns", "cn"], SPIFFE_ID],
      [["dns", "cn"], "deployer.payments.internal"],
      [["cn"], "deployer"],
    ] as const;
    for (const [order, id] of table)
      assert.deepEqual(certificateIdentity(certificate, order), { ok: true, id, source: order[0] });
    const cnOnly = new X509Certificate(pki.clients.cn.cert);
    assert.equal(certificateIdentity(cnOnly, ["spiffe", "dns"]).ok, false);
    // Whatever the order, a CN of the form spiffe://... never becomes that SPIFFE ID.
    for (const order of [["spiffe", "dns", "cn"], ["cn"]] as const) {
      const outcome = certificateIdentity(new X509Certificate(pki.clients.spiffeCn.cert), order);
      assert.ok(!outcome.ok && outcome.kind === "invalid", JSON.stringify(outcome));
      assert.match(outcome.problem, /subject CN has the form of a URI/);
    }
  });

  test("the CA bundle reloads without a restart (SIGHUP path): a newly trusted CA is accepted on new connections", async (t) => {
    if (skipWithoutOpenssl(t) || pki === undefined) return;
    const caFile = join(pki.dir, "reload-ca.pem");
    await copyFile(pki.clientCa.certPath, caFile);
    const mtls = await startMtlsServer({ cert: pki.server.certPath, key: pki.server.keyPath, ca: caFile });
    try {
      const before = await callAs(client(pki, mtls.server, "2", pki.clients.foreign));
      assert.equal(before.ok ? "accepted" : before.reason, "CLIENT_CERTIFICATE_UNTRUSTED");
      await writeFile(caFile, Buffer.concat([pki.clientCa.cert, pki.otherCa.cert]));
      assert.equal(await mtls.material.reload(), true);
      const afterReload = await callAs(client(pki, mtls.server, "2", pki.clients.foreign));
      assert.deepEqual(afterReload, {
        ok: true,
        caller: { id: "spiffe://evil.example/x", groups: [], authMode: "mtls" },
      });
      // Dropping the CA again revokes its certificates for new connections.
      await copyFile(pki.clientCa.certPath, caFile);
      assert.equal(await mtls.material.reload(), true);
      const revoked = await callAs(client(pki, mtls.server, "2", pki.clients.foreign));
      assert.equal(revoked.ok ? "accepted" : revoked.reason, "CLIENT_CERTIFICATE_UNTRUSTED");
    } finally {
      await mtls.close();
    }
  });

  test("MTLS_CRL_FILE: a certificate revoked in a reloaded CRL is refused on new connections, CERT_REVOKED", async (t) => {
    if (skipWithoutOpenssl(t) || pki === undefined) return;
    // A CA of its own, so revoking touches no other test's certificates.
    const ca = await createTestCa(pki.dir, "crl-ca");
    // One after the other: openssl ca takes the next serial from a file.
    const kept = await ca.issue("kept", { cn: "kept", usage: "client" });
    const lost = await ca.issue("lost", { cn: "lost", usage: "client" });
    const crlFile = join(pki.dir, "client.crl.pem");
    await writeFile(crlFile, await ca.crl());
    const mtls = await startMtlsServer({
      cert: pki.server.certPath,
      key: pki.server.keyPath,
      ca: ca.certPath,
      crl: crlFile,
    });
    try {
      assert.equal((await callAs(client(pki, mtls.server, "2", lost))).ok, true, "not revoked yet");
      await ca.revoke(lost);
      await writeFile(crlFile, await ca.crl());
      assert.equal(await mtls.material.reload(), true);
      for (const httpVersion of ["2", "1.1"] as const) {
        const refused = await callAs(client(pki, mtls.server, httpVersion, lost));
        assert.ok(!refused.ok, "the revoked certificate is refused");
        assert.equal(refused.code, Code.Unauthenticated);
        assert.equal(refused.reason, "CLIENT_CERTIFICATE_UNTRUSTED");
        assert.equal(refused.metadata["verifyError"], "CERT_REVOKED");
        assert.match(refused.message, /has been revoked \(MTLS_CRL_FILE\)/);
        assert.deepEqual(await callAs(client(pki, mtls.server, httpVersion, kept)), {
          ok: true,
          caller: { id: "kept", groups: [], authMode: "mtls" },
        });
      }
      // A file that is not a CRL is refused and the last one stays in force.
      await writeFile(crlFile, "not a CRL\n");
      assert.equal(await mtls.material.reload(), false);
      assert.equal((await callAs(client(pki, mtls.server, "2", lost))).ok, false);
    } finally {
      await mtls.close();
    }
  });

  test("the server certificate reloads on its own (polling), and a half-rotated pair keeps the old one", async (t) => {
    if (skipWithoutOpenssl(t) || pki === undefined) return;
    const certFile = join(pki.dir, "reload-server.pem");
    const keyFile = join(pki.dir, "reload-server.key");
    await copyFile(pki.server.certPath, certFile);
    await copyFile(pki.server.keyPath, keyFile);
    const logger = createRecordingLogger();
    const mtls = await startMtlsServer({ cert: certFile, key: keyFile, ca: pki.clientCa.certPath }, 50, logger);
    const newServerCa = await createTestCa(pki.dir, "server-ca-2");
    const rotated = await newServerCa.issue("server-2", { cn: "gateway", ips: ["127.0.0.1"], usage: "server" });
    try {
      assert.equal((await callAs(client(pki, mtls.server, "2", pki.clients.cn))).ok, true);

      // Only the certificate changed: it does not match the key, so it is refused and the old pair stays.
      await writeFile(certFile, rotated.cert);
      const refused = await logger.waitFor(
        (line) => line.message === "TLS material changed but is not valid, keeping the previous one",
      );
      assert.equal(refused.level, "error");
      assert.equal((await callAs(client(pki, mtls.server, "2", pki.clients.cn))).ok, true, "the old pair still serves");

      const changed = new Promise<void>((resolve) => mtls.material.onChange(() => resolve()));
      await writeFile(keyFile, rotated.key);
      await changed; // the poll saw the completed pair
      const outcome = await callAs(client(pki, mtls.server, "2", pki.clients.cn, newServerCa.cert));
      assert.deepEqual(outcome, { ok: true, caller: { id: "batch-job", groups: [], authMode: "mtls" } });
      const old = await callAs(client(pki, mtls.server, "2", pki.clients.cn, pki.serverCa.cert));
      assert.ok(!old.ok, "a client that trusts only the old server CA cannot connect");
      assert.match(old.message, /certificate/i);
    } finally {
      await mtls.close();
    }
  });

  test("start-up refuses unreadable or empty material, naming the variable", async (t) => {
    if (skipWithoutOpenssl(t) || pki === undefined) return;
    const empty = join(pki.dir, "empty-ca.pem");
    await writeFile(empty, "not a certificate\n");
    const base = { certFile: pki.server.certPath, keyFile: pki.server.keyPath, reloadIntervalMs: 0 };
    await assert.rejects(
      createTlsMaterialSource({ ...base, clientCaFile: join(pki.dir, "missing.pem") }, silentLogger),
      (error) => {
        assert.ok(error instanceof CredentialFileError);
        assert.match(error.message, /TLS_CLIENT_CA_FILE=".*missing\.pem" cannot be read/);
        return true;
      },
    );
    await assert.rejects(
      createTlsMaterialSource({ ...base, clientCaFile: empty }, silentLogger),
      /TLS_CLIENT_CA_FILE=.*holds no PEM certificate/,
    );
    await assert.rejects(
      createTlsMaterialSource({ ...base, keyFile: pki.clients.cn.keyPath }, silentLogger),
      /TLS_CERT_FILE=.* TLS_KEY_FILE=.*: .*key values mismatch/,
    );
  });
});

test("subject alternative names as Node prints them, quoted values included", () => {
  assert.deepEqual(
    parseSubjectAltNames('URI:"spiffe://example.org/a\\u002cb", DNS:svc.example, IP Address:127.0.0.1, email:a@b.c'),
    [
      { type: "URI", value: "spiffe://example.org/a,b" },
      { type: "DNS", value: "svc.example" },
      { type: "IP Address", value: "127.0.0.1" },
      { type: "email", value: "a@b.c" },
    ],
  );
  assert.deepEqual(parseSubjectAltNames(undefined), []);
  assert.deepEqual(parseSubjectAltNames("garbage without a colon"), []);
});

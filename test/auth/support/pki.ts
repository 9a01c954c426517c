// Test certificate authorities made with the openssl command line, at test
// time, in a temp dir: a CA, server certificates for 127.0.0.1 and client
// certificates with SPIFFE/DNS SANs and CNs, valid, expired or not yet
// valid. Without openssl the tests skip loudly; REQUIRE_OPENSSL=1 makes
// that a failure (CI).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { promisify } from "node:util";
import { findOnPath, skipWithoutCommand } from "../../support/require-tool.js";

const run = promisify(execFile);

export function opensslAvailable(): boolean {
  return findOnPath("openssl") !== undefined;
}

/** Skips the test loudly, or fails it when REQUIRE_OPENSSL=1|true; true when the test must stop. */
export function skipWithoutOpenssl(t: TestContext): boolean {
  return skipWithoutCommand(t, "openssl", "REQUIRE_OPENSSL", "Debian: apt-get install openssl");
}

export interface IssuedCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface IssueOptions {
  readonly cn?: string | undefined;
  readonly dns?: readonly string[] | undefined;
  readonly uris?: readonly string[] | undefined;
  readonly ips?: readonly string[] | undefined;
  readonly usage: "server" | "client";
  /** Default: valid from an hour ago for a day. */
  readonly validity?: "valid" | "expired" | "not-yet-valid" | undefined;
}

export interface TestCa {
  readonly certPath: string;
  readonly cert: Buffer;
  issue(name: string, options: IssueOptions): Promise<IssuedCertificate>;
  /** Marks the certificate revoked in the CA's database (it shows in the next crl()). */
  revoke(certificate: IssuedCertificate): Promise<void>;
  /** A CRL (PEM) of the certificates revoked so far, valid for a day. */
  crl(): Promise<Buffer>;
}

const caConfig = [
  "[ca]",
  "default_ca = test_ca",
  "[test_ca]",
  "database = index.txt",
  "new_certs_dir = issued",
  "serial = serial",
  "default_md = sha256",
  "policy = any",
  "unique_subject = no",
  "[any]",
  "",
].join("\n");

export async function createTestCa(dir: string, name: string): Promise<TestCa> {
  const home = join(dir, name);
  await mkdir(join(home, "issued"), { recursive: true });
  await writeFile(join(home, "ca.cnf"), caConfig);
  await writeFile(join(home, "index.txt"), "");
  await writeFile(join(home, "serial"), randomBytes(8).toString("hex") + "\n");
  const certPath = join(home, "ca.pem");
  await openssl(home, [
    "req",
    "-x509",
    ...ecKey("ca.key"),
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  return {
    certPath,
    cert: await readFile(certPath),
    async issue(leaf, options) {
      const keyPath = join(home, `${leaf}.key`);
      const leafCert = join(home, `${leaf}.pem`);
      const extFile = join(home, `${leaf}.ext`);
      await writeFile(extFile, extensions(options));
      await openssl(home, [
        "req",
        "-new",
        ...ecKey(`${leaf}.key`),
        "-out",
        `${leaf}.csr`,
        "-subj",
        // A "/" inside a value is escaped, or openssl reads it as the next RDN.
        options.cn === undefined ? "/O=test" : `/CN=${options.cn.replaceAll("/", "\\/")}`,
      ]);
      const [start, end] = validityDates(options.validity ?? "valid");
      await openssl(home, [
        "ca",
        "-batch",
        "-notext",
        "-preserveDN",
        "-config",
        "ca.cnf",
        "-cert",
        "ca.pem",
        "-keyfile",
        "ca.key",
        "-in",
        `${leaf}.csr`,
        "-out",
        `${leaf}.pem`,
        "-extfile",
        extFile,
        "-startdate",
        start,
        "-enddate",
        end,
      ]);
      return { certPath: leafCert, keyPath, cert: await readFile(leafCert), key: await readFile(keyPath) };
    },
    async revoke(certificate) {
      await openssl(home, [
        "ca",
        "-config",
        "ca.cnf",
        "-cert",
        "ca.pem",
        "-keyfile",
        "ca.key",
        "-revoke",
        certificate.certPath,
      ]);
    },
    async crl() {
      await openssl(home, [
        "ca",
        "-gencrl",
        "-config",
        "ca.cnf",
        "-cert",
        "ca.pem",
        "-keyfile",
        "ca.key",
        "-crldays",
        "1",
        "-out",
        "crl.pem",
      ]);
      return readFile(join(home, "crl.pem"));
    },
  };
}

function ecKey(keyFile: string): string[] {
  return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile];
}

function extensions(options: IssueOptions): string {
  const alt = [
    ...(options.dns ?? []).map((name, i) => `DNS.${i + 1} = ${name}`),
    ...(options.uris ?? []).map((uri, i) => `URI.${i + 1} = ${uri}`),
    ...(options.ips ?? []).map((ip, i) => `IP.${i + 1} = ${ip}`),
  ];
  return [
    "basicConstraints = CA:FALSE",
    "keyUsage = critical,digitalSignature",
    `extendedKeyUsage = ${options.usage === "server" ? "serverAuth" : "clientAuth"}`,
    ...(alt.length === 0 ? [] : ["subjectAltName = @alt", "[alt]", ...alt]),
    "",
  ].join("\n");
}

function validityDates(validity: "valid" | "expired" | "not-yet-valid"): [string, string] {
  const hour = 3_600_000;
  const now = Date.now();
  const [from, to] = {
    valid: [-hour, 24 * hour],
    expired: [-48 * hour, -24 * hour],
    "not-yet-valid": [24 * hour, 48 * hour],
  }[validity];
  return [asnTime(now + (from ?? 0)), asnTime(now + (to ?? 0))];
}

/** YYYYMMDDHHMMSSZ, as openssl ca -startdate wants it. */
function asnTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:T]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  try {
    await run("openssl", args, { cwd });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args.slice(0, 2).join(" ")} failed: ${stderr}`, { cause: error });
  }
}

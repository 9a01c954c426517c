// The server's certificate and key, and with mutual TLS the client CA
// bundle and its CRLs, reloaded without a restart: the server passes each new value to
// server.setSecureContext(), so new connections use it and open ones keep
// theirs.
import { X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import type { Logger } from "../logger.js";
import { watchFiles, type FileSource, type WatchedFile } from "./watched-files.js";

export interface TlsMaterialConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** Set with AUTH_MODE=mtls: client certificates must chain to one of these. */
  readonly clientCaFile?: string | undefined;
  /** With mutual TLS: PEM CRLs; a revoked client certificate fails verification (CERT_REVOKED). */
  readonly crlFile?: string | undefined;
  /** 0: only reload() (SIGHUP). */
  readonly reloadIntervalMs: number;
}

export type TlsMaterialSource = FileSource<SecureContextOptions>;

export function createTlsMaterialSource(config: TlsMaterialConfig, logger: Logger): Promise<TlsMaterialSource> {
  const files: WatchedFile[] = [
    { variable: "TLS_CERT_FILE", path: config.certFile },
    { variable: "TLS_KEY_FILE", path: config.keyFile },
  ];
  if (config.clientCaFile !== undefined) files.push({ variable: "TLS_CLIENT_CA_FILE", path: config.clientCaFile });
  if (config.crlFile !== undefined) {
    if (config.clientCaFile === undefined) throw new Error("a CRL file needs the client CA file");
    files.push({ variable: "MTLS_CRL_FILE", path: config.crlFile });
  }
  return watchFiles({
    what: "TLS material",
    files,
    parse: ([cert, key, ca, crl]) => parseTlsMaterial(cert, key, ca, crl),
    logger,
    pollIntervalMs: config.reloadIntervalMs,
  });
}

function parseTlsMaterial(
  cert: Buffer | undefined,
  key: Buffer | undefined,
  ca: Buffer | undefined,
  crl: Buffer | undefined,
): SecureContextOptions {
  if (cert === undefined || key === undefined) throw new Error("the certificate and key are both required");
  const material: SecureContextOptions = ca === undefined ? { cert, key } : { cert, key, ca: certificatesOf(ca) };
  if (crl !== undefined) material.crl = crlsOf(crl);
  // Throws on a PEM that does not parse and on a key that is not the
  // certificate's, so a half-rotated pair is refused rather than served.
  createSecureContext(material);
  return material;
}

const pemCrl = /-----BEGIN X509 CRL-----[^-]+-----END X509 CRL-----/g;

/** Every CRL of a PEM file; a file without one would revoke nothing, silently. */
function crlsOf(file: Buffer): string[] {
  const pems = file.toString("utf8").match(pemCrl) ?? [];
  if (pems.length === 0) throw new Error("the CRL file holds no PEM CRL (-----BEGIN X509 CRL-----)");
  return pems;
}

const pemCertificate = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle; a bundle without one would trust nobody, silently. */
function certificatesOf(bundle: Buffer): string[] {
  const pems = bundle.toString("utf8").match(pemCertificate) ?? [];
  if (pems.length === 0) throw new Error("the client CA bundle holds no PEM certificate");
  for (const pem of pems) new X509Certificate(pem);
  return pems;
}

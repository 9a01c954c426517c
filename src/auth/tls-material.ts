// The server's certificate and key, and with mutual TLS the client CA
// bundle, reloaded without a restart: the server passes each new value to
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
  return watchFiles({
    what: "TLS material",
    files,
    parse: ([cert, key, ca]) => parseTlsMaterial(cert, key, ca),
    logger,
    pollIntervalMs: config.reloadIntervalMs,
  });
}

function parseTlsMaterial(
  cert: Buffer | undefined,
  key: Buffer | undefined,
  ca: Buffer | undefined,
): SecureContextOptions {
  if (cert === undefined || key === undefined) throw new Error("the certificate and key are both required");
  const material: SecureContextOptions = ca === undefined ? { cert, key } : { cert, key, ca: certificatesOf(ca) };
  // Throws on a PEM that does not parse and on a key that is not the
  // certificate's, so a half-rotated pair is refused rather than served.
  createSecureContext(material);
  return material;
}

const pemCertificate = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle; a bundle without one would trust nobody, silently. */
function certificatesOf(bundle: Buffer): string[] {
  const pems = bundle.toString("utf8").match(pemCertificate) ?? [];
  if (pems.length === 0) throw new Error("the client CA bundle holds no PEM certificate");
  for (const pem of pems) new X509Certificate(pem);
  return pems;
}

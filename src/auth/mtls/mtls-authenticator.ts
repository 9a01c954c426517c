// AUTH_MODE=mtls: the TLS layer has verified the client certificate against
// TLS_CLIENT_CA_FILE (the server asks for one but does not abort the
// handshake), so a missing or untrusted certificate is answered here, as
// UNAUTHENTICATED in the caller's own protocol.
import type { X509Certificate } from "node:crypto";
import { AuthenticationError, type Authenticator } from "../authenticator.js";
import type { CallerIdentity } from "../identity.js";
import { certificateIdentity, type MtlsIdentitySource } from "./certificate-identity.js";

export interface MtlsAuthenticatorOptions {
  /** Which certificate field names the caller, first match wins. */
  readonly identityFrom: readonly MtlsIdentitySource[];
}

export function createMtlsAuthenticator(options: MtlsAuthenticatorOptions): Authenticator {
  // Peer certificates are cached per connection (readPeerInfo), so each one
  // is parsed once, not once per call.
  const callers = new WeakMap<X509Certificate, CallerIdentity | AuthenticationError>();
  const callerOf = (certificate: X509Certificate): CallerIdentity | AuthenticationError => {
    let caller = callers.get(certificate);
    if (caller === undefined) {
      const identity = certificateIdentity(certificate, options.identityFrom);
      caller = identity.ok
        ? { id: identity.id, groups: [], authMode: "mtls" }
        : identity.kind === "missing"
          ? new AuthenticationError(
              "CLIENT_CERTIFICATE_IDENTITY_MISSING",
              `the client certificate names no caller: ${identity.problem}`,
            )
          : new AuthenticationError(
              "CLIENT_CERTIFICATE_IDENTITY_INVALID",
              `the client certificate's caller is refused: ${identity.problem}`,
            );
      callers.set(certificate, caller);
    }
    return caller;
  };
  return {
    async authenticate({ peer }) {
      const tls = peer?.tls;
      if (tls === undefined) {
        throw new AuthenticationError(
          "CLIENT_CERTIFICATE_MISSING",
          "mutual TLS is required: connect over TLS with a client certificate",
        );
      }
      if (tls.certificate === undefined) {
        throw new AuthenticationError(
          "CLIENT_CERTIFICATE_MISSING",
          "mutual TLS is required: no client certificate was presented",
        );
      }
      if (!tls.authorized) {
        const verifyError = tls.authorizationError ?? "NOT_VERIFIED";
        throw new AuthenticationError(
          "CLIENT_CERTIFICATE_UNTRUSTED",
          verifyError === "CERT_REVOKED"
            ? "the client certificate is not trusted (CERT_REVOKED): it has been revoked (MTLS_CRL_FILE)"
            : `the client certificate is not trusted (${verifyError}): it must chain to the gateway's client CA bundle`,
          { verifyError },
        );
      }
      const caller = callerOf(tls.certificate);
      if (caller instanceof AuthenticationError) throw caller;
      return caller;
    },
    reload: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

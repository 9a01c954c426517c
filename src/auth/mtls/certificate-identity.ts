// The caller named by a verified client certificate: its SPIFFE ID (URI SAN
// spiffe://...), else a DNS SAN, else the subject CN, in the configured order.
import type { X509Certificate } from "node:crypto";

export type MtlsIdentitySource = "spiffe" | "dns" | "cn";
export const MTLS_IDENTITY_SOURCES: readonly MtlsIdentitySource[] = ["spiffe", "dns", "cn"];

export interface SubjectAltName {
  /** As Node prints it: "DNS", "URI", "IP Address", "email", ... */
  readonly type: string;
  readonly value: string;
}

// Node prints SANs as `TYPE:value, TYPE:value`; a value with a comma, quote
// or other special character is printed as a JSON string instead.
const sanEntry = /([A-Za-z][A-Za-z ]*):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y;

export function parseSubjectAltNames(text: string | undefined): SubjectAltName[] {
  const names: SubjectAltName[] = [];
  if (text === undefined) return names;
  sanEntry.lastIndex = 0;
  while (sanEntry.lastIndex < text.length) {
    const at = sanEntry.lastIndex;
    const match = sanEntry.exec(text);
    // Unparsable output from a future Node: take nothing rather than a wrong name.
    if (match === null || sanEntry.lastIndex === at) return [];
    const [, type = "", raw = ""] = match;
    names.push({ type, value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw });
  }
  return names;
}

export type CertificateIdentity =
  | { readonly ok: true; readonly id: string; readonly source: MtlsIdentitySource }
  /** missing: no field of the order is there; invalid: the field that would name the caller is refused. */
  | { readonly ok: false; readonly problem: string; readonly kind: "missing" | "invalid" };

/** The identity of a certificate, trying `order` in turn. */
export function certificateIdentity(
  certificate: X509Certificate,
  order: readonly MtlsIdentitySource[],
): CertificateIdentity {
  const names = parseSubjectAltNames(certificate.subjectAltName);
  for (const source of order) {
    if (source === "spiffe") {
      const ids = names.filter((n) => n.type === "URI" && n.value.startsWith("spiffe://")).map((n) => n.value);
      // A SPIFFE X.509-SVID carries exactly one SPIFFE ID; two would make the caller ambiguous.
      if (ids.length > 1)
        return {
          ok: false,
          kind: "invalid",
          problem: `the certificate has ${ids.length} SPIFFE IDs (URI SANs); an SVID has exactly one`,
        };
      if (ids[0] !== undefined) return { ok: true, id: ids[0], source };
    } else if (source === "dns") {
      const dns = names.find((n) => n.type === "DNS" && n.value !== "");
      if (dns !== undefined) return nameOtherThanUri(dns.value, source);
    } else {
      const cn = commonNameOf(certificate);
      if (cn !== undefined) return nameOtherThanUri(cn, source);
    }
  }
  return {
    ok: false,
    kind: "missing",
    problem: `the certificate has none of: ${order.map(describeSource).join(", ")}`,
  };
}

/**
 * Caller ids of different kinds must not collide: only a URI SAN may yield an
 * id with a scheme, so a CN or DNS SAN of the form `spiffe://...` (or any
 * `scheme://`) cannot pass for the workload that SPIFFE ID names.
 */
function nameOtherThanUri(id: string, source: "dns" | "cn"): CertificateIdentity {
  if (!id.includes("://")) return { ok: true, id, source };
  return {
    ok: false,
    kind: "invalid",
    problem: `its ${describeSource(source)} has the form of a URI ("://"); only a URI SAN may name a SPIFFE ID`,
  };
}

function commonNameOf(certificate: X509Certificate): string | undefined {
  // The legacy object has the subject already unescaped; a repeated CN comes as an array.
  const cn: unknown = certificate.toLegacyObject().subject?.CN;
  const first: unknown = Array.isArray(cn) ? cn[0] : cn;
  return typeof first === "string" && first !== "" ? first : undefined;
}

function describeSource(source: MtlsIdentitySource): string {
  return { spiffe: "a SPIFFE ID (URI SAN spiffe://...)", dns: "a DNS SAN", cn: "a subject CN" }[source];
}

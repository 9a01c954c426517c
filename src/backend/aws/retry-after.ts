// Reading AWS's Retry-After: shared by the error translation (the value the
// caller is told) and the deadline guard (whether a retry still fits).

/** Seconds AWS asked the caller to wait: the Retry-After header, else Lambda's modelled member. */
export function retryAfterSecondsOf(error: unknown, now: number): number | undefined {
  const sdk = asRecord(error);
  const headers = asRecord(asRecord(sdk["$response"])["headers"]);
  for (const [header, value] of Object.entries(headers)) {
    if (header.toLowerCase() === "retry-after" && typeof value === "string") return parseRetryAfter(value, now);
  }
  const member = sdk["retryAfterSeconds"];
  return typeof member === "string" ? parseRetryAfter(member, now) : undefined;
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed));
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

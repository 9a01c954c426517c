// Config errors, connection logs and Redis errors end up in log files; a
// password must not. Passwords may hold any character a URL treats as
// special ("/", "@", ":", "?", "#", "%"), raw or percent-encoded, so the
// whole user-info part is cut, up to the last "@", not just up to the next
// "/" or "@".
import { errorMessage } from "../util/error-message.js";

const CREDENTIAL_QUERY = /([?&](?:password|pass|username|user|sentinelPassword)=)[^&#]*/gi;

/** A Redis URL (or one host:port with user info) with its credentials replaced by "***". */
export function redactCredentials(url: string): string {
  const schemeEnd = url.indexOf("://");
  const start = schemeEnd === -1 ? 0 : schemeEnd + 3;
  const at = url.lastIndexOf("@");
  const withoutUserInfo = at >= start ? `${url.slice(0, start)}***${url.slice(at)}` : url;
  return withoutUserInfo.replace(CREDENTIAL_QUERY, "$1***");
}

/** `text` with every one of `secrets` (and their URL-encoded forms) replaced by "***". */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret === "") continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join("***");
  }
  return out;
}

/**
 * An error reduced to what a log may show: its name and its message with
 * the secrets taken out. ioredis errors carry the failed command with its
 * arguments (AUTH's password among them), which a logger that prints every
 * property would write out.
 */
export function redactedError(error: unknown, secrets: readonly string[]): { name: string; message: string } {
  const name = error instanceof Error ? error.name : "Error";
  const message = errorMessage(error);
  return { name, message: redactSecrets(message, secrets) };
}

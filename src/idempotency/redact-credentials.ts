// Config errors and connection logs end up in log files; a password in a
// Redis URL must not.

export function redactCredentials(url: string): string {
  return url.replace(/\/\/[^/@]*@/, "//***@");
}

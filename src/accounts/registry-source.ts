// The registry file, read at start-up and reloaded like the gateway's other
// watched files (src/auth/watched-files.ts): on SIGHUP and when it changes.
// A change that does not parse keeps the previous registry; the log says so
// and readiness names the problem until a valid file replaces it.
import { watchFiles } from "../auth/watched-files.js";
import type { Logger } from "../logger.js";
import { accountRegistryOf, parseAccountRegistry, type AccountRegistry } from "./registry.js";

export interface AccountRegistrySource {
  current(): AccountRegistry;
  /** Re-reads now (SIGHUP); true when the registry changed. */
  reload(): Promise<boolean>;
  /** Why the file on disk is not the registry in use, while it is broken. */
  problem(): string | undefined;
  close(): void;
}

export interface AccountRegistrySourceOptions {
  readonly path: string;
  /** The account of the base credentials. */
  readonly ownAccount: string;
  readonly logger: Logger;
  readonly pollIntervalMs: number;
}

/** Throws CredentialFileError (naming AWS_ACCOUNTS_FILE and the field) when the file is broken at start-up. */
export async function createAccountRegistrySource(
  options: AccountRegistrySourceOptions,
): Promise<AccountRegistrySource> {
  let problem: string | undefined;
  const source = await watchFiles({
    what: "account registry",
    files: [{ variable: "AWS_ACCOUNTS_FILE", path: options.path }],
    parse: ([contents]) => {
      try {
        const registry = accountRegistryOf(options.ownAccount, parseAccountRegistry(contents?.toString("utf8") ?? ""));
        problem = undefined;
        return registry;
      } catch (error) {
        problem = `AWS_ACCOUNTS_FILE is not valid, the previous registry stays in use: ${error instanceof Error ? error.message : String(error)}`;
        throw error;
      }
    },
    logger: options.logger,
    pollIntervalMs: options.pollIntervalMs,
  });
  options.logger.info("account registry loaded", {
    ownAccount: options.ownAccount,
    accounts: [...source.current().accounts.keys()],
  });
  return {
    current: () => source.current(),
    reload: () => source.reload(),
    problem: () => problem,
    close: () => source.close(),
  };
}

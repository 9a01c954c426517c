// A whole gateway as main.ts builds it, from environment variables
// (docs/configuration.md), on a free loopback port: for tests of what only
// the composed gateway does (authentication in front of idempotency,
// authorization, audit).
import { systemClock } from "../../src/clock.js";
import { loadConfig } from "../../src/config.js";
import { startGateway, type Gateway } from "../../src/gateway.js";
import { silentLogger, type Logger } from "../../src/logger.js";

export async function startConfiguredGateway(
  env: Record<string, string>,
  logger: Logger = silentLogger,
): Promise<Gateway> {
  // Audit events go nowhere unless a test asks: stdout is the test runner's.
  const config = loadConfig({ HOST: "127.0.0.1", PORT: "0", AUDIT_SINK: "off", ...env });
  return startGateway(config, { logger, clock: systemClock });
}

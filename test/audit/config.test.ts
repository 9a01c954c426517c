import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AUDIT_ENV_HELP, parseAuditConfig } from "../../src/audit/config.js";
import { ConfigError } from "../../src/config-values.js";

describe("parseAuditConfig", () => {
  // Fail-closed by default, whatever AUTH_MODE says: a configured sink is a promise of an attempt event per change.
  const defaults = { reads: false, failureMode: "closed", retryBufferEvents: 10_000, writeTimeoutMs: 2_000 } as const;
  const good: { env: Record<string, string>; expect: ReturnType<typeof parseAuditConfig> }[] = [
    { env: {}, expect: { sink: "stdout", ...defaults } },
    { env: { AUDIT_READS: "true" }, expect: { sink: "stdout", ...defaults, reads: true } },
    {
      env: { AUDIT_SINK: "/var/log/permission-gateway/audit.jsonl" },
      expect: { sink: { file: "/var/log/permission-gateway/audit.jsonl" }, ...defaults },
    },
    {
      env: { AUDIT_SINK: "./audit.jsonl", AUDIT_READS: "0" },
      expect: { sink: { file: "./audit.jsonl" }, ...defaults },
    },
    {
      env: { AUDIT_FAILURE_MODE: "open", AUDIT_RETRY_BUFFER_EVENTS: "50", AUDIT_WRITE_TIMEOUT_MS: "250" },
      expect: { sink: "stdout", ...defaults, failureMode: "open", retryBufferEvents: 50, writeTimeoutMs: 250 },
    },
    { env: { AUDIT_SINK: "off" }, expect: { sink: "off" } },
  ];
  for (const c of good) {
    test(`accepts ${JSON.stringify(c.env)}`, () => assert.deepEqual(parseAuditConfig(c.env), c.expect));
  }

  const bad: { env: Record<string, string>; variable: string }[] = [
    { env: { AUDIT_SINK: "stdot" }, variable: "AUDIT_SINK" },
    { env: { AUDIT_SINK: "audit.jsonl" }, variable: "AUDIT_SINK" },
    { env: { AUDIT_READS: "yes" }, variable: "AUDIT_READS" },
    // Audit is security-sensitive: AUDIT_READS with the audit off would look like reads are recorded.
    { env: { AUDIT_SINK: "off", AUDIT_READS: "true" }, variable: "AUDIT_READS" },
    { env: { AUDIT_SINK: "off", AUDIT_FAILURE_MODE: "open" }, variable: "AUDIT_FAILURE_MODE" },
    { env: { AUDIT_FAILURE_MODE: "closd" }, variable: "AUDIT_FAILURE_MODE" },
    { env: { AUDIT_RETRY_BUFFER_EVENTS: "0" }, variable: "AUDIT_RETRY_BUFFER_EVENTS" },
    { env: { AUDIT_WRITE_TIMEOUT_MS: "soon" }, variable: "AUDIT_WRITE_TIMEOUT_MS" },
  ];
  for (const c of bad) {
    test(`refuses ${JSON.stringify(c.env)} naming ${c.variable}`, () => {
      assert.throws(
        () => parseAuditConfig(c.env),
        (error: unknown) => error instanceof ConfigError && error.variable === c.variable,
      );
    });
  }

  test("every variable has a help line", () => {
    assert.deepEqual(
      AUDIT_ENV_HELP.map((line) => line.name),
      ["AUDIT_SINK", "AUDIT_READS", "AUDIT_FAILURE_MODE", "AUDIT_RETRY_BUFFER_EVENTS", "AUDIT_WRITE_TIMEOUT_MS"],
    );
  });
});

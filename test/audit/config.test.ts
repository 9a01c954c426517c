import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AUDIT_ENV_HELP, parseAuditConfig } from "../../src/audit/config.js";
import { ConfigError } from "../../src/config-values.js";

describe("parseAuditConfig", () => {
  const good: { env: Record<string, string>; expect: ReturnType<typeof parseAuditConfig> }[] = [
    { env: {}, expect: { sink: "stdout", reads: false } },
    { env: { AUDIT_READS: "true" }, expect: { sink: "stdout", reads: true } },
    {
      env: { AUDIT_SINK: "/var/log/permission-gateway/audit.jsonl" },
      expect: { sink: { file: "/var/log/permission-gateway/audit.jsonl" }, reads: false },
    },
    {
      env: { AUDIT_SINK: "./audit.jsonl", AUDIT_READS: "0" },
      expect: { sink: { file: "./audit.jsonl" }, reads: false },
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
      ["AUDIT_SINK", "AUDIT_READS"],
    );
  });
});

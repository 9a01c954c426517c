import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AUTHZ_ENV_HELP, parseAuthzConfig } from "../../src/authz/config.js";
import { createAuthorizer } from "../../src/authz/create-authorizer.js";
import { ConfigError } from "../../src/config-values.js";
import { silentLogger } from "../../src/logger.js";
import { policyDir, requestFor } from "./fixtures.js";

describe("parseAuthzConfig", () => {
  test("off by default; on by the presence of AUTHZ_POLICIES", () => {
    assert.deepEqual(parseAuthzConfig({}), { mode: "off", defaultAccount: undefined });
    assert.deepEqual(parseAuthzConfig({ AUTHZ_POLICIES: "authz/policies" }), {
      mode: "cedar",
      policies: "authz/policies",
      defaultAccount: undefined,
      decisionCacheEntries: 10_000,
    });
    const uncached = parseAuthzConfig({ AUTHZ_POLICIES: "p", AUTHZ_DECISION_CACHE_ENTRIES: "0" });
    assert.equal(uncached.mode === "cedar" ? uncached.decisionCacheEntries : undefined, 0);
  });

  test("AUTHZ_MODE=off keeps the default account", () => {
    assert.deepEqual(parseAuthzConfig({ AUTHZ_MODE: "off", AUTHZ_DEFAULT_ACCOUNT: "111122223333" }), {
      mode: "off",
      defaultAccount: "111122223333",
    });
  });

  const bad: { env: Record<string, string>; variable: string; accepted: RegExp }[] = [
    { env: { AUTHZ_MODE: "cedar" }, variable: "AUTHZ_POLICIES", accepted: /required with AUTHZ_MODE=cedar/ },
    { env: { AUTHZ_MODE: "opa" }, variable: "AUTHZ_MODE", accepted: /one of off, cedar/ },
    // Authorization is security-sensitive: policies that are not enforced must not look as if they were.
    {
      env: { AUTHZ_MODE: "off", AUTHZ_POLICIES: "p" },
      variable: "AUTHZ_POLICIES",
      accepted: /AUTHZ_MODE other than off/,
    },
    {
      env: { AUTHZ_DECISION_CACHE_ENTRIES: "5" },
      variable: "AUTHZ_DECISION_CACHE_ENTRIES",
      accepted: /AUTHZ_POLICIES set/,
    },
    { env: { AUTHZ_DEFAULT_ACCOUNT: "1234" }, variable: "AUTHZ_DEFAULT_ACCOUNT", accepted: /12-digit/ },
    {
      env: { AUTHZ_POLICIES: "p", AUTHZ_DECISION_CACHE_ENTRIES: "-1" },
      variable: "AUTHZ_DECISION_CACHE_ENTRIES",
      accepted: /from 0 to 100000/,
    },
  ];
  for (const c of bad) {
    test(`refuses ${JSON.stringify(c.env)} naming ${c.variable}`, () => {
      assert.throws(
        () => parseAuthzConfig(c.env),
        (error: unknown) =>
          error instanceof ConfigError && error.variable === c.variable && c.accepted.test(error.accepted),
      );
    });
  }

  test("every variable has a help line", () => {
    assert.deepEqual(
      AUTHZ_ENV_HELP.map((line) => line.name),
      ["AUTHZ_MODE", "AUTHZ_POLICIES", "AUTHZ_DECISION_CACHE_ENTRIES", "AUTHZ_DEFAULT_ACCOUNT"],
    );
  });

  test("createAuthorizer loads Cedar for a config with AUTHZ_MODE=cedar", async (t) => {
    const dir = await policyDir(t, { "p.cedar": `@id("all") permit (principal, action, resource);` });
    const config = parseAuthzConfig({ AUTHZ_POLICIES: dir });
    assert.ok(config.mode === "cedar");
    const authorizer = await createAuthorizer(config, { logger: silentLogger });
    const decision = authorizer.authorize(requestFor("ListRamPermissions", {}, { id: "x", groups: [] }));
    assert.deepEqual(decision.determiningPolicies, ["all"]);
  });
});

// Safe defaults: without authentication, loopback only unless
// ALLOW_UNAUTHENTICATED=true, and a start-up warning either way.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertListenAllowed, isLoopbackHost } from "../../src/auth/listen-policy.js";
import { ConfigError } from "../../src/config-values.js";

test("loopback hosts: 127.0.0.0/8, ::1 in any spelling, localhost; wildcards and other names are not", () => {
  const table: [string, boolean][] = [
    ["127.0.0.1", true],
    ["127.10.20.30", true],
    ["::1", true],
    ["[::1]", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["localhost", true],
    ["LOCALHOST.", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.5", false],
    ["128.0.0.1", false],
    ["::2", false],
    ["gateway.internal", false],
    ["localhost.example.com", false],
    ["", false],
  ];
  for (const [host, loopback] of table) assert.equal(isLoopbackHost(host), loopback, host);
});

test("AUTH_MODE=none beyond loopback stops start-up, naming HOST and the ways out", () => {
  for (const host of ["0.0.0.0", "::", "10.0.0.5", "gateway.internal"]) {
    assert.throws(
      () => assertListenAllowed({ host, authMode: "none", allowUnauthenticated: false, tls: false }),
      (error) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, "HOST");
        assert.equal(error.value, host);
        assert.match(
          error.message,
          /loopback address .* while AUTH_MODE=none; set AUTH_MODE to mtls, jwt or api-key, or ALLOW_UNAUTHENTICATED=true/,
        );
        return true;
      },
    );
  }
});

test("what start-up says: a warning whenever authentication is off, louder beyond loopback; nothing when it is on", () => {
  assert.match(
    assertListenAllowed({ host: "127.0.0.1", authMode: "none", allowUnauthenticated: false, tls: false }) ?? "",
    /^authentication is off .*only this machine can call/,
  );
  assert.match(
    assertListenAllowed({ host: "0.0.0.0", authMode: "none", allowUnauthenticated: true, tls: false }) ?? "",
    /HOST=0\.0\.0\.0 is not loopback \(ALLOW_UNAUTHENTICATED=true\): anyone who can reach the port can change permissions/,
  );
  assert.equal(
    assertListenAllowed({ host: "0.0.0.0", authMode: "mtls", allowUnauthenticated: false, tls: true }),
    undefined,
  );
});

test("bearer credentials on a cleartext, non-loopback listener: a warning; with TLS or on loopback, none", () => {
  for (const authMode of ["jwt", "api-key"] as const) {
    assert.match(
      assertListenAllowed({ host: "0.0.0.0", authMode, allowUnauthenticated: false, tls: false }) ?? "",
      new RegExp(
        `^AUTH_MODE=${authMode} takes bearer credentials, and HOST=0\\.0\\.0\\.0 is not loopback and serves cleartext`,
      ),
    );
    assert.equal(assertListenAllowed({ host: "0.0.0.0", authMode, allowUnauthenticated: false, tls: true }), undefined);
    assert.equal(assertListenAllowed({ host: "::1", authMode, allowUnauthenticated: false, tls: false }), undefined);
  }
});

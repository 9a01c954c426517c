// API keys through a real server and client: only hashes configured, two
// keys for one caller during a rotation, revocation by deleting a line,
// picked up without a restart.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { createApiKeyAuthenticator } from "../../src/auth/api-key/api-key-authenticator.js";
import { parseApiKeyFile, watchApiKeyFile } from "../../src/auth/api-key/api-key-file.js";
import { createAuthenticationInterceptor } from "../../src/auth/authentication-interceptor.js";
import { CredentialFileError } from "../../src/auth/watched-files.js";
import { silentLogger } from "../../src/logger.js";
import { callAs, connectTransport, startAuthTestServer, type CallOutcome } from "./support/auth-server.js";
import { createRecordingLogger } from "../support/recording-logger.js";

const newKey = () => `pgk_${randomBytes(32).toString("hex")}`;
const sha256 = (key: string) => createHash("sha256").update(key).digest("hex");
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

function assertRefused(outcome: CallOutcome, reason: string, label: string): void {
  assert.ok(!outcome.ok, `${label}: must be refused`);
  assert.equal(outcome.code, Code.Unauthenticated, label);
  assert.equal(outcome.reason, reason, label);
}

describe("API keys", () => {
  let dir = "";
  before(async () => void (dir = await mkdtemp(join(tmpdir(), "pg-api-keys-"))));
  after(() => rm(dir, { recursive: true, force: true }));

  test("accepted with either key of a rotation; missing, malformed, unknown and revoked keys refused; the file reloads", async () => {
    const [oldKey, rotatedKey, bobKey, strangerKey] = [newKey(), newKey(), newKey(), newKey()];
    const path = join(dir, "keys");
    const lines = (...extra: string[]) =>
      [
        "# payments CI: old key, and the new one during the rotation",
        `${sha256(oldKey)} payments-ci payments,deployers`,
        ...extra,
      ].join("\n");
    await writeFile(
      path,
      lines(`${sha256(rotatedKey).toUpperCase()}   payments-ci payments,deployers`, "", `${sha256(bobKey)} bob`, ""),
    );
    const logger = createRecordingLogger();
    const keys = await watchApiKeyFile(path, 50, logger);
    const server = await startAuthTestServer({
      interceptors: [createAuthenticationInterceptor(createApiKeyAuthenticator(keys), silentLogger)],
    });
    try {
      const transport = connectTransport(server.url);
      const ci = { ok: true, caller: { id: "payments-ci", groups: ["payments", "deployers"], authMode: "api-key" } };
      assert.deepEqual(await callAs(transport, { ...bearer(oldKey), "x-caller-id": "someone-else" }), ci);
      assert.deepEqual(await callAs(transport, bearer(rotatedKey)), ci);
      assert.deepEqual(await callAs(transport, bearer(bobKey)), {
        ok: true,
        caller: { id: "bob", groups: [], authMode: "api-key" },
      });

      const refusals: [string, Record<string, string>, string][] = [
        ["no authorization header", {}, "CREDENTIALS_MISSING"],
        ["another scheme", { authorization: `Token ${oldKey}` }, "CREDENTIALS_MALFORMED"],
        ["two words", { authorization: `Bearer ${oldKey} ${bobKey}` }, "CREDENTIALS_MALFORMED"],
        ["an unknown key", bearer(strangerKey), "API_KEY_UNKNOWN"],
        ["a key's hash instead of the key", bearer(sha256(oldKey)), "API_KEY_UNKNOWN"],
      ];
      const handled = server.handled();
      for (const [label, headers, reason] of refusals) {
        const outcome = await callAs(transport, headers);
        assertRefused(outcome, reason, label);
        for (const key of [oldKey, bobKey, strangerKey])
          assert.ok(!JSON.stringify(outcome).includes(key), `${label}: a key leaked`);
      }
      assert.equal(server.handled(), handled, "no refused call reached the service");

      // The rotation ends: the old line is deleted, the poll picks it up.
      await writeFile(
        path,
        [`${sha256(rotatedKey)} payments-ci payments,deployers`, `${sha256(bobKey)} bob`].join("\n"),
      );
      await logger.waitFor((line) => line.message === "API keys reloaded");
      assertRefused(await callAs(transport, bearer(oldKey)), "API_KEY_UNKNOWN", "the revoked key");
      assert.deepEqual(await callAs(transport, bearer(rotatedKey)), ci);

      // A broken edit keeps the keys that were there.
      await writeFile(path, "not a key line\n");
      await keys.reload();
      await logger.waitFor(
        (line) =>
          line.level === "error" && line.message === "API keys changed but is not valid, keeping the previous one",
      );
      assert.deepEqual(await callAs(transport, bearer(rotatedKey)), ci);
      for (const line of logger.lines) {
        for (const key of [oldKey, rotatedKey, bobKey])
          assert.ok(!JSON.stringify(line).includes(key), "a key reached the log");
      }
    } finally {
      keys.close();
      await server.close();
    }
  });

  test("a bad line is left out, logged with its number, and named by credentialWarning; the good lines apply, removals included", async () => {
    const [aliceKey, bobKey, carolKey] = [newKey(), newKey(), newKey()];
    const path = join(dir, "typo");
    await writeFile(path, [`${sha256(aliceKey)} alice`, `${sha256(bobKey)} bob`].join("\n"));
    const logger = createRecordingLogger();
    const keys = await watchApiKeyFile(path, 0, logger);
    const authenticator = createApiKeyAuthenticator(keys);
    const server = await startAuthTestServer({
      interceptors: [createAuthenticationInterceptor(authenticator, silentLogger)],
    });
    try {
      const transport = connectTransport(server.url);
      assert.equal((await callAs(transport, bearer(bobKey))).ok, true);
      assert.equal(authenticator.credentialWarning?.(), undefined);
      // One write revokes bob, adds carol, and has a typo on line 3.
      await writeFile(path, [`${sha256(aliceKey)} alice`, `${sha256(carolKey)} carol`, "not-a-hash dave"].join("\n"));
      assert.equal(await keys.reload(), true);
      assertRefused(await callAs(transport, bearer(bobKey)), "API_KEY_UNKNOWN", "the revoked key");
      assert.equal((await callAs(transport, bearer(carolKey))).ok, true);
      assert.equal((await callAs(transport, bearer(aliceKey))).ok, true);
      const logged = logger.lines.find((line) => line.message.startsWith("API_KEYS_FILE: a line is ignored"));
      assert.match(String(logged?.fields?.["problem"]), /^line 3: the first field must be the key's SHA-256/);
      assert.match(authenticator.credentialWarning?.() ?? "", /^API_KEYS_FILE: 1 line ignored \(line 3: /);
      // Fixed: the warning goes.
      await writeFile(path, [`${sha256(aliceKey)} alice`, `${sha256(carolKey)} carol`].join("\n"));
      await keys.reload();
      assert.equal(authenticator.credentialWarning?.(), undefined);
    } finally {
      keys.close();
      await server.close();
    }
  });

  test("a file without one good line stops start-up naming the variable, the line and the rule", async () => {
    const path = join(dir, "bad");
    await writeFile(path, `# ok\nnot-a-hash bob\n`);
    await assert.rejects(watchApiKeyFile(path, 0, silentLogger), (error) => {
      assert.ok(error instanceof CredentialFileError);
      assert.deepEqual(error.variables, ["API_KEYS_FILE"]);
      assert.match(
        error.message,
        /^API_KEYS_FILE=".*bad": no line is valid: line 2: the first field must be the key's SHA-256 in hex/,
      );
      return true;
    });
    await assert.rejects(
      watchApiKeyFile(join(dir, "missing"), 0, silentLogger),
      /API_KEYS_FILE=".*missing" cannot be read/,
    );
    await writeFile(join(dir, "empty"), "");
    await assert.rejects(watchApiKeyFile(join(dir, "empty"), 0, silentLogger), /API_KEYS_FILE=".*empty" is empty/);
  });
});

test("the API key file format: comments, blank lines, rotation; each broken line named", () => {
  const [a, b, c] = [sha256("a"), sha256("b"), sha256("c")];
  const table = parseApiKeyFile(`\n# comment\n  ${a} alice g1,g2\r\n${b}\talice g1,g2\n${c} carol\n`);
  assert.deepEqual(
    [...table.entries.values()].map((entry) => entry.caller),
    [
      { id: "alice", groups: ["g1", "g2"], authMode: "api-key" },
      { id: "alice", groups: ["g1", "g2"], authMode: "api-key" },
      { id: "carol", groups: [], authMode: "api-key" },
    ],
  );
  assert.deepEqual(table.ignoredLines, []);
  assert.equal(parseApiKeyFile("# nobody yet\n").entries.size, 0);
  // Each bad line is named; the good line (carol's) applies beside it.
  const good = `${c} carol`;
  const broken: [string, RegExp][] = [
    [`${a}`, /^line 1: expected "<sha256 hex> <caller id> \[groups,comma-separated\]"/],
    [`${a} alice g1 extra`, /^line 1: expected/],
    [`${a.slice(1)} alice`, /^line 1: the first field must be the key's SHA-256 in hex \(64 characters\)/],
    [`${a} alice g1,,g2`, /^line 1: groups are names separated by commas/],
  ];
  for (const [text, rule] of broken) {
    const parsed = parseApiKeyFile(`${text}\n${good}`);
    assert.deepEqual([...parsed.entries.keys()], [c], text);
    assert.equal(parsed.ignoredLines.length, 1, text);
    assert.match(parsed.ignoredLines[0] ?? "", rule, text);
    assert.throws(() => parseApiKeyFile(text), { message: /^no line is valid: line 1: / }, text);
  }
  // Unclear which line was meant: every line involved is left out.
  const twice = parseApiKeyFile(`${a} alice\n${a} bob\n${good}`);
  assert.deepEqual([...twice.entries.keys()], [c]);
  assert.deepEqual(twice.ignoredLines, [
    "line 1: this hash is also on line 2; neither line applies",
    "line 2: this hash is also on line 1; neither line applies",
  ]);
  const groups = parseApiKeyFile(`${a} alice g1\n\n${b} alice g2\n${good}`);
  assert.deepEqual([...groups.entries.keys()], [c]);
  assert.match(groups.ignoredLines[1] ?? "", /^line 3: caller alice has other groups on line 1/);
});

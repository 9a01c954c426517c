// A Redis password never reaches a message or a log line, whatever
// characters it holds: raw "/" and "@" (which end a URL's user info for a
// naive pattern), ":", "?", "#", "%", or their percent-encoded forms.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { systemClock } from "../../src/clock.js";
import { ConfigError } from "../../src/config-values.js";
import { parseIdempotencyConfig } from "../../src/idempotency/config.js";
import { createIdempotency } from "../../src/idempotency/create-idempotency.js";
import { redactCredentials, redactedError, redactSecrets } from "../../src/idempotency/redact-credentials.js";
import { createJsonLogger } from "../../src/logger.js";
import { freePort, redisServerBinary, skipWithoutRedis, startRedisServer } from "../support/redis-server.js";

const PASSWORDS = ["pa/ss", "p@ss/w:rd", "s3cr/et?x=1#frag", "100%/sure", "a/b/c@d"];

describe("redactCredentials", () => {
  for (const password of PASSWORDS) {
    for (const form of [password, encodeURIComponent(password)]) {
      test(`user info ${JSON.stringify(form)} is cut from a URL`, () => {
        const url = `redis://user:${form}@redis.internal:6380/2`;
        const redacted = redactCredentials(url);
        assert.equal(redacted, "redis://***@redis.internal:6380/2");
        assert.ok(!redacted.includes(form));
      });
    }
  }

  test("a URL without user info is left as it is; credentials in the query are cut", () => {
    assert.equal(redactCredentials("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
    assert.equal(redactCredentials("rediss://h:1?password=pa/ss&db=1"), "rediss://h:1?password=***&db=1");
  });

  test("known secrets are cut from any text, raw and URL-encoded; an error keeps only name and message", () => {
    assert.equal(redactSecrets("auth pa/ss and pa%2Fss", ["pa/ss"]), "auth *** and ***");
    const error = Object.assign(new Error("WRONGPASS for pa/ss"), { command: { name: "auth", args: ["pa/ss"] } });
    assert.deepEqual(redactedError(error, ["pa/ss"]), { name: "Error", message: "WRONGPASS for ***" });
  });
});

describe("no password in a configuration error", () => {
  for (const password of PASSWORDS) {
    test(`REDIS_URL with password ${JSON.stringify(password)}, raw and encoded`, () => {
      for (const env of [
        { IDEMPOTENCY_STORE: "redis", REDIS_URL: `redis://u:${password}@h:6379/x` },
        { IDEMPOTENCY_STORE: "redis", REDIS_URL: `redis://u:${password}@h:6379`, REDIS_CLUSTER_NODES: "b:1" },
        {
          IDEMPOTENCY_STORE: "redis",
          REDIS_URL: `redis://u:${encodeURIComponent(password)}@h:6379`,
          REDIS_CLUSTER_NODES: "b:1",
        },
      ]) {
        assert.throws(
          () => parseIdempotencyConfig(env),
          (error) => {
            assert.ok(error instanceof ConfigError);
            assert.ok(!error.message.includes(password), error.message);
            assert.ok(!error.message.includes(encodeURIComponent(password)), error.message);
            return true;
          },
        );
      }
    });
  }
});

test("no password in any log line or readiness detail, with Redis unreachable and with a wrong password", async (t) => {
  const password = "wr/ong@pa:ss";
  const lines: string[] = [];
  const logger = createJsonLogger("debug", (line) => void lines.push(line));
  const check = async (url: string) => {
    const config = parseIdempotencyConfig({
      IDEMPOTENCY_STORE: "redis",
      REDIS_URL: url,
      REDIS_CONNECT_TIMEOUT_MS: "500",
      REDIS_COMMAND_TIMEOUT_MS: "200",
    });
    const idempotency = await createIdempotency(config, { clock: systemClock, logger });
    const readiness = await idempotency.checkReady();
    await idempotency.close();
    return readiness;
  };
  const encoded = encodeURIComponent(password);
  const unreachable = await check(`redis://user:${encoded}@127.0.0.1:${await freePort()}`);
  assert.equal(unreachable.ready, false);
  assert.ok(
    unreachable.detail !== undefined && !unreachable.detail.includes(password) && !unreachable.detail.includes(encoded),
  );
  if (redisServerBinary() === undefined) {
    skipWithoutRedis(t, "a wrong password needs our own redis-server");
  } else {
    const server = await startRedisServer({ args: ["--requirepass", "the-right-one"] });
    t.after(() => server.close());
    const refused = await check(`redis://default:${encoded}@127.0.0.1:${server.port}`);
    assert.equal(refused.ready, false);
    assert.ok(
      lines.some((line) => /WRONGPASS|NOAUTH|invalid/i.test(line)),
      "the refusal was logged",
    );
  }
  assert.ok(lines.length > 0);
  for (const line of lines) {
    assert.ok(!line.includes(password) && !line.includes(encoded), line);
  }
});

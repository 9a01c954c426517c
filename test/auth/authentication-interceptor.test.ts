// The authentication interceptor through a real server and client: AUTH_MODE=none
// keeps today's x-caller-id behaviour, and each kind of failure of an
// authenticator becomes the right answer, with nothing behind it running.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code } from "@connectrpc/connect";
import { createAuthenticationInterceptor } from "../../src/auth/authentication-interceptor.js";
import {
  AuthenticationError,
  AuthenticationUnavailableError,
  type Authenticator,
} from "../../src/auth/authenticator.js";
import { createNoAuthenticator } from "../../src/auth/none/none-authenticator.js";
import { silentLogger, type Logger } from "../../src/logger.js";
import { createRecordingLogger } from "../support/recording-logger.js";
import { callAs, connectTransport, startAuthTestServer } from "./support/auth-server.js";

async function withServer(
  authenticator: Authenticator,
  body: (url: string, handled: () => number) => Promise<void>,
  logger: Logger = silentLogger,
): Promise<void> {
  const server = await startAuthTestServer({ interceptors: [createAuthenticationInterceptor(authenticator, logger)] });
  try {
    await body(server.url, server.handled);
  } finally {
    await server.close();
  }
}

function failingWith(error: unknown): Authenticator {
  return {
    authenticate: () => Promise.reject(error),
    reload: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

test("AUTH_MODE=none: the caller is x-caller-id (trimmed), else anonymous; never verified", async () => {
  await withServer(createNoAuthenticator(), async (url) => {
    const transport = connectTransport(url);
    assert.deepEqual(await callAs(transport, { "x-caller-id": "  payments-ci " }), {
      ok: true,
      caller: { id: "payments-ci", groups: [], authMode: "none" },
    });
    assert.deepEqual(await callAs(transport), { ok: true, caller: { id: "anonymous", groups: [], authMode: "none" } });
    assert.deepEqual(await callAs(transport, { "x-caller-id": "   " }), {
      ok: true,
      caller: { id: "anonymous", groups: [], authMode: "none" },
    });
  });
});

test("a refusal is UNAUTHENTICATED with the reason and safe metadata, and reaches nothing", async () => {
  const refusal = new AuthenticationError("TOKEN_CLAIM_INVALID", 'the token\'s "sub" claim is missing', {
    claim: "sub",
  });
  await withServer(failingWith(refusal), async (url, handled) => {
    const outcome = await callAs(connectTransport(url), { authorization: "Bearer whatever" });
    assert.deepEqual(outcome, {
      ok: false,
      code: Code.Unauthenticated,
      message: 'the token\'s "sub" claim is missing',
      reason: "TOKEN_CLAIM_INVALID",
      domain: "permission-gateway",
      metadata: { claim: "sub" },
      retryDelayMs: undefined,
    });
    assert.equal(handled(), 0);
  });
});

test("credentials that cannot be checked right now are UNAVAILABLE with RetryInfo, not the caller's fault", async () => {
  await withServer(
    failingWith(new AuthenticationUnavailableError("the JWT signing keys could not be fetched; retry later")),
    async (url, handled) => {
      const outcome = await callAs(connectTransport(url));
      assert.ok(!outcome.ok);
      assert.equal(outcome.code, Code.Unavailable);
      assert.equal(outcome.reason, "AUTHENTICATION_UNAVAILABLE");
      assert.equal(outcome.retryDelayMs, 1_000);
      assert.equal(handled(), 0);
    },
  );
});

test("an unexpected failure is INTERNAL with a generic message; the cause stays in the log", async () => {
  const logger = createRecordingLogger();
  const bug = new TypeError("detail of a bug");
  await withServer(
    failingWith(bug),
    async (url, handled) => {
      const outcome = await callAs(connectTransport(url));
      assert.ok(!outcome.ok);
      assert.equal(outcome.code, Code.Internal);
      assert.equal(outcome.message, "internal error");
      assert.equal(outcome.reason, "INTERNAL");
      assert.equal(handled(), 0);
    },
    logger,
  );
  const logged = logger.lines.find((line) => line.level === "error");
  assert.equal(logged?.fields?.["error"], bug);
});

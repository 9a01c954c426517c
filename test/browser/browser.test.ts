// A real browser calls a real gateway: headless Chromium (Debian's chromium,
// driven by playwright-core) loads a page from another origin that runs the
// web client of docs/clients.md over the Connect protocol and gRPC-Web. Every call
// carries authorization and W3C trace context, so each one needs the
// gateway's preflight answer. A page from an origin that is not allowed is
// refused by the browser. Skipped loudly without chromium, a failure when
// REQUIRE_BROWSER=1 (CI).
import assert from "node:assert/strict";
import { accessSync, constants as fsConstants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS } from "../../src/cors.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { docParagraph } from "../support/readme.js";
import { skipWithoutTool } from "../support/require-tool.js";
import type { Outcome, PageGlobals, Protocol, ScenarioOutcomes } from "./page/harness.js";
import { bundleWebPage, servePage, typecheckWebClient, type PageServer, type WebPage } from "./web-page.js";

const chromiumPath = "/usr/bin/chromium";
// Without the background-networking flags Chromium floods a closed network with connection attempts.
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function chromiumInstalled(): boolean {
  try {
    accessSync(chromiumPath, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const haveChromium = chromiumInstalled();
const protocols: readonly Protocol[] = ["connect", "grpc-web"];

describe("a web page on another origin calls the gateway", () => {
  let page: WebPage;
  let allowedSite: PageServer;
  let otherSite: PageServer;
  let gateway: TestGateway;
  let profile: string;
  let browser: BrowserContext | undefined;
  /** Console lines of every page: Chromium reports CORS refusals there. */
  const consoleLines: string[] = [];

  before(async () => {
    page = await bundleWebPage();
    allowedSite = await servePage(page);
    otherSite = await servePage(page);
    gateway = await startTestGateway({ corsAllowedOrigins: [allowedSite.origin] });
    profile = await mkdtemp(join(tmpdir(), "pg-chromium-"));
    if (!haveChromium) return;
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
    });
    browser.on("console", (message) => consoleLines.push(message.text()));
  });

  after(async () => {
    await browser?.close();
    await gateway.close();
    await Promise.all([allowedSite.close(), otherSite.close()]);
    await page.close();
    await rm(profile, { recursive: true, force: true });
  });

  /** Opens a page of `site` and runs the scenarios of the harness there. */
  async function runInBrowser(
    t: TestContext,
    site: PageServer,
    protocol: Protocol,
  ): Promise<ScenarioOutcomes | undefined> {
    if (browser === undefined) {
      skipWithoutTool(t, "REQUIRE_BROWSER", `${chromiumPath} not installed (Debian package chromium)`);
      return undefined;
    }
    const tab: Page = await browser.newPage();
    try {
      await tab.goto(site.origin + "/");
      await tab.waitForFunction(() => "runScenarios" in globalThis);
      return await tab.evaluate(([url, p]) => (globalThis as unknown as PageGlobals).runScenarios(url, p), [
        gateway.url,
        protocol,
      ] as const);
    } finally {
      await tab.close();
    }
  }

  test("the preflight consents to credentials and trace context (checked over fetch, without a browser)", async () => {
    const res = await fetch(gateway.url + "/permission.v1.PermissionService/GetLambdaPolicy", {
      method: "OPTIONS",
      headers: {
        origin: allowedSite.origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,traceparent,tracestate",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), allowedSite.origin);
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").split(/,\s*/);
    for (const name of ["authorization", "traceparent", "tracestate"]) assert.ok(allowed.includes(name), name);
    assert.deepEqual(allowed, [...CORS_ALLOWED_HEADERS]);
  });

  test("docs/clients.md's web client typechecks under strict options", async () => {
    assert.deepEqual(await typecheckWebClient(), []);
  });

  test("docs/clients.md's CORS paragraph names every header the gateway allows and exposes", async () => {
    const paragraph = await docParagraph("docs/clients.md", "**CORS.**");
    for (const name of [...CORS_ALLOWED_HEADERS, ...CORS_EXPOSED_HEADERS])
      assert.ok(paragraph.includes(`\`${name}\``), name);
  });

  for (const protocol of protocols) {
    test(`${protocol}: a success, the replay header and NOT_FOUND with its ErrorInfo reason`, async (t) => {
      const before = gateway.backend.callCount("AddPermission");
      const seen = consoleLines.length;
      const outcomes = await runInBrowser(t, allowedSite, protocol);
      if (outcomes === undefined) return;

      const added = succeeded(outcomes.added);
      assert.equal(added.replayed, false);
      const statement = JSON.parse(added.statement ?? "") as { Sid: string; Principal: unknown };
      assert.equal(statement.Sid, `browser-${protocol}`);
      assert.deepEqual(statement.Principal, { Service: "s3.amazonaws.com" });

      const retried = succeeded(outcomes.retried);
      assert.equal(retried.replayed, true, "the page reads idempotent-replayed: true");
      assert.equal(retried.statement, added.statement, "the replay is the first answer");
      assert.equal(gateway.backend.callCount("AddPermission") - before, 1, "the replay did not reach the backend");

      assert.deepEqual(outcomes.notFound, {
        ok: false,
        code: "NotFound",
        reason: "RESOURCE_NOT_FOUND",
        message: "Statement not-there is not found in resource policy.",
      });

      // date is no CORS-safelisted header: the page sees it only through the exposed "*".
      const readable = succeeded(outcomes.read).readableHeaders ?? [];
      assert.ok(readable.includes("date"), `readable response headers: ${readable.join(", ")}`);

      const unlisted = failed(outcomes.unlistedHeader);
      assert.match(unlisted.message, /fetch/i, "a header outside the CORS list fails in the browser");
      assert.equal(unlisted.reason, undefined, "no answer of the gateway reached the page");
      const refusals = consoleLines.slice(seen).filter((line) => line.includes("blocked by CORS policy"));
      assert.ok(refusals.length > 0, "Chromium reports the refused header");
      for (const line of refusals)
        assert.match(line, /Request header field x-not-in-the-cors-list is not allowed/, line);
    });
  }

  test("a page from an origin that is not allowed is refused by the browser", async (t) => {
    const before = gateway.backend.callCount();
    const seen = consoleLines.length;
    const outcomes = await runInBrowser(t, otherSite, "connect");
    if (outcomes === undefined) return;
    for (const [name, result] of Object.entries(outcomes) as [keyof ScenarioOutcomes, Outcome][]) {
      const refused = failed(result);
      assert.match(refused.message, /fetch/i, `${name}: ${refused.message}`);
      assert.equal(refused.reason, undefined, `${name}: no answer of the gateway reached the page`);
    }
    assert.equal(gateway.backend.callCount(), before, "the preflight stopped every call before the backend");
    const blocked = consoleLines.slice(seen).filter((line) => line.includes("blocked by CORS policy"));
    assert.ok(blocked.length > 0, `Chromium reports the CORS refusal:\n${consoleLines.slice(seen).join("\n")}`);
    assert.ok(
      blocked.every((line) => line.includes(`from origin '${otherSite.origin}'`)),
      blocked.join("\n"),
    );
  });
});

function succeeded(outcome: Outcome): Extract<Outcome, { ok: true }> {
  assert.ok(outcome.ok, `expected a success, got ${JSON.stringify(outcome)}`);
  return outcome;
}

function failed(outcome: Outcome): Extract<Outcome, { ok: false }> {
  assert.ok(!outcome.ok, `expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome;
}

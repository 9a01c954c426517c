// The README's "team X may only touch accounts A and B" policy, through a
// whole gateway (API keys, Cedar, the account registry, the in-process fake
// with the accounts' roles): Cedar sees the target account and its alias.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Code } from "@connectrpc/connect";
import type { Gateway } from "../../src/gateway.js";
import { codeBlocks, docSection } from "../support/readme.js";
import { createGatewayClient, failureOf, type GatewayClient } from "../support/clients.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { ACCOUNT_A, ACCOUNT_B, EXTERNAL_ID, OWN, accountsSeed, roleOf } from "./accounts-fixture.js";

const key = "payments-key-0123456789abcdef";
let dir: string;
let gateway: Gateway;
let client: GatewayClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "pg-accounts-cedar-"));
  const [policy] = codeBlocks(await docSection("docs/accounts.md", "# Managing many accounts"), "cedar");
  assert.ok(policy !== undefined, "the section shows a Cedar policy");
  writeFileSync(join(dir, "accounts.cedar"), policy);
  writeFileSync(join(dir, "keys"), `${createHash("sha256").update(key).digest("hex")} team-payments payments\n`);
  writeFileSync(join(dir, "seed.json"), JSON.stringify(accountsSeed));
  writeFileSync(
    join(dir, "accounts.json"),
    JSON.stringify({
      accounts: [
        { id: ACCOUNT_A, alias: "payments-prod", roleArn: roleOf(ACCOUNT_A) },
        { id: ACCOUNT_B, roleArn: roleOf(ACCOUNT_B), externalId: EXTERNAL_ID },
        { id: "555566667777", alias: "other-prod", roleArn: roleOf("555566667777") },
      ],
    }),
  );
  gateway = await startConfiguredGateway({
    AUTH_MODE: "api-key",
    API_KEYS_FILE: join(dir, "keys"),
    AUTHZ_POLICIES: join(dir, "accounts.cedar"),
    FAKE_SEED: join(dir, "seed.json"),
    AWS_ACCOUNTS_FILE: join(dir, "accounts.json"),
  });
  client = createGatewayClient("connect-json", gateway.url);
});

after(async () => {
  client.close();
  await gateway.close();
  rmSync(dir, { recursive: true, force: true });
});

const policyIn = (account: string) =>
  client.call(
    "getLambdaPolicy",
    { functionName: `arn:aws:lambda:us-east-1:${account}:function:demo` },
    { headers: { authorization: `Bearer ${key}` } },
  );

test("the team reaches the accounts it may touch, by alias and by ID (the fake answers: no policy yet)", async () => {
  for (const account of [ACCOUNT_A, ACCOUNT_B]) {
    const reached = failureOf(await policyIn(account));
    assert.equal(reached.domain, "lambda.amazonaws.com", account);
    assert.equal(reached.code, Code.NotFound);
  }
});

test("another managed account, and the own one, are refused by the policy", async () => {
  for (const account of ["555566667777", OWN]) {
    const refused = failureOf(await policyIn(account));
    assert.equal(refused.code, Code.PermissionDenied, account);
    assert.equal(refused.reason, "CALLER_NOT_ALLOWED");
  }
});

test("an account the registry does not list never reaches authorization", async () => {
  assert.equal(failureOf(await policyIn("999999999999")).reason, "ACCOUNT_NOT_MANAGED");
});

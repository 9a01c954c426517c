// Accounts for the many-account tests: the gateway's own, two it manages
// (one with an ExternalId), and one whose role does not trust the gateway.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { createFakeIdentities } from "../../src/backend/fake/identities.js";
import type { FakeSeed } from "../../src/backend/fake/seed.js";
import type { Clock } from "../../src/clock.js";
import { startFakeAwsServer, type FakeAwsServer } from "../../src/fake-aws/server.js";

export const OWN = "123456789012";
export const ACCOUNT_A = "210987654321";
export const ACCOUNT_B = "333344445555";
export const ACCOUNT_REFUSING = "444455556666";
export const EXTERNAL_ID = "b-external-id";

export const roleOf = (account: string): string => `arn:aws:iam::${account}:role/permission-gateway`;

export const accountsSeed: FakeSeed = {
  iam: {
    roles: [
      { arn: roleOf(ACCOUNT_A), trustedAccounts: [OWN], requireSourceIdentity: true },
      { arn: roleOf(ACCOUNT_B), trustedAccounts: [OWN], externalId: EXTERNAL_ID },
      { arn: roleOf(ACCOUNT_REFUSING), trustedAccounts: ["999988887777"] },
    ],
  },
  lambda: {
    functions: [OWN, ACCOUNT_A, ACCOUNT_B, ACCOUNT_REFUSING].map((account) => ({
      name: "demo",
      account,
      region: "us-east-1",
    })),
  },
};

/** Writes the registry of A, B and the refusing account into `dir`; returns its path. */
export function registryFile(dir: string): string {
  const path = join(dir, "accounts.json");
  writeFileSync(
    path,
    JSON.stringify({
      accounts: [
        { id: ACCOUNT_A, alias: "payments-prod", roleArn: roleOf(ACCOUNT_A) },
        {
          id: ACCOUNT_B,
          alias: "search-prod",
          roleArn: roleOf(ACCOUNT_B),
          externalId: EXTERNAL_ID,
          regions: ["us-east-1"],
        },
        { id: ACCOUNT_REFUSING, roleArn: roleOf(ACCOUNT_REFUSING) },
      ],
    }),
  );
  return path;
}

/**
 * The fake AWS endpoint with the accounts seed, its STS judging expiry by
 * `clock`, and the SDK's environment pointed at it with static base keys;
 * profile files (in `dir`, absent) and instance metadata are off, so no call
 * leaves loopback. Changes process.env.
 */
export async function startAccountsFakeAws(dir: string, clock: Clock): Promise<FakeAwsServer> {
  const fake = await startFakeAwsServer({
    backend: createFakeBackend({ seed: accountsSeed, clock }),
    identities: createFakeIdentities({ roles: accountsSeed.iam?.roles ?? [], baseAccount: OWN, clock }),
  });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: fake.url,
    AWS_ACCESS_KEY_ID: "AKIDBASEGATEWAY",
    AWS_SECRET_ACCESS_KEY: "base-secret",
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: join(dir, "none"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
  });
  return fake;
}

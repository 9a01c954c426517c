// A fake AWS endpoint on loopback port 0 serving a fake backend, and the real
// AWS SDK clients pointed at it. Closed by the test that started it.
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { RAMClient } from "@aws-sdk/client-ram";
import type { PermissionBackend } from "../../src/backend/backend.js";
import {
  createFakeBackend,
  type FakeBackend,
  type FakeBackendOptions,
  type FakeSeed,
} from "../../src/backend/fake/fake-backend.js";
import type { Logger } from "../../src/logger.js";
import { startFakeAwsServer, type FakeAwsServer } from "../../src/fake-aws/server.js";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:demo`;
export const PERMISSION_ARN = `arn:aws:ram:${REGION}:${ACCOUNT}:permission/demo-permission`;
export const ATTACHED_PERMISSION_ARN = `arn:aws:ram:${REGION}:${ACCOUNT}:permission/demo-attached`;
export const AWS_MANAGED_ARN = "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet";
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The demo seed's shape, spelled out so these tests do not move with it. */
export const testSeed: FakeSeed = {
  lambda: {
    functions: [{ name: "demo", account: ACCOUNT, region: REGION, versions: ["1"], aliases: { live: "1" } }],
  },
  ram: {
    permissions: [
      {
        name: "demo-permission",
        account: ACCOUNT,
        region: REGION,
        resourceType: "ec2:Subnet",
        policyTemplate: { Effect: "Allow", Action: ["ec2:DescribeSubnets"] },
        creationTime: "2024-01-01T00:00:00Z",
      },
      {
        name: "demo-attached",
        account: ACCOUNT,
        region: REGION,
        resourceType: "ec2:Subnet",
        policyTemplate: { Effect: "Allow", Action: ["ec2:DescribeSubnets", "ec2:DescribeTags"] },
        attachedTo: [`arn:aws:ram:${REGION}:${ACCOUNT}:resource-share/7ab63972-b505-7e2a-420d-6f5d3EXAMPLE`],
        creationTime: "2024-01-01T00:00:00Z",
      },
      {
        name: "AWSRAMDefaultPermissionEC2Subnet",
        permissionType: "AWS_MANAGED",
        resourceType: "ec2:Subnet",
        policyTemplate: { Effect: "Allow", Action: ["ec2:RunInstances", "ec2:DescribeSubnets"] },
        creationTime: "2018-11-13T00:00:00Z",
      },
    ],
  },
};

export interface Harness {
  readonly server: FakeAwsServer;
  /** The fake backend behind the endpoint (unless the test passed its own backend). */
  readonly backend: FakeBackend;
  readonly lambda: LambdaClient;
  readonly ram: RAMClient;
  /** Another pair of clients with their own settings, closed with the harness. */
  readonly clients: (settings: { maxAttempts?: number }) => { lambda: LambdaClient; ram: RAMClient };
}

export interface HarnessOptions {
  readonly backend?: PermissionBackend | undefined;
  readonly fake?: FakeBackendOptions | undefined;
  readonly logger?: Logger | undefined;
}

export async function startHarness(t: TestContext, options: HarnessOptions = {}): Promise<Harness> {
  const fake = createFakeBackend({ seed: testSeed, ...options.fake });
  const backend = options.backend ?? fake;
  const server = await startFakeAwsServer({ backend, logger: options.logger });
  const opened: { destroy(): void }[] = [];
  const clients = (settings: { maxAttempts?: number }) => {
    const config = {
      endpoint: server.url,
      region: REGION,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: settings.maxAttempts ?? 1,
    };
    const pair = { lambda: new LambdaClient(config), ram: new RAMClient(config) };
    opened.push(pair.lambda, pair.ram);
    return pair;
  };
  const { lambda, ram } = clients({});
  t.after(async () => {
    for (const client of opened) client.destroy();
    await server.close();
    await backend.close();
    await fake.close();
  });
  return { server, backend: fake, lambda, ram, clients };
}

/** An SDK error as AWS sends it: its name, its status, and the request ID of the response it came in. */
export function assertAwsError(error: SdkError, name: string, status: number): void {
  assert.equal(error.name, name, error.message);
  assert.equal(error.$metadata.httpStatusCode, status);
  assert.match(error.$metadata.requestId ?? "", UUID_RE);
  assert.equal(error.$metadata.requestId, error.$response?.headers["x-amzn-requestid"]);
}

/** The rejection of `promise`, failing the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error("expected the call to fail");
}

/** What an AWS SDK v3 service exception carries. */
export interface SdkError extends Error {
  readonly $fault?: "client" | "server";
  readonly $metadata: { httpStatusCode?: number; requestId?: string; attempts?: number };
  readonly $response?: { statusCode: number; headers: Record<string, string> };
  readonly code?: string;
  readonly [member: string]: unknown;
}

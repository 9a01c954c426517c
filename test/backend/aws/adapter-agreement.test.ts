// The two adapters of PermissionBackend agree: one scenario table runs against
// the in-process fake backend and against the AWS backend (real SDK, HTTP,
// the fake AWS endpoint over its own fresh fake), and every step must give
// the same answer: the same output, or the same AWS error code, status and
// missing resource.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PermissionBackend } from "../../../src/backend/backend.js";
import { createFakeBackend } from "../../../src/backend/fake/fake-backend.js";
import {
  AWS_MANAGED_PREFIX_LIST,
  AWS_MANAGED_SUBNET,
  DEMO_ATTACHED,
  DEMO_PERMISSION,
  UUID_RE,
  fixedClock,
  fn,
  noDeadline,
  startAwsStack,
} from "./aws-test-stack.js";
import { permissionRef } from "../../support/permission-ref.js";

type Context = Map<string, string>;

interface Step {
  readonly label: string;
  readonly run: (backend: PermissionBackend, context: Context) => Promise<unknown>;
}

interface Scenario {
  readonly name: string;
  readonly steps: readonly Step[];
}

const subnetTemplate = JSON.stringify({ Effect: "Allow", Action: ["ec2:DescribeSubnets"] });
const invoke = { action: "lambda:InvokeFunction", principal: "s3.amazonaws.com" } as const;
const staleRevision = "0f0f0f0f-0000-4000-8000-000000000000";

/** Stores a value for later steps of the same run. */
function remember<T>(context: Context, key: string, value: string | undefined, output: T): T {
  if (value !== undefined) context.set(key, value);
  return output;
}

const scenarios: readonly Scenario[] = [
  {
    name: "a statement's life on the unqualified function",
    steps: [
      { label: "get policy (none yet)", run: (b) => b.getLambdaPolicy({ function: fn("demo") }, noDeadline()) },
      {
        label: "add with every optional field",
        run: (b) =>
          b.addLambdaPermission(
            {
              function: fn("demo"),
              statementId: "allow-s3",
              ...invoke,
              sourceArn: "arn:aws:s3:::demo-bucket",
              sourceAccount: "123456789012",
              eventSourceToken: "evt-1",
              principalOrgId: "o-abcdefghij",
              functionUrlAuthType: "NONE",
            },
            noDeadline(),
          ),
      },
      {
        label: "get policy",
        run: async (b, c) => {
          const out = await b.getLambdaPolicy({ function: fn("demo") }, noDeadline());
          return remember(c, "revision", out.revisionId, out);
        },
      },
      {
        label: "add the same Sid",
        run: (b) => b.addLambdaPermission({ function: fn("demo"), statementId: "allow-s3", ...invoke }, noDeadline()),
      },
      {
        label: "remove with a stale RevisionId",
        run: (b) =>
          b.removeLambdaPermission(
            { function: fn("demo"), statementId: "allow-s3", revisionId: staleRevision },
            noDeadline(),
          ),
      },
      {
        label: "remove with the current RevisionId",
        run: (b, c) =>
          b.removeLambdaPermission(
            { function: fn("demo"), statementId: "allow-s3", revisionId: c.get("revision") },
            noDeadline(),
          ),
      },
      {
        label: "remove again (no policy left)",
        run: (b) => b.removeLambdaPermission({ function: fn("demo"), statementId: "allow-s3" }, noDeadline()),
      },
      { label: "get policy (gone)", run: (b) => b.getLambdaPolicy({ function: fn("demo") }, noDeadline()) },
    ],
  },
  {
    name: "two statements, one removed twice",
    steps: [
      {
        label: "add a",
        run: (b) => b.addLambdaPermission({ function: fn("demo"), statementId: "a", ...invoke }, noDeadline()),
      },
      {
        label: "add b for an account",
        run: (b) =>
          b.addLambdaPermission(
            { function: fn("demo"), statementId: "b", action: "lambda:GetFunction", principal: "210987654321" },
            noDeadline(),
          ),
      },
      {
        label: "remove a",
        run: (b) => b.removeLambdaPermission({ function: fn("demo"), statementId: "a" }, noDeadline()),
      },
      {
        label: "remove a again (statement gone)",
        run: (b) => b.removeLambdaPermission({ function: fn("demo"), statementId: "a" }, noDeadline()),
      },
      { label: "get policy (b only)", run: (b) => b.getLambdaPolicy({ function: fn("demo") }, noDeadline()) },
      {
        label: "add with a stale RevisionId",
        run: (b) =>
          b.addLambdaPermission(
            { function: fn("demo"), statementId: "c", ...invoke, revisionId: staleRevision },
            noDeadline(),
          ),
      },
      {
        label: "add with an invalid principal",
        run: (b) =>
          b.addLambdaPermission(
            { function: fn("demo"), statementId: "d", action: "lambda:InvokeFunction", principal: "bogus_principal" },
            noDeadline(),
          ),
      },
    ],
  },
  {
    name: "versions, aliases and the forms of a function name",
    steps: [
      {
        label: "add on version 1",
        run: (b) =>
          b.addLambdaPermission({ function: fn("demo"), statementId: "v1", ...invoke, qualifier: "1" }, noDeadline()),
      },
      {
        label: "add on alias live via full ARN",
        run: (b) =>
          b.addLambdaPermission(
            {
              function: fn("arn:aws:lambda:us-east-1:123456789012:function:demo"),
              statementId: "live",
              ...invoke,
              qualifier: "live",
            },
            noDeadline(),
          ),
      },
      {
        label: "get version 1 via partial ARN",
        run: (b) => b.getLambdaPolicy({ function: fn("123456789012:function:demo"), qualifier: "1" }, noDeadline()),
      },
      {
        label: "get alias live via account:name",
        run: (b) => b.getLambdaPolicy({ function: fn("123456789012:demo"), qualifier: "live" }, noDeadline()),
      },
      { label: "get unqualified (no policy)", run: (b) => b.getLambdaPolicy({ function: fn("demo") }, noDeadline()) },
      {
        label: "add on unknown version 9",
        run: (b) =>
          b.addLambdaPermission({ function: fn("demo"), statementId: "v9", ...invoke, qualifier: "9" }, noDeadline()),
      },
      {
        label: "add on unknown alias",
        run: (b) =>
          b.addLambdaPermission(
            { function: fn("demo"), statementId: "st", ...invoke, qualifier: "staging" },
            noDeadline(),
          ),
      },
      {
        label: "add on $LATEST",
        run: (b) =>
          b.addLambdaPermission(
            { function: fn("demo"), statementId: "latest", ...invoke, qualifier: "$LATEST" },
            noDeadline(),
          ),
      },
      {
        label: "remove from unknown function",
        run: (b) => b.removeLambdaPermission({ function: fn("nope"), statementId: "x" }, noDeadline()),
      },
      {
        label: "get demo in another Region",
        run: (b) =>
          b.getLambdaPolicy({ function: fn("arn:aws:lambda:eu-west-1:123456789012:function:demo") }, noDeadline()),
      },
      {
        label: "remove from version 1",
        run: (b) => b.removeLambdaPermission({ function: fn("demo"), statementId: "v1", qualifier: "1" }, noDeadline()),
      },
    ],
  },
  {
    name: "reading RAM permissions",
    steps: [
      {
        label: "get customer managed",
        run: (b) => b.getRamPermission({ permission: permissionRef(DEMO_PERMISSION) }, noDeadline()),
      },
      {
        label: "get AWS managed",
        run: (b) => b.getRamPermission({ permission: permissionRef(AWS_MANAGED_SUBNET) }, noDeadline()),
      },
      {
        label: "get default version of a versioned one",
        run: (b) => b.getRamPermission({ permission: permissionRef(AWS_MANAGED_PREFIX_LIST) }, noDeadline()),
      },
      {
        label: "get version 1 of it",
        run: (b) =>
          b.getRamPermission(
            { permission: permissionRef(AWS_MANAGED_PREFIX_LIST), permissionVersion: 1 },
            noDeadline(),
          ),
      },
      {
        label: "get version 3 of it (missing)",
        run: (b) =>
          b.getRamPermission(
            { permission: permissionRef(AWS_MANAGED_PREFIX_LIST), permissionVersion: 3 },
            noDeadline(),
          ),
      },
      {
        label: "get an unknown permission",
        run: (b) =>
          b.getRamPermission(
            { permission: permissionRef("arn:aws:ram:us-east-1:123456789012:permission/nope") },
            noDeadline(),
          ),
      },
    ],
  },
  {
    name: "listing RAM permissions page by page",
    steps: [
      {
        label: "page 1 of all",
        run: async (b, c) => {
          const out = await b.listRamPermissions({ maxResults: 3 }, noDeadline());
          return remember(c, "page2", out.nextToken, out);
        },
      },
      {
        label: "page 2 of all",
        run: async (b, c) => {
          const out = await b.listRamPermissions({ maxResults: 3, nextToken: c.get("page2") }, noDeadline());
          return remember(c, "page3", out.nextToken, out);
        },
      },
      {
        label: "page 3 of all",
        run: (b, c) => b.listRamPermissions({ maxResults: 3, nextToken: c.get("page3") }, noDeadline()),
      },
      {
        label: "customer managed only",
        run: (b) => b.listRamPermissions({ maxResults: 100, permissionType: "CUSTOMER_MANAGED" }, noDeadline()),
      },
      {
        label: "one resource type, any case",
        run: (b) => b.listRamPermissions({ maxResults: 100, resourceType: "EC2:subnet" }, noDeadline()),
      },
      {
        label: "a forged page token",
        run: (b) => b.listRamPermissions({ maxResults: 3, nextToken: "forged.token" }, noDeadline()),
      },
      {
        label: "a page token of another query",
        run: (b, c) =>
          b.listRamPermissions(
            { maxResults: 3, nextToken: c.get("page2"), permissionType: "AWS_MANAGED" },
            noDeadline(),
          ),
      },
    ],
  },
  {
    name: "creating a RAM permission, with client tokens",
    steps: [
      {
        label: "create",
        run: (b) =>
          b.createRamPermission(
            {
              name: "agreed",
              resourceType: "ec2:Subnet",
              policyTemplate: subnetTemplate,
              clientToken: "ct-1",
              tags: { team: "a" },
            },
            noDeadline(),
          ),
      },
      {
        label: "replay with the same token",
        run: (b) =>
          b.createRamPermission(
            {
              name: "agreed",
              resourceType: "ec2:Subnet",
              policyTemplate: subnetTemplate,
              clientToken: "ct-1",
              tags: { team: "a" },
            },
            noDeadline(),
          ),
      },
      {
        label: "same token, other tags",
        run: (b) =>
          b.createRamPermission(
            {
              name: "agreed",
              resourceType: "ec2:Subnet",
              policyTemplate: subnetTemplate,
              clientToken: "ct-1",
              tags: { team: "b" },
            },
            noDeadline(),
          ),
      },
      {
        label: "same name, new token",
        run: (b) =>
          b.createRamPermission(
            {
              name: "agreed",
              resourceType: "ec2:Subnet",
              policyTemplate: subnetTemplate,
              clientToken: "ct-2",
              tags: {},
            },
            noDeadline(),
          ),
      },
      {
        label: "get it",
        run: (b) =>
          b.getRamPermission(
            { permission: permissionRef("arn:aws:ram:us-east-1:123456789012:permission/agreed") },
            noDeadline(),
          ),
      },
      {
        label: "malformed template",
        run: (b) =>
          b.createRamPermission(
            { name: "broken", resourceType: "ec2:Subnet", policyTemplate: "{nope", clientToken: "ct-3", tags: {} },
            noDeadline(),
          ),
      },
      {
        label: "invalid name",
        run: (b) =>
          b.createRamPermission(
            {
              name: "bad name!",
              resourceType: "ec2:Subnet",
              policyTemplate: subnetTemplate,
              clientToken: "ct-4",
              tags: {},
            },
            noDeadline(),
          ),
      },
    ],
  },
  {
    name: "deleting RAM permissions",
    steps: [
      {
        label: "delete",
        run: (b) =>
          b.deleteRamPermission({ permission: permissionRef(DEMO_PERMISSION), clientToken: "dt-1" }, noDeadline()),
      },
      {
        label: "replay the delete",
        run: (b) =>
          b.deleteRamPermission({ permission: permissionRef(DEMO_PERMISSION), clientToken: "dt-1" }, noDeadline()),
      },
      {
        label: "delete again, new token",
        run: (b) =>
          b.deleteRamPermission({ permission: permissionRef(DEMO_PERMISSION), clientToken: "dt-2" }, noDeadline()),
      },
      {
        label: "same token, other permission",
        run: (b) =>
          b.deleteRamPermission({ permission: permissionRef(DEMO_ATTACHED), clientToken: "dt-1" }, noDeadline()),
      },
      {
        label: "delete an attached one",
        run: (b) =>
          b.deleteRamPermission({ permission: permissionRef(DEMO_ATTACHED), clientToken: "dt-3" }, noDeadline()),
      },
      {
        label: "delete an AWS managed one",
        run: (b) =>
          b.deleteRamPermission({ permission: permissionRef(AWS_MANAGED_SUBNET), clientToken: "dt-4" }, noDeadline()),
      },
      {
        label: "get the deleted one",
        run: (b) => b.getRamPermission({ permission: permissionRef(DEMO_PERMISSION) }, noDeadline()),
      },
    ],
  },
];

/** A step's answer, with what legitimately differs between two fresh models made equal. */
async function outcomeOf(step: Step, backend: PermissionBackend, context: Context): Promise<unknown> {
  try {
    return { ok: normalise(await step.run(backend, context)) };
  } catch (error) {
    if (!(error instanceof Error)) return { thrown: String(error) };
    const e = error as Error & Record<string, unknown>;
    // The request ID differs per call by design; that one is present is checked elsewhere.
    return {
      error: e.name,
      service: e["service"],
      code: e["code"],
      httpStatus: e["httpStatus"],
      missing: e["missing"],
      retryAfterSeconds: e["retryAfterSeconds"],
    };
  }
}

function normalise(value: unknown, key = ""): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "string") {
    // RevisionIds and request IDs are fresh UUIDs in each model; page tokens are signed with a per-model key.
    if (key === "revisionId" && UUID_RE.test(value)) return "<revision-id>";
    if (key === "awsRequestId" && UUID_RE.test(value)) return "<request-id>";
    if (key === "nextToken") return "<page-token>";
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => normalise(item, key));
  if (typeof value === "object" && value !== null) {
    // The removed statement is what only the fake knows: Lambda's RemovePermission does not return it.
    const entries = Object.entries(value).filter(([k]) => k !== "removedStatement");
    return Object.fromEntries(entries.map(([k, v]) => [k, normalise(v, k)]));
  }
  return value;
}

for (const scenario of scenarios) {
  test(`adapters agree: ${scenario.name}`, async () => {
    const fake = createFakeBackend({ clock: fixedClock });
    const aws = await startAwsStack({ clock: fixedClock, maxAttempts: 1 });
    try {
      const fakeContext: Context = new Map();
      const awsContext: Context = new Map();
      for (const step of scenario.steps) {
        const expected = await outcomeOf(step, fake, fakeContext);
        const actual = await outcomeOf(step, aws.backend, awsContext);
        assert.deepEqual(
          actual,
          expected,
          `step "${step.label}" differs (actual: AWS backend, expected: fake backend)`,
        );
      }
    } finally {
      await aws.close();
      await fake.close();
    }
  });
}

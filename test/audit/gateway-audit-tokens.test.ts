// The audit trail's tokens through the whole gateway: a RAM mutation whose
// clientToken the gateway made up records that token's digest, whether the
// call succeeds or fails, since the caller is told the token either way (the
// client-token header); and a call refused before it ran records none.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { tokenDigest, type AuditEvent } from "../../src/audit/event.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";

async function setUp(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), "pg-audit-tokens-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "audit.jsonl");
  const gateway = await startConfiguredGateway({ AUDIT_SINK: file });
  t.after(() => gateway.close());
  const client = createClient(PermissionService, createConnectTransport({ baseUrl: gateway.url, httpVersion: "1.1" }));
  const events = async (): Promise<AuditEvent[]> =>
    (await readFile(file, "utf8"))
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as AuditEvent)
      .filter((event) => event.event === "outcome");
  return { client, events };
}

describe("audit: the client token the gateway generated", () => {
  test("a failed DeleteRamPermission records the digest of the token the caller was sent", async (t) => {
    const { client, events } = await setUp(t);
    const failure = await client
      .deleteRamPermission({ permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/never-created" })
      .then(
        () => assert.fail("deleting a permission that never existed succeeded"),
        (error: unknown) => ConnectError.from(error),
      );
    assert.equal(failure.code, Code.NotFound);
    const sent = failure.metadata.get("client-token");
    assert.ok(sent !== null && sent !== "", "the caller is told the generated token in the client-token header");

    const [event, ...more] = await events();
    assert.equal(more.length, 0);
    assert.equal(event?.outcome, "NOT_FOUND");
    assert.deepEqual(event?.tokens, { clientToken: tokenDigest(sent) });
    assert.ok(!JSON.stringify(event).includes(sent), "only the digest");
  });

  test("a successful CreateRamPermission records the digest of the token in its response", async (t) => {
    const { client, events } = await setUp(t);
    let header: Headers | undefined;
    const created = await client.createRamPermission(
      {
        name: "subnets",
        resourceType: "ec2:Subnet",
        policyTemplate: '{"Effect":"Allow","Action":["ec2:DescribeSubnets"]}',
      },
      { onHeader: (h) => (header = h) },
    );
    assert.equal(header?.get("client-token"), created.clientToken);
    const [event] = await events();
    assert.equal(event?.outcome, "OK");
    assert.deepEqual(event?.tokens, { clientToken: tokenDigest(created.clientToken) });
  });

  test("a request that does not validate records no token: none was made up or sent", async (t) => {
    const { client, events } = await setUp(t);
    const failure = await client.deleteRamPermission({ permissionArn: "not-an-arn" }).then(
      () => assert.fail("an invalid ARN was accepted"),
      (error: unknown) => ConnectError.from(error),
    );
    assert.equal(failure.code, Code.InvalidArgument);
    assert.equal(failure.metadata.get("client-token"), null);
    const [event] = await events();
    assert.equal(event?.outcome, "INVALID_ARGUMENT");
    assert.equal(event?.tokens, undefined);
  });
});

// docs/security.md's "Audit trail" section, tested as written: its example event
// is what the call it describes writes, its digest command prints the digest
// the trail uses, and the configuration table has a row for every audit
// variable.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, test } from "node:test";
import { AUDIT_ENV_HELP } from "../../src/audit/config.js";
import { tokenDigest, type AuditEvent } from "../../src/audit/event.js";
import { DEFAULTS, handlerProgress } from "../authz/fixtures.js";
import { codeBlocks, CONFIGURATION_DOC, docSection, readDoc, readmeRow } from "../support/readme.js";
import { startAuditedServer } from "./audited-server.js";

const section = await docSection("docs/security.md", "## Audit trail");

describe("docs/security.md: Audit trail", () => {
  test("the example event is what a team's AddLambdaPermission writes", async (t) => {
    const [shown] = codeBlocks(section, "json");
    assert.ok(shown !== undefined);
    const example = JSON.parse(shown) as AuditEvent;
    const { client, events } = await startAuditedServer(t, {
      policies: fileURLToPath(new URL("../../authz/examples/team-scoped", import.meta.url)),
      defaults: { ...DEFAULTS, account: "111122223333" },
      impl: {
        addLambdaPermission: (_request, context) => {
          handlerProgress(context.values).output = { awsRequestId: example.awsRequestId };
          return { statement: "{}" };
        },
      },
    });
    await client.addLambdaPermission(
      {
        functionName: "payments-api",
        statementId: "payments-s3",
        action: "lambda:InvokeFunction",
        principal: "s3.amazonaws.com",
        sourceArn: "arn:aws:s3:::payments-uploads",
        sourceAccount: "111122223333",
        idempotencyKey: "add-s3-invoke-1",
      },
      { headers: { "x-test-caller": "pat", "x-test-groups": "payments", "x-test-auth-mode": "jwt" } },
    );
    const [attempt, written, ...more] = await events();
    assert.equal(more.length, 0);
    assert.equal(attempt?.event, "attempt");
    assert.equal(attempt.id, written?.id, "the attempt and its outcome share an id");
    assert.deepEqual({ ...written, time: example.time, id: example.id, durationMs: example.durationMs }, example);
  });

  test("the digest command prints the digest the trail writes", async () => {
    const [command] = codeBlocks(section, "sh");
    assert.ok(command !== undefined);
    const [line, comment] = command.split("\n");
    const { stdout } = await promisify(execFile)("bash", ["-c", line ?? ""]);
    assert.equal(stdout.trim(), tokenDigest("add-s3-invoke-1"));
    assert.equal(comment, `# ${tokenDigest("add-s3-invoke-1")}`);
  });

  test("the configuration table has a row for every audit variable", async () => {
    const table = await readDoc(CONFIGURATION_DOC);
    for (const help of AUDIT_ENV_HELP)
      assert.ok(table.includes(readmeRow(help)), `${CONFIGURATION_DOC} row of ${help.name}: ${readmeRow(help)}`);
  });
});

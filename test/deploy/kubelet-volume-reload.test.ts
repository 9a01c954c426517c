// A ConfigMap or Secret mounted by Kubernetes is updated by kubelet swapping
// the volume's ..data link (test/deploy/kubelet-volume.ts): no file the
// gateway was told about is written, and no signal is sent. The whole
// gateway runs here on two such volumes, the Cedar policies
// (AUTHZ_POLICIES, a directory) and the API keys (API_KEYS_FILE), with its
// real pollers; each update must take effect on the next call once the
// gateway says it reloaded, and a broken update must leave the old one in
// force. The waits are for the gateway's own log lines, not for time.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { after, before, describe, test } from "node:test";
import type { Gateway } from "../../src/gateway.js";
import { createGatewayClient, type GatewayClient } from "../support/clients.js";
import { startConfiguredGateway } from "../support/configured-gateway.js";
import { createRecordingLogger, type LogLine, type RecordingLogger } from "../support/recording-logger.js";
import { createKubeletVolume, updateKubeletVolume } from "./kubelet-volume.js";

const readers =
  '@id("readers-read")\npermit (principal in PermissionGateway::Group::"readers", action in PermissionGateway::Action::"Read", resource);\n';
const writersOnly =
  '@id("writers-read")\npermit (principal in PermissionGateway::Group::"writers", action in PermissionGateway::Action::"Read", resource);\n';
const broken = '@id("broken")\npermit (principal, action, resource) when { resource.nonsense };\n';

const sha256 = (key: string): string => createHash("sha256").update(key).digest("hex");
const keyLine = (key: string, caller: string, groups: string): string => `${sha256(key)} ${caller} ${groups}\n`;
const firstKey = "pgk_first";
const secondKey = "pgk_second";

describe("a gateway on kubelet-updated volumes", () => {
  let dir = "";
  let logger: RecordingLogger;
  let gateway: Gateway;
  let client: GatewayClient;
  const policies = (): string => join(dir, "policies");
  const keys = (): string => join(dir, "api-keys");

  /** The code of a read of the demo function: NOT_FOUND (it has no policy) once authorization lets it through. */
  const readAs = async (key: string): Promise<Code> => {
    const result = await client.call(
      "getLambdaPolicy",
      { functionName: "demo" },
      { headers: { authorization: `Bearer ${key}` } },
    );
    return result.ok ? Code.Unknown : result.error.code;
  };
  /** The n-th line (from 1) with this message, logged already or to come. */
  const nth = (message: string, n: number): Promise<LogLine> => {
    let seen = 0;
    return logger.waitFor((line) => line.message === message && ++seen === n);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pg-kubelet-"));
    await createKubeletVolume(policies(), { "readers.cedar": readers });
    await createKubeletVolume(keys(), { "api-keys": keyLine(firstKey, "alice", "readers") });
    logger = createRecordingLogger();
    gateway = await startConfiguredGateway(
      {
        AUTH_MODE: "api-key",
        API_KEYS_FILE: join(keys(), "api-keys"),
        AUTHZ_POLICIES: policies(),
        AUTH_RELOAD_INTERVAL_MS: "20",
      },
      logger,
    );
    client = createGatewayClient("grpc", gateway.url);
  });
  after(async () => {
    client.close();
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("a ConfigMap update of the Cedar policies is in force once the gateway logs it", async () => {
    assert.equal(await readAs(firstKey), Code.NotFound, "the first set lets readers read");
    await nth("authorization policies in force", 1);
    await updateKubeletVolume(policies(), { "writers.cedar": writersOnly });
    const installed = await nth("authorization policies in force", 2);
    assert.equal(installed.fields?.["policies"], 1);
    assert.equal(await readAs(firstKey), Code.PermissionDenied, "the new set lets only writers read");
  });

  test("a broken update is refused once, and the set in force stays", async () => {
    await updateKubeletVolume(policies(), { "writers.cedar": writersOnly, "broken.cedar": broken });
    const refused = await nth("authorization policies not reloaded; the previous ones stay in force", 1);
    assert.match(String(refused.fields?.["error"]), /broken\.cedar/);
    assert.equal(await readAs(firstKey), Code.PermissionDenied);
    // Back to the readers' set: the next change after a refused one is installed.
    await updateKubeletVolume(policies(), { "readers.cedar": readers });
    await nth("authorization policies in force", 3);
    assert.equal(await readAs(firstKey), Code.NotFound);
    const refusals = logger.lines.filter((line) => line.message.startsWith("authorization policies not reloaded"));
    assert.equal(refusals.length, 1, "the broken set, polled again and again, was refused once");
  });

  test("reloads racing kubelet's updates never fail on the version kubelet just deleted", async () => {
    const sets = [{ "readers.cedar": readers, "writers.cedar": writersOnly }, { "readers.cedar": readers }];
    for (const set of [...sets, ...sets, ...sets, ...sets, ...sets, ...sets, ...sets, ...sets, ...sets, ...sets])
      await Promise.all([gateway.reload(), updateKubeletVolume(policies(), set)]);
    const unreadable = logger.lines.filter(
      (line) =>
        line.message.startsWith("authorization policies not reloaded") && /ENOENT/.test(String(line.fields?.["error"])),
    );
    assert.deepEqual(unreadable, []);
    await gateway.reload();
    assert.equal(await readAs(firstKey), Code.NotFound, "the last set is in force");
  });

  test("a Secret update of the API keys revokes the old key and admits the new one", async () => {
    assert.equal(await readAs(secondKey), Code.Unauthenticated);
    await updateKubeletVolume(keys(), { "api-keys": keyLine(secondKey, "bob", "readers") });
    await nth("API keys reloaded", 1);
    assert.equal(await readAs(firstKey), Code.Unauthenticated, "the removed key no longer works");
    assert.equal(await readAs(secondKey), Code.NotFound, "the added key works, with its groups");
  });
});

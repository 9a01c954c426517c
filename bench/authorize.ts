// Per-call cost of authorization in-process: building the authorization
// request from a validated input, and Cedar's decision against preparsed
// policies, for a small set (the examples of docs/security.md) and a large one (200
// team policies). Variants are interleaved in rounds; the median and the
// best round per call are printed (on a shared machine the best round is
// the steadier figure). No server: the cost through the gateway is npm run
// bench's.
//
//   npx tsx bench/authorize.ts
//   BENCH_CALLS=20000 BENCH_ROUNDS=7 npx tsx bench/authorize.ts
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createCedarAuthorizer } from "../src/authz/cedar/cedar-authorizer.js";
import { authorizationRequestFor } from "../src/authz/request.js";
import type { ResourceDefaults } from "../src/authz/resource.js";
import { silentLogger } from "../src/logger.js";
import { buildCallContext, type ParsedCall } from "../src/rpc/call-context.js";
import { rpcTable } from "../src/rpc/rpc-table.js";
import { create } from "@bufbuild/protobuf";
import { AddLambdaPermissionRequestSchema } from "../gen/permission/v1/permission_pb.js";

const calls = Number(process.env["BENCH_CALLS"] ?? 10_000);
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 5);

const examples = fileURLToPath(new URL("../authz/examples/", import.meta.url));
const defaults: ResourceDefaults = { region: "eu-west-1", partition: "aws", account: "111122223333" };
const team = { id: "pat", groups: ["payments"] };

/** The validated call, as the gateway's call context holds it. */
function input(principal: string): ParsedCall {
  const { call } = buildCallContext(
    rpcTable.addLambdaPermission,
    create(AddLambdaPermissionRequestSchema, {
      functionName: "payments-api",
      statementId: "payments-s3",
      action: "lambda:InvokeFunction",
      principal,
    }),
    { newClientToken: () => "unused" },
  );
  if (call === undefined) throw new Error("the benchmark's request does not validate");
  return call;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "pg-bench-authz-"));
  try {
    const small = join(dir, "small");
    for (const set of ["read-only-auditors", "team-scoped", "forbid-public-grants"]) {
      await cp(join(examples, set), join(small, set), { recursive: true });
    }
    const large = join(dir, "large");
    await cp(small, large, { recursive: true });
    const teams = Array.from({ length: 200 }, (_, n) =>
      [
        `@id("team-${n}")`,
        `permit (principal in PermissionGateway::Group::"team-${n}", action in PermissionGateway::Action::"LambdaPolicy", resource)`,
        `when { resource.name like "team-${n}-*" && resource has account && resource.account == "111122223333" };`,
      ].join("\n"),
    );
    await writeFile(join(large, "teams.cedar"), teams.join("\n\n"));

    const smallSet = await createCedarAuthorizer({ policies: small, logger: silentLogger, decisionCacheEntries: 0 });
    const largeSet = await createCedarAuthorizer({ policies: large, logger: silentLogger, decisionCacheEntries: 0 });
    const allowed = input("s3.amazonaws.com");
    const publicGrant = input("*");
    const request = authorizationRequestFor(allowed, team, defaults);
    const forbidden = authorizationRequestFor(publicGrant, team, defaults);
    if (!smallSet.authorize(request).allowed || smallSet.authorize(forbidden).allowed)
      throw new Error("unexpected decisions");

    const variants: Record<string, () => void> = {
      "build the request": () => void authorizationRequestFor(allowed, team, defaults),
      [`authorize: allow, ${smallSet.policyIds().length} policies`]: () => void smallSet.authorize(request),
      [`authorize: forbid, ${smallSet.policyIds().length} policies`]: () => void smallSet.authorize(forbidden),
      [`authorize: allow, ${largeSet.policyIds().length} policies`]: () => void largeSet.authorize(request),
    };
    const samples = new Map<string, number[]>(Object.keys(variants).map((name) => [name, []]));
    for (const run of Object.values(variants)) for (let i = 0; i < 500; i++) run(); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const [name, run] of Object.entries(variants)) {
        const started = process.hrtime.bigint();
        for (let i = 0; i < calls; i++) run();
        samples.get(name)?.push(Number(process.hrtime.bigint() - started) / 1e3 / calls);
      }
    }
    console.log(`node ${process.version}, cedar-wasm, ${rounds} rounds x ${calls} calls, AddLambdaPermission`);
    console.log("variant                              median µs/call   best round µs/call");
    for (const [name, values] of samples) {
      console.log(
        `${name.padEnd(36)} ${median(values).toFixed(1).padStart(14)}   ${Math.min(...values)
          .toFixed(1)
          .padStart(18)}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

await main();

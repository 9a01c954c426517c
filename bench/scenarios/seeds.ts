// Scenarios on seeded fakes: AddLambdaPermission then RemoveLambdaPermission
// on a policy near Lambda's 20 KB limit (gateway vs baseline), and the
// large seed (100,000 functions, 10,000 RAM permissions) against the small
// one (the demo seed plus the entries these calls need): GetLambdaPolicy of
// the last function, and ListRamPermissions walking several pages.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { call, connectLoad, grpcLoad, jsonBody, rpc, rpcPath, sampleCall } from "../calls.js";
import { compareAlternating } from "../compare.js";
import type { ConnectRequest } from "../load/autocannon.js";
import { comparisonReport, type ScenarioHeading } from "../report.js";
import type { ServerUnderTest } from "../servers.js";
import type { ListRamPermissionsRequestSchema } from "../../gen/permission/v1/permission_pb.js";
import {
  benchSourceArn,
  buildSeed,
  deepFunction,
  largeFunctions,
  largeRamPermissions,
  nearLimitFunction,
  policyLimitBytes,
  smallRamPermissions,
  writeSeed,
} from "../seeds.js";
import {
  connectConnections,
  connectText,
  grpcShape,
  grpcText,
  pacingText,
  requireH2load,
  versusBaseline,
} from "./common.js";
import type { BenchContext } from "./context.js";

export const seedScenarioIds = ["policy-limit", "large-seed-get-policy", "large-seed-list-pages"] as const;

/** Connections of the policy-limit scenario: each may have one added statement in the policy at once. */
const policyConnections = 4;
/** Statement ids `b<n>`: at most this long. */
const addedIdLength = 8;
const pageSize = 50;
const pagesPerWalk = 5;

export async function runSeedScenarios(ctx: BenchContext): Promise<void> {
  if (!seedScenarioIds.some((id) => ctx.wants(id))) return;
  const shape = { inFlightStatements: policyConnections, addedIdLength };
  const wantsLarge = ctx.wants("large-seed-get-policy") || ctx.wants("large-seed-list-pages");
  const smallSeed = await writeSeed(
    ctx.tmpDir,
    "small-seed",
    buildSeed({ ...shape, functions: 0, ramPermissions: smallRamPermissions }),
  );
  const largeSeed = wantsLarge
    ? await writeSeed(
        ctx.tmpDir,
        "large-seed",
        buildSeed({ ...shape, functions: largeFunctions, ramPermissions: largeRamPermissions }),
      )
    : undefined;
  // Started side by side: nothing is measured while they load their seeds.
  const started = await Promise.allSettled([
    ctx.gateway("gateway (small seed)", { FAKE_SEED: smallSeed }),
    ...(largeSeed === undefined ? [] : [ctx.gateway("gateway (large seed)", { FAKE_SEED: largeSeed })]),
  ]);
  const servers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    const [small, large] = servers;
    if (small === undefined) return;
    await policyLimit(ctx, small);
    if (large === undefined) return;
    await getPolicyDeep(ctx, small, large);
    await listPages(ctx, small, large);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

async function policyLimit(ctx: BenchContext, gateway: ServerUnderTest): Promise<void> {
  const heading: ScenarioHeading = {
    id: "policy-limit",
    title: "AddLambdaPermission then RemoveLambdaPermission near the 20 KB policy limit, Connect JSON",
    measures: "a statement added to and removed from a policy just under 20480 bytes, against the bare server",
    generator: `${connectText(policyConnections)}, each adding then removing its own statement; ${pacingText(ctx.plan)}`,
  };
  if (!ctx.wants(heading.id)) return;
  const baseline = await ctx.baseline();
  const policy = await sampleCall(gateway, "connect", call(rpc.getLambdaPolicy, { functionName: nearLimitFunction }));
  const policyBytes = Buffer.byteLength(policy.message.policy);
  for (const server of [baseline, gateway]) {
    await sampleCall(server, "connect", addCall("b-sample"));
    await sampleCall(server, "connect", removeCall("b-sample"));
  }
  const load = connectLoad(addThenRemoveRequests(), policyConnections);
  await versusBaseline(ctx, heading, {
    baseline,
    gateway,
    load,
    afterGatewayRound: () => removeLeftovers(gateway),
    notes: [
      `the policy of ${nearLimitFunction} holds ${policyBytes.toLocaleString("en-US")} of ${policyLimitBytes.toLocaleString("en-US")} bytes before each add`,
    ],
  });
}

function addCall(statementId: string) {
  return call(rpc.addLambdaPermission, {
    functionName: nearLimitFunction,
    statementId,
    action: "lambda:InvokeFunction",
    principal: "s3.amazonaws.com",
    sourceArn: benchSourceArn,
  });
}

function removeCall(statementId: string) {
  return call(rpc.removeLambdaPermission, { functionName: nearLimitFunction, statementId });
}

/** A round ends mid-loop: a statement added just before it stopped is removed here, so the next round starts near the limit again. */
async function removeLeftovers(gateway: ServerUnderTest): Promise<void> {
  const policy = await sampleCall(gateway, "connect", call(rpc.getLambdaPolicy, { functionName: nearLimitFunction }));
  const statements = (JSON.parse(policy.message.policy) as { Statement: { Sid: string }[] }).Statement;
  for (const { Sid } of statements.filter((s) => !s.Sid.startsWith("seed-")))
    await sampleCall(gateway, "connect", removeCall(Sid));
}

/** Per connection: add `b<n>`, then remove it; n is unique across connections. */
function addThenRemoveRequests(): ConnectRequest[] {
  let next = 0;
  const addBody = jsonBody(addCall("")) as Record<string, unknown>;
  const removeBody = jsonBody(removeCall("")) as Record<string, unknown>;
  return [
    {
      method: "POST",
      path: rpcPath(rpc.addLambdaPermission),
      setupRequest: (request, context: { statementId?: string }) => {
        context.statementId = `b${next++ % 10 ** (addedIdLength - 1)}`;
        return { ...request, body: JSON.stringify({ ...addBody, statementId: context.statementId }) };
      },
    },
    {
      method: "POST",
      path: rpcPath(rpc.removeLambdaPermission),
      setupRequest: (request, context: { statementId?: string }) => ({
        ...request,
        body: JSON.stringify({ ...removeBody, statementId: context.statementId }),
      }),
    },
  ];
}

async function getPolicyDeep(ctx: BenchContext, small: ServerUnderTest, large: ServerUnderTest): Promise<void> {
  const heading: ScenarioHeading = {
    id: "large-seed-get-policy",
    title: "GetLambdaPolicy of the last function of the seed, large seed against small, gRPC",
    measures: `${largeFunctions.toLocaleString("en-US")} functions and ${largeRamPermissions.toLocaleString("en-US")} RAM permissions against the demo seed: a lookup must not scan`,
    generator: `${grpcText()}; ${pacingText(ctx.plan)}`,
  };
  if (!ctx.wants(heading.id) || !requireH2load(ctx, heading)) return;
  const read = call(rpc.getLambdaPolicy, { functionName: deepFunction });
  for (const server of [small, large]) await sampleCall(server, "grpc", read);
  const load = grpcLoad(read, grpcShape);
  const result = await compareAlternating(
    { label: "small seed", server: small, load },
    { label: "large seed", server: large, load },
    ctx.plan,
  );
  ctx.report(comparisonReport(heading, "large/small seed req/s", result));
}

async function listPages(ctx: BenchContext, small: ServerUnderTest, large: ServerUnderTest): Promise<void> {
  const heading: ScenarioHeading = {
    id: "large-seed-list-pages",
    title: `ListRamPermissions walking ${pagesPerWalk} pages of ${pageSize}, large seed (near the end) against small (from the start), Connect JSON`,
    measures: "the cost of a page must not grow with the pages before it (paging O(page))",
    generator: `${connectText()}, each walking the pages through next_page_token; ${pacingText(ctx.plan)}`,
  };
  if (!ctx.wants(heading.id)) return;
  const smallStart = "";
  const largeStart = await tokenBeforeLastPages(large, pagesPerWalk + 1);
  for (const [server, start] of [
    [small, smallStart],
    [large, largeStart],
  ] as const)
    await checkWalk(server, start);
  const result = await compareAlternating(
    { label: "small seed", server: small, load: connectLoad(pageWalkRequests(smallStart), connectConnections) },
    { label: "large seed", server: large, load: connectLoad(pageWalkRequests(largeStart), connectConnections) },
    ctx.plan,
  );
  ctx.report(comparisonReport(heading, "large/small seed req/s", result));
}

function listCall(pageToken: string) {
  const init: MessageInitShape<typeof ListRamPermissionsRequestSchema> = { pageSize, pageToken };
  return call(rpc.listRamPermissions, init);
}

/** The page token `pages` pages before the end of the list, found by walking it with a real client. */
async function tokenBeforeLastPages(server: ServerUnderTest, pages: number): Promise<string> {
  const tokens: string[] = [""];
  for (;;) {
    const page = await sampleCall(server, "connect", listCall(tokens[tokens.length - 1] ?? ""));
    if (page.message.nextPageToken === "") break;
    tokens.push(page.message.nextPageToken);
  }
  const token = tokens[tokens.length - pages];
  if (token === undefined) throw new Error(`${server.label}: the list has fewer than ${pages} pages`);
  return token;
}

async function checkWalk(server: ServerUnderTest, start: string): Promise<void> {
  let token = start;
  for (let page = 1; page <= pagesPerWalk; page++) {
    const answer = await sampleCall(server, "connect", listCall(token));
    if (answer.message.permissions.length !== pageSize || answer.message.nextPageToken === "") {
      throw new Error(
        `${server.label}: page ${page} of the walk has ${answer.message.permissions.length} permissions and ${answer.message.nextPageToken === "" ? "no" : "a"} next token`,
      );
    }
    token = answer.message.nextPageToken;
  }
}

/** Per connection: the first page from `start`, then each next page from the token the last answer gave. */
function pageWalkRequests(start: string): ConnectRequest[] {
  const path = rpcPath(rpc.listRamPermissions);
  return Array.from({ length: pagesPerWalk }, (_, index) => ({
    method: "POST",
    path,
    setupRequest: (request: ConnectRequest, context: { pageToken?: string }) => ({
      ...request,
      body: JSON.stringify({ pageSize, pageToken: index === 0 ? start : (context.pageToken ?? "") }),
    }),
    onResponse: (_status: number, body: string, context: { pageToken?: string }) => {
      // An error answer (counted as failed) has no token: the walk restarts.
      context.pageToken = nextPageTokenOf(body);
    },
  }));
}

function nextPageTokenOf(body: string): string {
  try {
    return (JSON.parse(body) as { nextPageToken?: string }).nextPageToken ?? "";
  } catch {
    return "";
  }
}

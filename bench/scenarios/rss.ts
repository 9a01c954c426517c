// RSS after 100,000 and after 1,000,000 calls: one fresh gateway process on
// the embedded default, driven in chunks of calls, its VmRSS read from /proc
// after each chunk (and sampled during it for the peak). Each chunk is 40 %
// gRPC from h2load and 60 % Connect JSON from autocannon at the same time:
// a leak on either transport shows, and the million calls take minutes, not
// ten. Growth between the first reading and the last is what a leak looks
// like; the readings come from one process, so they cannot alternate.
import { connectLoad, grpcLoad, sampleCall } from "../calls.js";
import { runRound, warmUp, type Load } from "../load/drive.js";
import type { RoundResult } from "../load/round.js";
import { megabytes, readRssBytes } from "../rss.js";
import type { Row, ScenarioHeading } from "../report.js";
import type { ServerUnderTest } from "../servers.js";
import {
  connectConnections,
  connectText,
  fixedRequests,
  grpcShape,
  grpcText,
  removeAbsent,
  requireH2load,
} from "./common.js";
import type { BenchContext } from "./context.js";

export const rssScenarioIds = ["rss"] as const;

export async function runRssScenario(ctx: BenchContext): Promise<void> {
  const { rssFirstCalls: first, rssTotalCalls: total, rssCheckpoints: checkpoints } = ctx.plan;
  const heading: ScenarioHeading = {
    id: "rss",
    title: `RSS after ${first.toLocaleString("en-US")} and after ${total.toLocaleString("en-US")} calls`,
    measures: "RemoveLambdaPermission without a token on a fresh gateway: resident memory as calls add up",
    generator: `${grpcText()} (40 % of the calls) with ${connectText()} (60 %) at once, ${checkpoints} chunks of calls, VmRSS read after each`,
  };
  if (!ctx.wants(heading.id) || !requireH2load(ctx, heading)) return;
  const gateway = await ctx.gateway("gateway (RSS run)");
  try {
    await sampleCall(gateway, "grpc", removeAbsent());
    await sampleCall(gateway, "connect", removeAbsent());
    const grpc = grpcLoad(removeAbsent(), grpcShape);
    const connect = connectLoad(fixedRequests(removeAbsent()), connectConnections);
    await warmUp(gateway, grpc, ctx.plan.warmUpSeconds);
    await warmUp(gateway, connect, ctx.plan.warmUpSeconds);
    const rows: Row[] = [
      { label: "at start (after warm-up)", values: { "RSS MB": megabytes(await readRssBytes(gateway.pid)) } },
    ];
    const chunks = [first, ...Array.from({ length: checkpoints - 1 }, () => (total - first) / (checkpoints - 1))].map(
      Math.round,
    );
    let calls = 0;
    let failed = 0;
    const readings: number[] = [];
    for (const chunk of chunks) {
      const grpcCalls = Math.round(chunk * 0.4);
      const round = combine(
        await Promise.all([runCount(gateway, grpc, grpcCalls), runCount(gateway, connect, chunk - grpcCalls)]),
      );
      calls += round.succeeded;
      failed += round.failed;
      const rss = await readRssBytes(gateway.pid);
      readings.push(rss);
      rows.push({
        label: `after ${calls.toLocaleString("en-US")} calls`,
        values: {
          calls,
          "req/s": round.requestsPerSecond,
          "RSS MB": megabytes(rss),
          "peak RSS MB": megabytes(round.peakRssBytes),
          failed: round.failed,
        },
      });
    }
    const ratio = (readings[readings.length - 1] ?? Number.NaN) / (readings[0] ?? Number.NaN);
    ctx.report({
      ...heading,
      columns: ["calls", "req/s", "RSS MB", "peak RSS MB", "failed"],
      rows,
      ratio: {
        label: `RSS after ${total.toLocaleString("en-US")} / after ${first.toLocaleString("en-US")} calls`,
        value: ratio,
        perPair: [ratio],
      },
      notes: failed > 0 ? [`${failed} calls failed: the figures are not valid`] : [],
    });
  } finally {
    await gateway.stop();
  }
}

function runCount(gateway: ServerUnderTest, load: Load, requests: number): Promise<RoundResult> {
  return runRound(gateway, load, { kind: "count", requests }, { latencies: false });
}

/** Two generators' rounds run at once, as one. */
function combine(rounds: readonly RoundResult[]): RoundResult {
  const succeeded = rounds.reduce((sum, r) => sum + r.succeeded, 0);
  const seconds = Math.max(...rounds.map((r) => r.seconds));
  return {
    succeeded,
    failed: rounds.reduce((sum, r) => sum + r.failed, 0),
    seconds,
    requestsPerSecond: succeeded / seconds,
    p50Ms: Number.NaN,
    p99Ms: Number.NaN,
    peakRssBytes: Math.max(...rounds.map((r) => r.peakRssBytes)),
    firstFailure: rounds.find((r) => r.firstFailure !== undefined)?.firstFailure,
  };
}

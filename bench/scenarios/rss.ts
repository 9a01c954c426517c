// RSS after 100,000 and after 1,000,000 calls: one fresh gateway process on
// the embedded default, driven by h2load in chunks of calls, its VmRSS read
// from /proc after each chunk (and sampled during it for the peak). Growth
// between the first reading and the last is what a leak looks like; the
// readings come from one process, so they cannot alternate like rounds.
import { grpcLoad, sampleCall } from "../calls.js";
import { runRound, warmUp } from "../load/drive.js";
import { megabytes, readRssBytes } from "../rss.js";
import type { Row, ScenarioHeading } from "../report.js";
import { grpcShape, grpcText, removeAbsent, requireH2load } from "./common.js";
import type { BenchContext } from "./context.js";

export const rssScenarioIds = ["rss"] as const;

export async function runRssScenario(ctx: BenchContext): Promise<void> {
  const { rssFirstCalls: first, rssTotalCalls: total, rssCheckpoints: checkpoints } = ctx.plan;
  const heading: ScenarioHeading = {
    id: "rss",
    title: `RSS after ${first.toLocaleString("en-US")} and after ${total.toLocaleString("en-US")} calls`,
    measures: "RemoveLambdaPermission without a token on a fresh gateway: resident memory as calls add up",
    generator: `${grpcText()}, ${checkpoints} chunks of calls, VmRSS read after each`,
  };
  if (!ctx.wants(heading.id) || !requireH2load(ctx, heading)) return;
  const gateway = await ctx.gateway("gateway (RSS run)");
  try {
    await sampleCall(gateway, "grpc", removeAbsent());
    const load = grpcLoad(removeAbsent(), grpcShape);
    // Warm-up calls count: they are calls the process served.
    await warmUp(gateway, load, ctx.plan.warmUpSeconds);
    const rows: Row[] = [{ label: "at start (after warm-up)", values: { "RSS MB": megabytes(await readRssBytes(gateway.pid)) } }];
    const chunks = [first, ...Array.from({ length: checkpoints - 1 }, () => (total - first) / (checkpoints - 1))].map(Math.round);
    let calls = 0;
    let failed = 0;
    const readings: number[] = [];
    for (const chunk of chunks) {
      const round = await runRound(gateway, load, { kind: "count", requests: chunk }, { latencies: false });
      calls += round.succeeded;
      failed += round.failed;
      const rss = await readRssBytes(gateway.pid);
      readings.push(rss);
      rows.push({
        label: `after ${calls.toLocaleString("en-US")} calls`,
        values: { calls, "req/s": round.requestsPerSecond, "RSS MB": megabytes(rss), "peak RSS MB": megabytes(round.peakRssBytes), failed: round.failed },
      });
    }
    const ratio = (readings[readings.length - 1] ?? Number.NaN) / (readings[0] ?? Number.NaN);
    ctx.report({
      ...heading,
      columns: ["calls", "req/s", "RSS MB", "peak RSS MB", "failed"],
      rows,
      ratio: { label: `RSS after ${total.toLocaleString("en-US")} / after ${first.toLocaleString("en-US")} calls`, value: ratio, perPair: [ratio] },
      notes: failed > 0 ? [`${failed} calls failed: the figures are not valid`] : [],
    });
  } finally {
    await gateway.stop();
  }
}

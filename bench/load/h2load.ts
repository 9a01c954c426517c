// gRPC over h2c with h2load (Debian nghttp2-client): one fixed request body,
// a gRPC frame of the request message, POSTed on every stream. h2load counts
// HTTP statuses, but a gRPC error is an HTTP 200 with grpc-status in the
// trailers, so every scenario checks its request with a real gRPC client
// before it is sent here (scenarios/check.ts). Latency percentiles come from
// h2load's per-request log (microseconds); h2load itself prints only
// min/max/mean.
import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findOnPath } from "../../test/support/require-tool.js";
import { createLatencyRecorder, percentile, type GeneratorRun, type LoadOutcome, type RoundLength } from "./round.js";

export const h2loadInstallHint =
  "h2load is not installed: apt-get install nghttp2-client (Debian), then run the bench again";

export function h2loadBinary(): string | undefined {
  return findOnPath("h2load");
}

/** The length-prefixed gRPC message (uncompressed) that h2load sends as the body. */
export function grpcFrame<Desc extends DescMessage>(schema: Desc, init: MessageInitShape<Desc>): Uint8Array {
  const message = toBinary(schema, create(schema, init));
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  return frame;
}

export interface H2loadLoad {
  readonly tool: "h2load";
  /** Full path of the RPC: /permission.v1.PermissionService/RemoveLambdaPermission. */
  readonly path: string;
  readonly frame: Uint8Array;
  readonly clients: number;
  /** Concurrent streams per client (connection). */
  readonly streams: number;
  /** Fixed rate per client; unset means as fast as the server answers. */
  readonly requestsPerSecondPerClient?: number | undefined;
}

export interface H2loadRun extends GeneratorRun<H2loadLoad> {
  /** Per-request latencies cost a log line each; a long RSS run does without. */
  readonly latencies: boolean;
}

export async function runH2load(run: H2loadRun): Promise<LoadOutcome> {
  const binary = h2loadBinary();
  if (binary === undefined) throw new Error(h2loadInstallHint);
  const dir = await mkdtemp(join(tmpdir(), "pg-h2load-"));
  try {
    const bodyFile = join(dir, `${createHash("sha256").update(run.load.frame).digest("hex").slice(0, 16)}.bin`);
    await writeFile(bodyFile, run.load.frame);
    const logFile = join(dir, "requests.log");
    const args = [
      `--clients=${run.load.clients}`,
      `--max-concurrent-streams=${run.load.streams}`,
      `--data=${bodyFile}`,
      "--header=content-type: application/grpc",
      "--header=te: trailers",
      ...Object.entries(run.headers ?? {}).map(([name, value]) => `--header=${name}: ${value}`),
      ...lengthArgs(run.length),
      ...(run.load.requestsPerSecondPerClient === undefined ? [] : [`--rps=${run.load.requestsPerSecondPerClient}`]),
      ...(run.latencies ? [`--log-file=${logFile}`] : []),
      new URL(run.load.path, run.baseUrl).href,
    ];
    const stdout = await execute(binary, args);
    const summary = parseH2loadSummary(stdout);
    const latencies = run.latencies ? await readLatencies(logFile) : new Float64Array(0);
    return { ...summary, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function lengthArgs(length: RoundLength): string[] {
  // No --warm-up-time: its requests would land in the log and in the status
  // counts; callers warm up with a separate, unrecorded run.
  return length.kind === "count"
    ? [`--requests=${length.requests}`]
    : [`--duration=${Math.round(length.seconds * 1000)}ms`];
}

/** Reads h2load's closing report: "finished in", "requests:" and "status codes:". */
export function parseH2loadSummary(stdout: string): Omit<LoadOutcome, "p50Ms" | "p99Ms" | "firstFailure"> {
  const finished = /finished in ([\d.]+)(ms|s|us),/.exec(stdout);
  const requests =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      stdout,
    );
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  if (finished === null || requests === null || codes === null)
    throw new Error(`h2load printed no report:\n${stdout.slice(-2000)}`);
  const seconds = Number(finished[1]) * (finished[2] === "ms" ? 1e-3 : finished[2] === "us" ? 1e-6 : 1);
  const count = (match: RegExpExecArray, index: number): number => Number(match[index]);
  const succeeded = count(codes, 1);
  return {
    succeeded,
    failed: count(codes, 2) + count(codes, 3) + count(codes, 4) + count(requests, 6) + count(requests, 7),
    seconds,
    requestsPerSecond: succeeded / seconds,
  };
}

async function readLatencies(logFile: string): Promise<Float64Array> {
  const recorder = createLatencyRecorder();
  const text = await readFile(logFile, "utf8").catch(() => "");
  // <start µs since epoch>\t<HTTP status>\t<µs until the end of the response>;
  // status 0 marks a stream still open when the run stopped.
  for (const line of text.split("\n")) {
    const [, status, micros] = line.split("\t");
    if (status !== undefined && status !== "0" && micros !== undefined) recorder.add(Number(micros) / 1000);
  }
  return recorder.sorted();
}

async function execute(binary: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-4000)));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`h2load exited with ${code}: ${stderr || stdout.slice(-2000)}`));
    });
  });
}

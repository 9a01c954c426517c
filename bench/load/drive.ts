// One round of load against one server, whichever generator the load names,
// with the serving process's RSS sampled throughout.
import { sampleRss } from "../rss.js";
import type { ServerUnderTest } from "../servers.js";
import { runAutocannon, type AutocannonLoad } from "./autocannon.js";
import { runH2load, type H2loadLoad } from "./h2load.js";
import type { RoundLength, RoundResult } from "./round.js";

export type Load = H2loadLoad | AutocannonLoad;

export interface RoundOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** h2load's per-request log; off for very long runs. Default on. */
  readonly latencies?: boolean;
}

export async function runRound(
  server: ServerUnderTest,
  load: Load,
  length: RoundLength,
  options: RoundOptions = {},
): Promise<RoundResult> {
  const sampler = sampleRss(server.pid);
  try {
    const outcome =
      load.tool === "h2load"
        ? await runH2load({
            baseUrl: server.grpcUrl,
            load,
            length,
            latencies: options.latencies ?? true,
            ...headersOf(options),
          })
        : await runAutocannon({ baseUrl: server.connectUrl, load, length, ...headersOf(options) });
    return { ...outcome, peakRssBytes: await sampler.stop() };
  } catch (error) {
    await sampler.stop();
    throw error;
  }
}

/** Unrecorded load first: JIT, connections, caches. */
export async function warmUp(
  server: ServerUnderTest,
  load: Load,
  seconds: number,
  options: RoundOptions = {},
): Promise<void> {
  if (seconds <= 0) return;
  await runRound(server, load, { kind: "duration", seconds }, { ...options, latencies: false });
}

function headersOf(options: RoundOptions): { headers?: Readonly<Record<string, string>> } {
  return options.headers === undefined ? {} : { headers: options.headers };
}

// Resident set size from /proc/<pid>/status (VmRSS), read from outside the
// process, as an operator's tools see it. Peaks are sampled during a round:
// VmHWM would hold the peak of the whole process life, not of the round.
import { readFile } from "node:fs/promises";

export async function readRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`/proc/${pid}/status has no VmRSS line (has the process exited?)`);
  return Number(match[1]) * 1024;
}

export interface RssSampler {
  /** Stops sampling; the highest VmRSS seen, taken once more at the end. */
  stop(): Promise<number>;
}

export function sampleRss(pid: number, intervalMs = 100): RssSampler {
  let peak = 0;
  let reading: Promise<void> = Promise.resolve();
  const read = (): void => {
    reading = readRssBytes(pid).then(
      (bytes) => {
        peak = Math.max(peak, bytes);
      },
      () => {},
    );
  };
  read();
  const timer = setInterval(read, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await reading;
      read();
      await reading;
      return peak;
    },
  };
}

export function megabytes(bytes: number): number {
  return bytes / (1024 * 1024);
}

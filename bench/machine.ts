// The machine a run measured: ratios only mean something next to it, and a
// shared machine's load average says how much to trust them.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { h2loadBinary } from "./load/h2load.js";

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly h2load: string | undefined;
  readonly autocannon: string;
  readonly date: string;
  readonly loadAverage: readonly number[];
}

export function describeMachine(root: string, now = new Date()): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown CPU",
    cores: list.length,
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.version,
    h2load: h2loadVersion(),
    autocannon: packageVersion(root, "autocannon"),
    date: now.toISOString(),
    loadAverage: loadavg(),
  };
}

function h2loadVersion(): string | undefined {
  const binary = h2loadBinary();
  if (binary === undefined) return undefined;
  try {
    return execFileSync(binary, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return "h2load (version unknown)";
  }
}

function packageVersion(root: string, name: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string })
      .version;
  } catch {
    return "missing";
  }
}

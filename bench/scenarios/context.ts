// What every scenario needs: the plan, the start command, one shared
// baseline process, gateways started on demand (and stopped by the
// scenario that started them), and where reports go.
import type { LaunchCommand } from "../processes/launch.js";
import type { BenchOptions, Plan } from "../options.js";
import { failedReport, formatScenario, skippedReport, type ScenarioHeading, type ScenarioReport } from "../report.js";
import { startBaseline, startGateway, type ServerUnderTest } from "../servers.js";

export interface BenchContext {
  readonly root: string;
  readonly start: LaunchCommand;
  readonly plan: Plan;
  readonly mode: BenchOptions["mode"];
  /** Seeds and other files of this run; removed at the end. */
  readonly tmpDir: string;
  readonly authzConfig: string;
  wants(id: string): boolean;
  baseline(): Promise<ServerUnderTest>;
  /** A gateway as `npm start` runs it, with these variables on top. */
  gateway(
    label: string,
    env?: Readonly<Record<string, string>>,
    headers?: Readonly<Record<string, string>>,
  ): Promise<ServerUnderTest>;
  report(report: ScenarioReport): void;
  skip(heading: ScenarioHeading, reason: string): void;
  fail(id: string, error: unknown): void;
  log(line: string): void;
}

export interface ContextOptions {
  readonly root: string;
  readonly start: LaunchCommand;
  readonly plan: Plan;
  readonly options: BenchOptions;
  readonly tmpDir: string;
  readonly reports: ScenarioReport[];
  /** Serving pid -> label, for naming CPU profiles. */
  readonly profiled: Map<number, string>;
}

export function createContext(options: ContextOptions): BenchContext & { close(): Promise<void> } {
  let baseline: Promise<ServerUnderTest> | undefined;
  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const report = (r: ScenarioReport): void => {
    options.reports.push(r);
    log(formatScenario(r));
  };
  return {
    root: options.root,
    start: options.start,
    plan: options.plan,
    mode: options.options.mode,
    tmpDir: options.tmpDir,
    authzConfig: options.options.authzConfig,
    wants: (id) => options.options.only === undefined || options.options.only.includes(id),
    baseline() {
      baseline ??= startBaseline(options.root, options.start);
      return baseline;
    },
    async gateway(label, env = {}, headers) {
      const server = await startGateway({
        root: options.root,
        start: options.start,
        label,
        env,
        cpuProfDir: options.options.cpuProfDir,
        ...(headers === undefined ? {} : { headers }),
      });
      if (options.options.cpuProfDir !== undefined) options.profiled.set(server.pid, label);
      return server;
    },
    report,
    skip: (heading, reason) => report(skippedReport(heading, reason)),
    fail: (id, error) => report(failedReport(id, error)),
    log,
    async close() {
      if (baseline !== undefined) await (await baseline.catch(() => undefined))?.stop();
    },
  };
}

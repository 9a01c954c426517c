// `npm run bench -- [options]`: parsed by a pure function, each bad option
// refused with a message naming it and what it accepts. The plan says how
// long each part runs in each mode.

export interface BenchOptions {
  readonly mode: "quick" | "full";
  /** Directory for V8 CPU profiles of every gateway process; undefined: no profiling. */
  readonly cpuProfDir: string | undefined;
  /** Scenario ids to run; undefined: all. */
  readonly only: readonly string[] | undefined;
  /** The authorization on/off configuration (bench/authz.json). */
  readonly authzConfig: string;
  readonly help: boolean;
}

export interface Plan {
  /** Alternating pairs per comparison (R S R S ...). */
  readonly pairs: number;
  readonly roundSeconds: number;
  readonly warmUpSeconds: number;
  /** Process starts per side for the start-up scenario. */
  readonly startupPairs: number;
  /** Calls before the first RSS reading, and in all. */
  readonly rssFirstCalls: number;
  readonly rssTotalCalls: number;
  readonly rssCheckpoints: number;
}

export const plans: Readonly<Record<BenchOptions["mode"], Plan>> = {
  // A smoke run: every scenario and code path, figures only indicative.
  quick: {
    pairs: 2,
    roundSeconds: 0.5,
    warmUpSeconds: 0.25,
    startupPairs: 2,
    rssFirstCalls: 1_000,
    rssTotalCalls: 5_000,
    rssCheckpoints: 2,
  },
  full: {
    pairs: 3,
    roundSeconds: 3,
    warmUpSeconds: 1,
    startupPairs: 5,
    rssFirstCalls: 100_000,
    rssTotalCalls: 1_000_000,
    rssCheckpoints: 10,
  },
};

export class BenchOptionsError extends Error {
  override readonly name = "BenchOptionsError";
  constructor(
    readonly option: string,
    readonly accepted: string,
  ) {
    super(`${option}: expected ${accepted}`);
  }
}

export const benchUsage = `Usage: npm run bench -- [--quick] [--cpu-prof[=DIR]] [--only=ID,ID] [--authz-config=FILE]

  --quick              every scenario, short rounds (under a minute); figures are indicative only
  --cpu-prof[=DIR]     run every gateway under node --cpu-prof --cpu-prof-dir=DIR
                       (default bench/results/profiles-<time>); one .cpuprofile per gateway process
  --only=ID,ID         run only these scenarios (ids are printed in [brackets] by a run)
  --authz-config=FILE  environment and headers for authorization off/on (default bench/authz.json)
`;

export function parseBenchOptions(
  argv: readonly string[],
  scenarioIds: readonly string[],
  defaultProfileDir: string,
): BenchOptions {
  let mode: BenchOptions["mode"] = "full";
  let cpuProfDir: string | undefined;
  let only: string[] | undefined;
  let authzConfig = "bench/authz.json";
  let help = false;
  for (const arg of argv) {
    const [name = "", ...rest] = arg.split("=");
    const value = rest.length === 0 ? undefined : rest.join("=");
    switch (name) {
      case "--quick":
        if (value !== undefined) throw new BenchOptionsError(arg, "--quick without a value");
        mode = "quick";
        break;
      case "--cpu-prof":
        if (value === "") throw new BenchOptionsError(arg, "--cpu-prof or --cpu-prof=DIR with a directory");
        cpuProfDir = value ?? defaultProfileDir;
        break;
      case "--only": {
        const ids = (value ?? "").split(",").filter((id) => id !== "");
        const unknown = ids.filter((id) => !scenarioIds.includes(id));
        if (ids.length === 0 || unknown.length > 0) {
          throw new BenchOptionsError(arg, `--only=ID[,ID...] with ids among ${scenarioIds.join(", ")}`);
        }
        only = ids;
        break;
      }
      case "--authz-config":
        if (value === undefined || value === "") throw new BenchOptionsError(arg, "--authz-config=FILE with a path");
        authzConfig = value;
        break;
      case "--help":
      case "-h":
        help = true;
        break;
      default:
        throw new BenchOptionsError(arg, "one of --quick, --cpu-prof[=DIR], --only=ID,ID, --authz-config=FILE, --help");
    }
  }
  return { mode, cpuProfDir, only, authzConfig, help };
}

// Every scenario group, in the order a run takes them: start-up first, while
// nothing else of ours is running; the long RSS run last.
import { authzScenarioIds, runAuthzScenario } from "./authz.js";
import type { BenchContext } from "./context.js";
import { demoSeedScenarioIds, runDemoSeedScenarios } from "./demo-seed.js";
import { redisScenarioIds, runRedisScenarios } from "./redis.js";
import { rssScenarioIds, runRssScenario } from "./rss.js";
import { runSeedScenarios, seedScenarioIds } from "./seeds.js";
import { runStartupScenario, startupScenarioIds } from "./startup.js";

export interface ScenarioGroup {
  readonly ids: readonly string[];
  run(ctx: BenchContext): Promise<void>;
}

export const scenarioGroups: readonly ScenarioGroup[] = [
  { ids: startupScenarioIds, run: runStartupScenario },
  { ids: demoSeedScenarioIds, run: runDemoSeedScenarios },
  { ids: redisScenarioIds, run: runRedisScenarios },
  { ids: seedScenarioIds, run: runSeedScenarios },
  { ids: authzScenarioIds, run: runAuthzScenario },
  { ids: rssScenarioIds, run: runRssScenario },
];

export const scenarioIds: readonly string[] = scenarioGroups.flatMap((g) => g.ids);

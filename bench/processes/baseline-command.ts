// The baseline server's command line, built from the gateway's: the same
// launcher and node flags. A launcher that runs TypeScript (tsx, or node with
// a loader for a .ts entry) runs the baseline's source; plain node on compiled
// JavaScript runs a bundle of it, built here with esbuild, so neither side
// carries a TypeScript loader the other does not.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { LaunchCommand } from "./launch.js";

const baselineSource = join("bench", "baseline", "server.ts");

export async function baselineCommand(root: string, gateway: LaunchCommand): Promise<LaunchCommand> {
  const entry = gateway.args[0] ?? "";
  const runsTypeScript = gateway.launcher !== "node" || /\.[cm]?ts$/.test(entry);
  if (runsTypeScript)
    return { launcher: gateway.launcher, flags: gateway.flags, args: [baselineSource], env: gateway.env };
  // Under node_modules, so its imports resolve from the project's node_modules (and no linter reads it).
  const dir = join(root, "node_modules", ".cache", "permission-gateway-bench");
  const outfile = join(dir, "baseline-server.mjs");
  await mkdir(dir, { recursive: true });
  const { build } = await import("esbuild");
  await build({
    entryPoints: [join(root, baselineSource)],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Dependencies load from node_modules, as the compiled gateway's do.
    packages: "external",
    logLevel: "warning",
  });
  return { launcher: "node", flags: gateway.flags, args: [outfile], env: gateway.env };
}

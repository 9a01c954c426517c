// Authorization on against off: the same call through two gateways whose
// settings come from bench/authz.json, alternated like every comparison.
// The security settings are still being built, so the scenario runs only
// when the file names variables that `npm start -- --help` lists.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { promisify } from "node:util";
import { grpcLoad, sampleCall } from "../calls.js";
import { compareAlternating } from "../compare.js";
import { commandLine } from "../processes/launch.js";
import { comparisonReport, type ScenarioHeading } from "../report.js";
import { grpcShape, grpcText, pacingText, removeAbsent, requireH2load } from "./common.js";
import type { BenchContext } from "./context.js";

export const authzScenarioIds = ["authz"] as const;

export interface AuthzSide {
  readonly env: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
}

export interface AuthzConfig {
  readonly off: AuthzSide;
  readonly on: AuthzSide;
}

export class AuthzConfigError extends Error {
  override readonly name = "AuthzConfigError";
}

/** `{ "off": { "env": {...}, "headers": {...} }, "on": {...} }`, every value a string. */
export function parseAuthzConfig(text: string, source: string): AuthzConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AuthzConfigError(`${source}: not JSON: ${(error as Error).message}`);
  }
  const side = (name: "off" | "on"): AuthzSide => {
    const value = (json as Record<string, unknown> | null)?.[name];
    if (typeof value !== "object" || value === null)
      throw new AuthzConfigError(`${source}: "${name}" must be an object with "env" and "headers"`);
    return { env: strings(value, name, "env"), headers: strings(value, name, "headers") };
  };
  const strings = (value: object, name: string, member: string): Record<string, string> => {
    const map = (value as Record<string, unknown>)[member] ?? {};
    if (typeof map !== "object" || map === null || Array.isArray(map))
      throw new AuthzConfigError(`${source}: "${name}.${member}" must be an object of strings`);
    for (const [key, v] of Object.entries(map)) {
      if (typeof v !== "string") throw new AuthzConfigError(`${source}: "${name}.${member}.${key}" must be a string`);
    }
    return map as Record<string, string>;
  };
  return { off: side("off"), on: side("on") };
}

/** Why the scenario cannot run yet, or undefined when it can. */
export function authzNotReady(config: AuthzConfig, helpText: string, source: string): string | undefined {
  if (Object.keys(config.on.env).length === 0)
    return `authorization settings not filled in yet: ${source} has no "on.env" variables`;
  const unknown = [...Object.keys(config.off.env), ...Object.keys(config.on.env)].filter(
    (name) => !new RegExp(`\\b${name}\\b`).test(helpText),
  );
  if (unknown.length > 0) return `the gateway does not know ${unknown.join(", ")} yet (not in npm start -- --help)`;
  return undefined;
}

export async function runAuthzScenario(ctx: BenchContext): Promise<void> {
  const heading: ScenarioHeading = {
    id: "authz",
    title: "RemoveLambdaPermission without a token, authorization on against off, gRPC",
    measures: "the per-call cost of the authorization settings in bench/authz.json",
    generator: `${grpcText()}; ${pacingText(ctx.plan)}`,
  };
  if (!ctx.wants(heading.id) || !requireH2load(ctx, heading)) return;
  const path = isAbsolute(ctx.authzConfig) ? ctx.authzConfig : join(ctx.root, ctx.authzConfig);
  const config = parseAuthzConfig(await readFile(path, "utf8"), ctx.authzConfig);
  const notReady = authzNotReady(config, await gatewayHelp(ctx), ctx.authzConfig);
  if (notReady !== undefined) {
    ctx.skip(heading, notReady);
    return;
  }
  const off = await ctx.gateway("gateway (authorization off)", config.off.env, config.off.headers);
  try {
    const on = await ctx.gateway("gateway (authorization on)", config.on.env, config.on.headers);
    try {
      await sampleCall(off, "grpc", removeAbsent(), config.off.headers);
      await sampleCall(on, "grpc", removeAbsent(), config.on.headers);
      const load = grpcLoad(removeAbsent(), grpcShape);
      const result = await compareAlternating(
        { label: "authorization off", server: off, load, headers: config.off.headers },
        { label: "authorization on", server: on, load, headers: config.on.headers },
        ctx.plan,
      );
      ctx.report(comparisonReport(heading, "on/off req/s", result));
    } finally {
      await on.stop();
    }
  } finally {
    await off.stop();
  }
}

/** `npm start -- --help`, run as the bench runs the gateway. */
async function gatewayHelp(ctx: BenchContext): Promise<string> {
  const [program = "", ...args] = commandLine(ctx.root, ctx.start);
  const { stdout } = await promisify(execFile)(program, [...args, "--help"], {
    cwd: ctx.root,
    env: { ...process.env, ...ctx.start.env },
  });
  return stdout;
}

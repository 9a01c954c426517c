// Environment -> the fake AWS endpoint's configuration. Pure: main.ts passes
// process.env in. The names are the gateway's own (HOST, PORT, FAKE_SEED,
// LOG_LEVEL), so one seed file serves both.
import { readEnum, readInteger, readString, type Env } from "../config-values.js";
import type { EnvHelp } from "../config-values.js";
import { LOG_LEVELS, type LogLevel } from "../logger.js";

export interface FakeAwsConfig {
  readonly host: string;
  readonly port: number;
  /** Path of a seed JSON file; undefined means the built-in demo seed. */
  readonly seedPath: string | undefined;
  readonly logLevel: LogLevel;
}

export const FAKE_AWS_DEFAULT_PORT = 4010;

export const FAKE_AWS_ENV_HELP: readonly EnvHelp[] = [
  {
    name: "HOST",
    accepted: "an IP address or host name",
    default: "127.0.0.1",
    description: "Interface to listen on.",
  },
  {
    name: "PORT",
    accepted: "0..65535",
    default: String(FAKE_AWS_DEFAULT_PORT),
    description: "Port of the fake Lambda and RAM endpoint (0: any free port).",
  },
  {
    name: "FAKE_SEED",
    accepted: "path of a seed JSON file",
    default: "built-in demo seed",
    description: "Initial state of the fake backend it serves (docs/fake-seed.md).",
  },
  {
    name: "LOG_LEVEL",
    accepted: LOG_LEVELS.join(" | "),
    default: "info",
    description: "JSON log lines on stderr at this level and above.",
  },
];

export function loadFakeAwsConfig(env: Env): FakeAwsConfig {
  return {
    host: readString(env, "HOST") ?? "127.0.0.1",
    port: readInteger(env, "PORT", 0, 65535, FAKE_AWS_DEFAULT_PORT),
    seedPath: readString(env, "FAKE_SEED"),
    logLevel: readEnum(env, "LOG_LEVEL", LOG_LEVELS, "info"),
  };
}

/** The environment lines that point an AWS SDK or the AWS CLI at the endpoint. */
export function sdkEnvironment(url: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_LAMBDA: url,
    AWS_ENDPOINT_URL_RAM: url,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
  };
}

export function fakeAwsHelpText(): string {
  const rows = FAKE_AWS_ENV_HELP.map(
    (h) => `  ${h.name.padEnd(12)} ${h.description}\n  ${"".padEnd(12)} accepts: ${h.accepted}; default: ${h.default}`,
  );
  return [
    "fake-aws: the fake Lambda and RAM backend served over AWS's REST-JSON wire protocol",
    "(RemovePermission, AddPermission, GetPolicy, DeletePermission, CreatePermission,",
    "GetPermission, ListPermissions). Signatures are not checked.",
    "",
    "Usage: npm run fake-aws [-- --help]",
    "",
    "Configuration (environment variables):",
    ...rows,
    "",
    "Test controls: POST/GET/DELETE /__fake/faults, GET/DELETE /__fake/calls.",
    "",
  ].join("\n");
}

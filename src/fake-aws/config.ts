// Environment -> the fake AWS endpoint's configuration. Pure: main.ts passes
// process.env in. The names are the gateway's own (HOST, PORT, FAKE_SEED,
// LOG_LEVEL), so one seed file serves both.
import { SECTIONS, integer, read, sectionedHelp, setting, type Env, type EnvHelp, helpOf } from "../config-values.js";
import { GATEWAY_SETTINGS, FAKE_BACKEND_SETTINGS } from "../config.js";
import type { LogLevel } from "../logger.js";

export interface FakeAwsConfig {
  readonly host: string;
  readonly port: number;
  /** Path of a seed JSON file; undefined means the built-in demo seed. */
  readonly seedPath: string | undefined;
  readonly logLevel: LogLevel;
}

export const FAKE_AWS_DEFAULT_PORT = 4010;

/** The gateway's own lines, but for the port and the section they are listed under. */
export const FAKE_AWS_SETTINGS = {
  host: { ...GATEWAY_SETTINGS.host, section: SECTIONS.fakeAws },
  port: setting({
    name: "PORT",
    section: SECTIONS.fakeAws,
    ...integer(0, 65535),
    default: FAKE_AWS_DEFAULT_PORT,
    help: "Port of the fake Lambda and RAM endpoint (0: any free port).",
  }),
  seedPath: {
    ...FAKE_BACKEND_SETTINGS.seedPath,
    section: SECTIONS.fakeAws,
    help: "Initial state of the fake backend it serves (docs/fake-seed.md).",
    appliesWhen: [],
  },
  logLevel: { ...GATEWAY_SETTINGS.logLevel, section: SECTIONS.fakeAws },
};

export const FAKE_AWS_ENV_HELP: readonly EnvHelp[] = helpOf(Object.values(FAKE_AWS_SETTINGS));

export function loadFakeAwsConfig(env: Env): FakeAwsConfig {
  return {
    host: read(env, FAKE_AWS_SETTINGS.host),
    port: read(env, FAKE_AWS_SETTINGS.port),
    seedPath: read(env, FAKE_AWS_SETTINGS.seedPath),
    logLevel: read(env, FAKE_AWS_SETTINGS.logLevel),
  };
}

/** The environment lines that point an AWS SDK or the AWS CLI at the endpoint. */
export function sdkEnvironment(url: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_LAMBDA: url,
    AWS_ENDPOINT_URL_RAM: url,
    AWS_ENDPOINT_URL_STS: url,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
  };
}

export function fakeAwsHelpText(): string {
  return [
    "fake-aws: the fake Lambda and RAM backend served over AWS's REST-JSON wire protocol",
    "(RemovePermission, AddPermission, GetPolicy, DeletePermission, CreatePermission,",
    "GetPermission, ListPermissions), and STS AssumeRole and GetCallerIdentity on its Query",
    "protocol. Signatures are not checked; with seeded roles, each request acts as the",
    "account of the access key that signed it.",
    "",
    "Usage: npm run fake-aws [-- --help]",
    "",
    "Configuration: environment variables, by section.",
    "",
    sectionedHelp(Object.values(FAKE_AWS_SETTINGS)),
    "",
    "Test controls: POST/GET/DELETE /__fake/faults, GET/DELETE /__fake/calls (?by=identity: account and SourceIdentity of each).",
    "",
  ].join("\n");
}

// Settings of the AWS backend read from the environment. Pure: main.ts hands
// in its env, and only the values the gateway itself decides are parsed here;
// endpoints and credentials are left to the SDK's own standard variables and
// are listed below only so the help text names them.
import { ConfigError, readInteger, readString, type Env } from "../../config-values.js";
import type { EnvHelp } from "../../config-values.js";

export interface AwsConfig {
  /**
   * Region of calls whose ARN names none (bare names, AWS managed RAM ARNs of
   * this Region's partition, Create/List).
   */
  readonly defaultRegion: string;
  /** Attempts per call including the first, for the SDK's standard retry strategy. */
  readonly maxAttempts: number;
  /** Limit of one HTTP attempt, request and response; the caller's deadline caps the whole call. */
  readonly requestTimeoutMs: number;
  /** Limit of establishing one connection. */
  readonly connectTimeoutMs: number;
}

/** Used when neither AWS_REGION nor AWS_DEFAULT_REGION is set. */
export const FALLBACK_AWS_REGION = "us-east-1";

const DEFAULT_MAX_ATTEMPTS = 3;
const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

// A loose shape check only: a typo like "us-east1" should fail at start-up,
// not as an endpoint error on the first call.
const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

export function parseAwsConfig(env: Env): AwsConfig {
  return {
    defaultRegion: readRegion(env, "AWS_REGION") ?? readRegion(env, "AWS_DEFAULT_REGION") ?? FALLBACK_AWS_REGION,
    maxAttempts: readInteger(env, "AWS_MAX_ATTEMPTS", 1, 10, DEFAULT_MAX_ATTEMPTS),
    requestTimeoutMs: readInteger(env, "AWS_REQUEST_TIMEOUT_MS", 100, 300_000, DEFAULT_REQUEST_TIMEOUT_MS),
    connectTimeoutMs: readInteger(env, "AWS_CONNECT_TIMEOUT_MS", 100, 60_000, DEFAULT_CONNECT_TIMEOUT_MS),
  };
}

function readRegion(env: Env, name: string): string | undefined {
  const value = readString(env, name);
  if (value === undefined || regionPattern.test(value)) return value;
  throw new ConfigError(name, "an AWS Region code such as us-east-1 or eu-west-1", value);
}

/** Help lines for BACKEND=aws, in the order a reader needs them. */
export const AWS_ENV_HELP: readonly EnvHelp[] = [
  {
    name: "AWS_REGION",
    accepted: "an AWS Region code, e.g. eu-west-1",
    default: `AWS_DEFAULT_REGION, else ${FALLBACK_AWS_REGION}`,
    description:
      "Region for calls whose ARN names none (bare function names, AWS managed RAM permissions, CreatePermission, ListPermissions); an ARN's own Region always wins, and an AWS managed RAM ARN of another partition goes to that partition's first Region (aws-cn: cn-north-1, aws-us-gov: us-gov-west-1, aws: us-east-1)",
  },
  {
    name: "AWS_DEFAULT_REGION",
    accepted: "an AWS Region code",
    default: FALLBACK_AWS_REGION,
    description: "Read when AWS_REGION is unset",
  },
  {
    name: "AWS_MAX_ATTEMPTS",
    accepted: "an integer from 1 to 10",
    default: String(DEFAULT_MAX_ATTEMPTS),
    description: "Attempts per AWS call (standard retry strategy), never beyond the caller's deadline",
  },
  {
    name: "AWS_REQUEST_TIMEOUT_MS",
    accepted: "an integer from 100 to 300000",
    default: String(DEFAULT_REQUEST_TIMEOUT_MS),
    description: "Limit of one HTTP attempt to AWS; a timed-out attempt is retried while the caller still has time",
  },
  {
    name: "AWS_CONNECT_TIMEOUT_MS",
    accepted: "an integer from 100 to 60000",
    default: String(DEFAULT_CONNECT_TIMEOUT_MS),
    description: "Limit of opening one connection to AWS",
  },
  {
    name: "AWS_ENDPOINT_URL_LAMBDA",
    accepted: "a URL, e.g. http://127.0.0.1:4566",
    default: "the Region's Lambda endpoint",
    description:
      "Read by the AWS SDK itself: sends Lambda calls there (e.g. to `npm run fake-aws`); requests are still signed for the routed Region",
  },
  {
    name: "AWS_ENDPOINT_URL_RAM",
    accepted: "a URL",
    default: "the Region's RAM endpoint",
    description: "Read by the AWS SDK itself: sends RAM calls there",
  },
  {
    name: "AWS_ENDPOINT_URL",
    accepted: "a URL",
    default: "unset",
    description: "Read by the AWS SDK itself: endpoint for both services when the per-service variable is unset",
  },
  {
    name: "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN",
    accepted: "AWS credentials",
    default: "the SDK's default chain",
    description:
      "Read by the AWS SDK itself, like AWS_PROFILE, web identity, SSO, ECS and EC2 instance credentials; missing or expired credentials fail calls with INTERNAL UPSTREAM_CREDENTIALS",
  },
  {
    name: "AWS_PROFILE",
    accepted: "a profile name of ~/.aws/config",
    default: "default",
    description: "Read by the AWS SDK itself: profile for credentials",
  },
];

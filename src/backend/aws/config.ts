// Settings of the AWS backend read from the environment. Pure: main.ts hands
// in its env, and only the values the gateway itself decides are parsed here;
// endpoints and credentials are left to the SDK's own standard variables and
// have lines below only so --help and docs/configuration.md name them.
import { SECTIONS, helpOf, integer, read, setting, text, type Env, type EnvHelp } from "../../config-values.js";

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

const section = SECTIONS.aws;
const onlyAws = [{ variable: "BACKEND", in: ["aws"] }];

// A loose shape check only: a typo like "us-east1" should fail at start-up,
// not as an endpoint error on the first call.
const region = text("an AWS Region code such as us-east-1 or eu-west-1", "string", (value) =>
  /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(value),
);

/** Lines in the order a reader needs them. */
export const AWS_SETTINGS = {
  region: setting({
    name: "AWS_REGION",
    section,
    ...region,
    defaultText: `AWS_DEFAULT_REGION, else ${FALLBACK_AWS_REGION}`,
    help: "Region for calls whose ARN names none (bare function names, AWS managed RAM permissions, CreatePermission, ListPermissions); an ARN's own Region always wins, and an AWS managed RAM ARN of another partition goes to that partition's first Region (aws-cn: cn-north-1, aws-us-gov: us-gov-west-1, aws: us-east-1)",
  }),
  defaultRegion: setting({
    name: "AWS_DEFAULT_REGION",
    section,
    ...region,
    default: FALLBACK_AWS_REGION,
    help: "Read when AWS_REGION is unset",
  }),
  maxAttempts: setting({
    name: "AWS_MAX_ATTEMPTS",
    section,
    ...integer(1, 10),
    default: 3,
    help: "Attempts per AWS call (standard retry strategy), never beyond the caller's deadline",
    appliesWhen: onlyAws,
  }),
  requestTimeoutMs: setting({
    name: "AWS_REQUEST_TIMEOUT_MS",
    section,
    ...integer(100, 300_000),
    default: 5_000,
    help: "Limit of one HTTP attempt to AWS; a timed-out attempt is retried while the caller still has time",
    appliesWhen: onlyAws,
  }),
  connectTimeoutMs: setting({
    name: "AWS_CONNECT_TIMEOUT_MS",
    section,
    ...integer(100, 60_000),
    default: 2_000,
    help: "Limit of opening one connection to AWS",
    appliesWhen: onlyAws,
  }),
  endpointLambda: setting({
    name: "AWS_ENDPOINT_URL_LAMBDA",
    section,
    ...text("a URL, e.g. http://127.0.0.1:4566", "url"),
    defaultText: "the Region's Lambda endpoint",
    help: "Read by the AWS SDK itself: sends Lambda calls there (e.g. to `npm run fake-aws`); requests are still signed for the routed Region",
  }),
  endpointRam: setting({
    name: "AWS_ENDPOINT_URL_RAM",
    section,
    ...text("a URL", "url"),
    defaultText: "the Region's RAM endpoint",
    help: "Read by the AWS SDK itself: sends RAM calls there",
  }),
  endpoint: setting({
    name: "AWS_ENDPOINT_URL",
    section,
    ...text("a URL", "url"),
    defaultText: "unset",
    help: "Read by the AWS SDK itself: endpoint for both services when the per-service variable is unset",
  }),
  accessKeyId: setting({
    name: "AWS_ACCESS_KEY_ID",
    section,
    ...text("an AWS access key ID, with AWS_SECRET_ACCESS_KEY"),
    defaultText: "the SDK's default chain",
    help: "Read by the AWS SDK itself, like AWS_PROFILE, web identity, SSO, ECS and EC2 instance credentials; missing or expired credentials fail calls with INTERNAL UPSTREAM_CREDENTIALS",
  }),
  secretAccessKey: setting({
    name: "AWS_SECRET_ACCESS_KEY",
    section,
    ...text("the secret of AWS_ACCESS_KEY_ID"),
    defaultText: "the SDK's default chain",
    help: "Read by the AWS SDK itself",
  }),
  sessionToken: setting({
    name: "AWS_SESSION_TOKEN",
    section,
    ...text("the session token of temporary credentials"),
    defaultText: "the SDK's default chain",
    help: "Read by the AWS SDK itself",
  }),
  profile: setting({
    name: "AWS_PROFILE",
    section,
    ...text("a profile name of ~/.aws/config"),
    defaultText: "default",
    help: "Read by the AWS SDK itself: profile for credentials",
  }),
};

export const AWS_ENV_HELP: readonly EnvHelp[] = helpOf(Object.values(AWS_SETTINGS));

export function parseAwsConfig(env: Env): AwsConfig {
  return {
    defaultRegion: read(env, AWS_SETTINGS.region) ?? read(env, AWS_SETTINGS.defaultRegion),
    maxAttempts: read(env, AWS_SETTINGS.maxAttempts),
    requestTimeoutMs: read(env, AWS_SETTINGS.requestTimeoutMs),
    connectTimeoutMs: read(env, AWS_SETTINGS.connectTimeoutMs),
  };
}

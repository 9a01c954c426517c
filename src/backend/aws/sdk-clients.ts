// How the AWS backend gets its SDK clients: one Lambda/RAM pair per Region,
// built by a factory so tests can hand in real clients pointed elsewhere.
import { LambdaClient, type LambdaClientConfig } from "@aws-sdk/client-lambda";
import { RAMClient } from "@aws-sdk/client-ram";

/** The narrow part of the SDK clients the backend uses. */
export interface AwsClientPair {
  readonly lambda: Pick<LambdaClient, "send">;
  readonly ram: Pick<RAMClient, "send">;
  /** Releases sockets; optional so a test can pass stand-ins without it. */
  readonly destroy?: (() => void) | undefined;
  /** Resolves the credentials the clients would sign with (readiness); rejects when there are none. */
  readonly resolveCredentials?: (() => Promise<unknown>) | undefined;
}

/**
 * Builds the client pair of one Region; called at most once per Region per
 * backend, and once per Region and role session with that session's
 * credentials (AWS_ACCOUNTS_FILE).
 */
export type AwsClientFactory = (region: string, credentials?: AwsCredentials) => AwsClientPair;

/** Credentials as the SDK accepts them: fixed keys or a provider function. */
export type AwsCredentials = NonNullable<LambdaClientConfig["credentials"]>;

export interface SdkClientSettings {
  readonly maxAttempts: number;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Tests only; production leaves this unset so the SDK's default chain applies. */
  readonly credentials?: AwsCredentials | undefined;
  /**
   * Tests only; production leaves this unset so the SDK reads
   * AWS_ENDPOINT_URL_LAMBDA / AWS_ENDPOINT_URL_RAM / AWS_ENDPOINT_URL itself.
   */
  readonly endpoint?: string | undefined;
}

/** The production factory: real SDK clients with the gateway's retry and timeout policy. */
export function createSdkClientFactory(settings: SdkClientSettings): AwsClientFactory {
  return (region, sessionCredentials) => {
    const credentials = sessionCredentials ?? settings.credentials;
    const config = {
      region,
      maxAttempts: settings.maxAttempts,
      retryMode: "standard",
      requestHandler: {
        connectionTimeout: settings.connectTimeoutMs,
        requestTimeout: settings.requestTimeoutMs,
        // Without this the handler only logs a warning when requestTimeout passes.
        throwOnRequestTimeout: true,
      },
      ...(credentials === undefined ? {} : { credentials }),
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    } as const;
    const lambda = new LambdaClient(config);
    const ram = new RAMClient(config);
    return {
      lambda,
      ram,
      destroy: () => {
        lambda.destroy();
        ram.destroy();
      },
      resolveCredentials: () => lambda.config.credentials(),
    };
  };
}

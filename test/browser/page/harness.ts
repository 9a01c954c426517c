// The browser test's page script. At test time it is bundled with the web
// client that docs/clients.md shows (section "From a web page") and exposes
// runScenarios, which Playwright calls; every outcome goes back to the test
// as plain JSON. Runs in Chromium, so it touches no Node API.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { AddLambdaPermissionRequestSchema, PermissionService } from "../../../gen/permission/v1/permission_pb.js";

export type Protocol = "connect" | "grpc-web";

/** What docs/clients.md's web client exports. */
export interface WebClient {
  createPermissionClient(baseUrl: string, protocol: Protocol): Client<typeof PermissionService>;
  addStatement(
    client: Client<typeof PermissionService>,
    request: MessageInitShape<typeof AddLambdaPermissionRequestSchema>,
    headers?: Record<string, string>,
  ): Promise<{ statement: string; replayed: boolean }>;
  errorReason(error: unknown): string | undefined;
}

export type Outcome =
  | { readonly ok: true; readonly statement?: string; readonly replayed?: boolean; readonly readableHeaders?: string[] }
  | { readonly ok: false; readonly code: string; readonly reason: string | undefined; readonly message: string };

export interface ScenarioOutcomes {
  readonly added: Outcome;
  readonly retried: Outcome;
  readonly notFound: Outcome;
  /** A read whose response headers the page lists: what CORS lets it see. */
  readonly read: Outcome;
  /** A call with a request header outside the CORS list: the preflight must refuse it. */
  readonly unlistedHeader: Outcome;
}

export interface PageGlobals {
  runScenarios(gatewayUrl: string, protocol: Protocol): Promise<ScenarioOutcomes>;
}

/** What a front end sends on every call: credentials and W3C trace context (each needs the preflight's consent). */
const callHeaders = {
  authorization: "Bearer browser-test-token",
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  tracestate: "pg=browser-test",
};

export function installPage(web: WebClient): void {
  const globals: PageGlobals = { runScenarios: (gatewayUrl, protocol) => runScenarios(web, gatewayUrl, protocol) };
  Object.assign(globalThis, globals);
}

async function runScenarios(web: WebClient, gatewayUrl: string, protocol: Protocol): Promise<ScenarioOutcomes> {
  const client = web.createPermissionClient(gatewayUrl, protocol);
  const request = {
    functionName: "demo",
    statementId: `browser-${protocol}`,
    action: "lambda:InvokeFunction",
    principal: "s3.amazonaws.com",
    idempotencyKey: `browser-${protocol}-1`,
  };
  const attempt = (call: () => Promise<Outcome>): Promise<Outcome> => outcome(web, call);
  return {
    added: await attempt(async () => ({ ok: true, ...(await web.addStatement(client, request, callHeaders)) })),
    retried: await attempt(async () => ({ ok: true, ...(await web.addStatement(client, request, callHeaders)) })),
    notFound: await attempt(async () => {
      await client.removeLambdaPermission({ functionName: "demo", statementId: "not-there" }, { headers: callHeaders });
      return { ok: true };
    }),
    read: await attempt(async () => {
      const readableHeaders: string[] = [];
      await client.getLambdaPolicy(
        { functionName: "demo" },
        { headers: callHeaders, onHeader: (h) => h.forEach((_v, name) => readableHeaders.push(name)) },
      );
      return { ok: true, readableHeaders };
    }),
    unlistedHeader: await attempt(async () => {
      await client.getLambdaPolicy({ functionName: "demo" }, { headers: { "x-not-in-the-cors-list": "1" } });
      return { ok: true };
    }),
  };
}

async function outcome(web: WebClient, call: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await call();
  } catch (error) {
    const e = ConnectError.from(error);
    return { ok: false, code: Code[e.code], reason: web.errorReason(error), message: e.rawMessage };
  }
}

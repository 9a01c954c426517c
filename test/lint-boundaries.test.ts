// The architecture's boundaries are lint rules (eslint.config.js): each one
// is tried here with a forbidden import, through ESLint's own API and the
// project's real config, and with the imports it must still allow. The
// source is linted as if it were an existing file of the folder in question
// (type-aware rules need a file the TypeScript project knows).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { ESLint } from "eslint";

const root = fileURLToPath(new URL("..", import.meta.url));
const eslint = new ESLint({ cwd: root });
const boundaryRules = new Set(["@typescript-eslint/no-restricted-imports", "no-restricted-syntax"]);

async function boundaryMessages(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  assert.ok(result !== undefined);
  const parseErrors = result.messages.filter((message) => message.ruleId === null);
  assert.deepEqual(parseErrors, [], `${filePath} parses`);
  return result.messages.filter((message) => boundaryRules.has(message.ruleId ?? "")).map((message) => message.message);
}

const sdkImport = 'import { LambdaClient } from "@aws-sdk/client-lambda";\nexport const used = LambdaClient;\n';
const sdk = /The AWS SDK stays inside src\/backend\/aws\//;
const env = /Only the entry points .* read process\.env/;

/** [file the source stands in, source, the boundary's message] */
const forbidden: readonly (readonly [string, string, RegExp])[] = [
  ["src/validation.ts", sdkImport, sdk],
  [
    "src/validation.ts",
    'import type { LambdaClient } from "@aws-sdk/client-lambda";\nexport type Used = LambdaClient;\n',
    sdk,
  ],
  ["src/validation.ts", 'import type { HttpRequest } from "@smithy/types";\nexport type Used = HttpRequest;\n', sdk],
  ["src/gateway.ts", 'export const loaded = await import("@aws-sdk/client-ram");\n', sdk],
  ["test/server.test.ts", sdkImport, sdk],
  ["bench/run.ts", sdkImport, sdk],
  [
    "src/backend/aws/translate-error.ts",
    'import { createFakeBackend } from "../fake/fake-backend.js";\nexport const used = createFakeBackend;\n',
    /must not import the fake backend/,
  ],
  [
    "src/backend/fake/lambda-model.ts",
    'import { createAwsBackend } from "../aws/aws-backend.js";\nexport const used = createAwsBackend;\n',
    /must not import the AWS adapter/,
  ],
  [
    "src/fake-aws/server.ts",
    'import { createAwsBackend } from "../backend/aws/aws-backend.js";\nexport const used = createAwsBackend;\n',
    /must not import the AWS adapter/,
  ],
  [
    "src/service.ts",
    'import { createFakeBackend } from "./backend/fake/fake-backend.js";\nexport const used = createFakeBackend;\n',
    /see the ports only/,
  ],
  ["src/service.ts", 'export const loaded = await import("./backend/aws/aws-backend.js");\n', /see the ports only/],
  [
    "src/rpc/rpc-table.ts",
    'import { createMemoryIdempotencyStore } from "../idempotency/memory-store.js";\nexport const used = createMemoryIdempotencyStore;\n',
    /see the ports only/,
  ],
  [
    "src/rpc/rpc-table.ts",
    'import { createRedisStore } from "../idempotency/redis-store.js";\nexport const used = createRedisStore;\n',
    /see the ports only/,
  ],
  [
    "src/health/health-state.ts",
    'import { Redis } from "ioredis";\nexport const used = Redis;\n',
    /ioredis is used only under src\/idempotency\/ and src\/limits\//,
  ],
  [
    "src/authz/request.ts",
    'import * as cedar from "@cedar-policy/cedar-wasm/nodejs";\nexport const used = cedar;\n',
    /cedar-wasm .* only by src\/authz\/cedar\//,
  ],
  [
    "src/observability/tracing.ts",
    'import { TracerProvider } from "@opentelemetry/sdk-trace";\nexport const used = TracerProvider;\n',
    /OpenTelemetry SDK/,
  ],
  [
    "src/observability/tracing.ts",
    'export const loaded = await import("@opentelemetry/exporter-trace-otlp-http");\n',
    /OpenTelemetry SDK/,
  ],
  ["src/health/health-state.ts", 'export const host = process.env["HOST"];\n', env],
  ["src/health/health-state.ts", "export const host = process.env.HOST;\n", env],
  ["src/health/health-state.ts", "export const all = globalThis.process.env;\n", env],
  ["src/health/health-state.ts", "const { env } = process;\nexport const all = env;\n", env],
  ["src/health/health-state.ts", 'import { env } from "node:process";\nexport const all = env;\n', env],
  ["src/gateway.ts", "export const all = process.env;\n", env],
  // Not a boundary, but checked by the same rule: no-floating-promises lets test() through by name, t.test() too.
  [
    "test/server.test.ts",
    'import { test } from "node:test";\ntest("parent", (t) => {\n  t.test("child", () => {});\n});\n',
    /Await the subtest/,
  ],
];

/** [file the source stands in, source] */
const allowed: readonly (readonly [string, string])[] = [
  ["src/backend/aws/translate-error.ts", sdkImport],
  ["test/aws/arn.test.ts", sdkImport],
  ["test/backend/aws/config.test.ts", sdkImport],
  ["test/fake-aws/harness.ts", sdkImport],
  [
    "src/backend/fake/lambda-model.ts",
    'import { parseFunctionName } from "../../aws/arn.js";\nexport const used = parseFunctionName;\n',
  ],
  [
    "src/fake-aws/server.ts",
    'import { createFakeBackend } from "../backend/fake/fake-backend.js";\nexport const used = createFakeBackend;\n',
  ],
  [
    "src/fake-aws/server.ts",
    'import { parseFunctionName } from "../aws/arn.js";\nexport const used = parseFunctionName;\n',
  ],
  [
    "src/rpc/rpc-table.ts",
    'import type { IdempotencyGuard } from "../idempotency/guard-port.js";\nexport type Used = IdempotencyGuard;\n',
  ],
  [
    "src/service.ts",
    'import type { PermissionBackend } from "./backend/backend.js";\nexport type Used = PermissionBackend;\n',
  ],
  ["src/limits/rate-limit.ts", 'import { Redis } from "ioredis";\nexport const used = Redis;\n'],
  ["src/health/health-state.ts", 'import type { Redis } from "ioredis";\nexport type Used = Redis;\n'],
  [
    "src/authz/cedar/policy-set.ts",
    'import * as cedar from "@cedar-policy/cedar-wasm/nodejs";\nexport const used = cedar;\n',
  ],
  [
    "src/observability/span-tracing.ts",
    'import { TracerProvider } from "@opentelemetry/sdk-trace";\nexport const used = TracerProvider;\n',
  ],
  [
    "src/observability/tracing.ts",
    'import type { SpanExporter } from "@opentelemetry/sdk-trace";\nexport type Used = SpanExporter;\n',
  ],
  ["src/main.ts", "export const all = process.env;\n"],
  ["src/fake-aws/main.ts", "export const all = process.env;\n"],
  ["test/server.test.ts", "export const all = process.env;\n"],
];

describe("lint boundaries", () => {
  test("each boundary refuses what crosses it, with its message", async () => {
    for (const [filePath, source, message] of forbidden) {
      const messages = await boundaryMessages(filePath, source);
      assert.equal(messages.length, 1, `${filePath}: ${source}\n${messages.join("\n")}`);
      assert.match(messages[0] ?? "", message, `${filePath}: ${source}`);
    }
  });

  test("what the boundaries allow stays clean", async () => {
    for (const [filePath, source] of allowed) {
      assert.deepEqual(await boundaryMessages(filePath, source), [], `${filePath}: ${source}`);
    }
  });
});

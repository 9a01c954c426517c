import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

// The architecture's boundaries (docs/design.md, "Folder map"), checked here rather
// than only described. Each boundary is one import-source pattern: static
// imports go through no-restricted-imports, dynamic `import()` (how the
// gateway loads its optional adapters) through no-restricted-syntax, with
// the same message.
const boundaries = {
  awsSdk: {
    regex: "^@(aws-sdk|smithy)/",
    message:
      "The AWS SDK stays inside src/backend/aws/ (and the tests that use it as a client): no SDK type leaks out of the adapter.",
  },
  // Relative paths are matched as written: from a file directly in
  // src/backend/aws/, `../fake/` is the fake backend (and the other way round).
  fakeBackend: {
    regex: "(^|/)backend/fake(/|$)|^\\.\\./fake(/|$)",
    message:
      "src/backend/aws/ must not import the fake backend: the two adapters of PermissionBackend stay independent.",
  },
  awsBackend: {
    regex: "(^|/)backend/aws(/|$)|^\\.\\./aws(/|$)",
    message:
      "src/backend/fake/ must not import the AWS adapter: the two adapters of PermissionBackend stay independent.",
  },
  // From src/fake-aws/, `../aws/` is the shared AWS knowledge, which is allowed.
  awsBackendFromFakeAws: {
    regex: "(^|/)backend/aws(/|$)",
    message:
      "src/fake-aws/ must not import the AWS adapter: it is the endpoint the adapter is tested against (it may use the fake backend).",
  },
  adapters: {
    regex: "(^|/)backend/(fake|aws)(/|$)|(^|/)idempotency/(redis-[^/]*|memory-store(\\.js)?)$",
    message:
      "The service and RPC layer see the ports only (backend/backend.ts, backend/errors.ts, idempotency/guard.ts): adapters are chosen in gateway.ts.",
  },
  ioredis: {
    regex: "^ioredis$",
    allowTypeImports: true,
    message: "ioredis is used only under src/idempotency/ and src/limits/ (a type import is fine elsewhere).",
  },
  cedarWasm: {
    regex: "^@cedar-policy/cedar-wasm(/|$)",
    message: "cedar-wasm (4 MB of WebAssembly) is loaded only by src/authz/cedar/, and only when AUTHZ_MODE=cedar.",
  },
  otelSdk: {
    regex: "^@opentelemetry/(sdk-|exporter-|resources$)",
    allowTypeImports: true,
    message:
      "The OpenTelemetry SDK and exporters are loaded only by src/observability/span-tracing.ts, when an OTLP endpoint is set (a type import is fine elsewhere).",
  },
};

// main.ts files are the only readers of the environment; everything else
// gets a parsed config (CONVENTIONS.md).
const processEnvMessage =
  "Only the entry points (src/main.ts, src/fake-aws/main.ts) read process.env; pass the parsed config in.";
const processEnvSelectors = [
  "MemberExpression[object.name='process'][property.name='env']",
  "MemberExpression[object.name='process'][property.value='env']",
  "MemberExpression[object.property.name='process'][property.name='env']",
  "VariableDeclarator[init.name='process'] > ObjectPattern > Property[key.name='env']",
];

/** The restriction rules for files where the named boundaries hold (and no other), plus `extraSyntax`. */
function restrict(files, names, extraSyntax = []) {
  const forbidden = names.filter((name) => name !== "processEnv").map((name) => boundaries[name]);
  const env = names.includes("processEnv");
  const importRule =
    forbidden.length === 0 && !env
      ? "off"
      : [
          "error",
          {
            patterns: forbidden.map(({ regex, message, allowTypeImports = false }) => ({
              regex,
              message,
              allowTypeImports,
            })),
            paths: env
              ? ["node:process", "process"].map((name) => ({ name, importNames: ["env"], message: processEnvMessage }))
              : [],
          },
        ];
  const syntax = [
    ...forbidden.map(({ regex, message }) => ({
      selector: `ImportExpression[source.value=/${regex.replaceAll("/", "\\/")}/]`,
      message,
    })),
    ...(env ? processEnvSelectors.map((selector) => ({ selector, message: processEnvMessage })) : []),
    ...extraSyntax,
  ];
  return {
    files,
    rules: {
      "@typescript-eslint/no-restricted-imports": importRule,
      "no-restricted-syntax": syntax.length === 0 ? "off" : ["error", ...syntax],
    },
  };
}

const except = (names, ...allowed) => names.filter((name) => !allowed.includes(name));

// no-floating-promises below lets node:test's test() through by its name,
// which also lets a subtest's t.test() through; node:test cancels a subtest
// still running when its parent ends, so that one must be awaited.
const subtestAwaited = {
  selector:
    "ExpressionStatement > CallExpression[callee.type='MemberExpression'][callee.object.type='Identifier'][callee.property.name='test']",
  message: "Await the subtest: node:test cancels a subtest that is still running when its parent test ends.",
};

// For each rule the last config object whose `files` match wins, so every
// zone lists all the boundaries that hold in it; zones after `src/**` are
// disjoint, except src/fake-aws/main.ts, which refines src/fake-aws/**.
const inSrc = ["awsSdk", "ioredis", "cedarWasm", "otelSdk", "processEnv"];
const boundaryZones = [
  restrict(["src/**/*.ts"], inSrc),
  restrict(["src/backend/aws/**/*.ts"], [...except(inSrc, "awsSdk"), "fakeBackend"]),
  restrict(["src/backend/fake/**/*.ts"], [...inSrc, "awsBackend"]),
  restrict(["src/fake-aws/**/*.ts"], [...inSrc, "awsBackendFromFakeAws"]),
  restrict(["src/fake-aws/main.ts"], [...except(inSrc, "processEnv"), "awsBackendFromFakeAws"]),
  restrict(["src/main.ts"], except(inSrc, "processEnv")),
  restrict(["src/service.ts", "src/rpc/**/*.ts"], [...inSrc, "adapters"]),
  restrict(["src/idempotency/**/*.ts", "src/limits/**/*.ts"], except(inSrc, "ioredis")),
  restrict(["src/authz/cedar/**/*.ts"], except(inSrc, "cedarWasm")),
  restrict(["src/observability/span-tracing.ts"], except(inSrc, "otelSdk")),
  // Tests and benchmarks may read the environment and use Redis and Cedar
  // directly; the SDK only where it is the client of the adapter or of the
  // fake AWS endpoint.
  restrict(["test/**/*.ts", "bench/**/*.ts"], ["awsSdk"], [subtestAwaited]),
  restrict(["test/backend/aws/**/*.ts", "test/aws/**/*.ts", "test/fake-aws/**/*.ts"], [], [subtestAwaited]),
];

export default defineConfig(
  // tmp/: git-ignored scratch files of a developer.
  globalIgnores(["gen/**", "node_modules/**", "dist/**", "bench/results/**", "tmp/**"]),
  { linterOptions: { reportUnusedDisableDirectives: "error" } },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      // node:test's test()/describe() return promises that the runner itself
      // tracks and reports, so a test file need not await them (a subtest's
      // t.test() is held to be awaited by subtestAwaited above).
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: ["test", "describe", "it", "suite", "before", "after", "beforeEach", "afterEach"],
            },
          ],
        },
      ],
      // Off: every finding is an implementation of a Promise-returning port
      // (IdempotencyStore, Authenticator, health probes, guard callbacks) or
      // a test stand-in for one, where `async` is what turns a throw into a
      // rejection the caller handles. A forgotten await, which this rule is
      // after, is caught by no-floating-promises and no-misused-promises.
      "@typescript-eslint/require-await": "off",
      // A value that was caught or handed in (typed unknown) is passed on as
      // it came: wrapping it would change what the caller sees. Building a
      // non-Error (a literal, an object) stays an error.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true }],
      "@typescript-eslint/only-throw-error": ["error", { allowThrowingUnknown: true }],
    },
  },
  ...boundaryZones,
  {
    // Plain JS (this file): linted, without type information.
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);

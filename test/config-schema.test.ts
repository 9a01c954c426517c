// The configuration schema: every line parses its own default, refuses a
// value out of its range in the words --help and the configuration table print, --help
// is grouped by section, the table of docs/configuration.md is the schema's, the one rule for
// variables that do not apply, and warnings for misspelt ones.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SETTINGS, helpText, loadConfig } from "../src/config.js";
import { configurationTables, findTableFile } from "../src/config-docs.js";
import {
  ConfigError,
  INVALID,
  SECTIONS,
  editDistance,
  misspellingWarnings,
  read,
  type Env,
  writtenDefault,
  type Setting,
} from "../src/config-values.js";
import { FAKE_AWS_SETTINGS, fakeAwsHelpText } from "../src/fake-aws/config.js";
import { repoRoot } from "./support/readme.js";
import { fileURLToPath } from "node:url";

/** What a line's conditions need so that it applies, with what its mode requires. */
const CONTEXT: Readonly<Record<string, Env>> = {
  "AUTH_MODE=jwt": { AUTH_MODE: "jwt", JWT_ISSUER: "i", JWT_AUDIENCE: "a", JWT_JWKS_URL: "https://idp.example/jwks" },
  "AUTH_MODE=mtls": { AUTH_MODE: "mtls", TLS_CERT_FILE: "c", TLS_KEY_FILE: "k", TLS_CLIENT_CA_FILE: "ca" },
  "AUTH_MODE=api-key": { AUTH_MODE: "api-key", API_KEYS_FILE: "keys" },
  "AUTH_MODE=none": {},
  AUTHZ_MODE: { AUTHZ_MODE: "cedar", AUTHZ_POLICIES: "p" },
  AUTHZ_POLICIES: { AUTHZ_POLICIES: "p" },
  AUDIT_SINK: {},
  JWT_JWKS_URL: {},
  "IDEMPOTENCY_STORE=redis": { IDEMPOTENCY_STORE: "redis", REDIS_URL: "redis://127.0.0.1:6379" },
  "BACKEND=aws": { BACKEND: "aws" },
  "BACKEND=fake": {},
  AWS_ACCOUNTS_FILE: { AWS_ACCOUNTS_FILE: "accounts.json" },
};

function contextOf(line: Setting): Env {
  let env: Env = {};
  for (const condition of line.appliesWhen ?? []) {
    const key = condition.in === undefined ? condition.variable : `${condition.variable}=${condition.in[0] ?? ""}`;
    const context = CONTEXT[key];
    assert.ok(context !== undefined, `a test context for ${line.name}'s condition ${key}`);
    env = { ...env, ...context };
  }
  return env;
}

/** Values each ranged kind must refuse. */
function refusedValues(line: Setting): string[] {
  const range =
    /^an integer from (-?\d+) to (-?\d+)/.exec(line.accepts) ?? /^a number from (\S+) to (\S+)/.exec(line.accepts);
  if (range !== null) return [String(Number(range[1]) - 1), String(Number(range[2]) + 1), "abc"];
  if (line.kind === "bool") return ["yes", "TRUE"];
  if (line.kind === "enum") return ["no-such-value"];
  return [];
}

describe("every schema line", () => {
  for (const line of [...SETTINGS, ...Object.values(FAKE_AWS_SETTINGS)]) {
    test(`${line.name}: help fields, its default parses to itself, out-of-range values refused in its own words`, () => {
      assert.ok(line.help !== "" && line.accepts !== "", `${line.name} has help and accepted values`);
      const written = writtenDefault(line);
      if (written !== undefined) {
        assert.deepEqual(
          read({ [line.name]: written }, line),
          line.default,
          `${line.name}'s default ${written} parses to itself`,
        );
      }
      for (const value of refusedValues(line)) {
        assert.equal(line.parse(value), INVALID, `${line.name} refuses ${value}`);
        assert.throws(
          () => read({ [line.name]: value }, line),
          (error) => error instanceof ConfigError && error.variable === line.name && error.accepted === line.accepts,
        );
      }
    });
  }

  for (const line of SETTINGS.filter((line) => refusedValues(line).length > 0)) {
    test(`${line.name}: loadConfig refuses a bad value with the words of --help`, () => {
      const value = refusedValues(line)[0] ?? "";
      assert.throws(
        () => loadConfig({ ...contextOf(line), [line.name]: value }),
        (error) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.variable, line.name);
          assert.ok(error.accepted.startsWith(line.accepts), `${error.accepted} starts with ${line.accepts}`);
          assert.ok(helpText().includes(`accepts: ${line.accepts};`));
          return true;
        },
      );
    });
  }

  test("names are unique, and every line is in --help exactly once", () => {
    const names = SETTINGS.map((line) => line.name);
    assert.equal(new Set(names).size, names.length);
    const help = helpText();
    for (const name of names) assert.equal(help.split(`\n  ${name} `).length, 2, `${name} once in --help`);
  });

  test("REFLECTION: --help and the error say the same words (true, false, 1 or 0)", () => {
    assert.match(helpText(), /REFLECTION .*\n\s+accepts: true, false, 1 or 0; default: true/);
    assert.throws(() => loadConfig({ REFLECTION: "yes" }), {
      message: 'REFLECTION="yes" is not valid: expected true, false, 1 or 0',
    });
  });
});

describe("--help", () => {
  test("is grouped: a heading per section, in order, each followed by its own lines only", () => {
    const help = helpText();
    const headings = [...help.matchAll(/^(\S[^\n]*):$/gm)].map((match) => match[1]);
    const sections = [...new Set(SETTINGS.map((line) => line.section.title))];
    assert.deepEqual(headings, sections);
    for (const line of SETTINGS) {
      const at = help.indexOf(`\n  ${line.name} `);
      const heading = help.lastIndexOf(`\n${line.section.title}:\n`, at);
      const next = help.slice(heading + 1).search(/\n\S[^\n]*:\n/);
      const end = next === -1 ? help.length : heading + 1 + next;
      assert.ok(heading !== -1 && at < end, `${line.name} under ${line.section.title}`);
    }
  });

  test("npm run fake-aws -- --help comes from the same lines, under its own heading", () => {
    const help = fakeAwsHelpText();
    assert.match(help, new RegExp(`^${SECTIONS.fakeAws.title}:$`, "m"));
    for (const line of Object.values(FAKE_AWS_SETTINGS)) {
      assert.ok(help.includes(`accepts: ${line.accepts};`), line.name);
    }
    assert.match(help, /PORT .*\n\s+accepts: an integer from 0 to 65535; default: 4010/);
  });
});

describe("the configuration table (docs/configuration.md)", () => {
  test("is the schema's, line by line, and nothing else (npm run docs:config writes it)", async () => {
    const file = await findTableFile(fileURLToPath(repoRoot));
    const expected = configurationTables().split("\n");
    const actual = file.table.split("\n");
    for (const [index, line] of expected.entries()) assert.equal(actual[index], line, `table line ${index + 1}`);
    assert.equal(actual.length, expected.length, "no row the schema does not have");
  });

  test("has a row for every line with its default and accepted values", () => {
    const tables = configurationTables();
    for (const line of SETTINGS) assert.match(tables, new RegExp(`^\\| \`${line.name}\` \\| `, "m"));
  });
});

describe("variables that do not apply", () => {
  const refused: [Env, string, RegExp][] = [
    [
      { AUTHZ_MODE: "off", AUTHZ_POLICIES: "authz/policies" },
      "AUTHZ_POLICIES",
      /AUTHZ_MODE other than off.*AUTHZ_MODE=off/,
    ],
    [{ AUDIT_SINK: "off", AUDIT_READS: "true" }, "AUDIT_READS", /AUDIT_SINK other than off.*AUDIT_SINK=off/],
    [{ JWT_ISSUER: "https://idp.example/" }, "JWT_ISSUER", /AUTH_MODE=jwt.*AUTH_MODE=none/],
    [
      { AUTH_MODE: "api-key", API_KEYS_FILE: "k", TLS_CLIENT_CA_FILE: "ca.pem" },
      "TLS_CLIENT_CA_FILE",
      /AUTH_MODE=mtls/,
    ],
    [{ ...CONTEXT["AUTH_MODE=api-key"], ALLOW_UNAUTHENTICATED: "false" }, "ALLOW_UNAUTHENTICATED", /AUTH_MODE=none/],
  ];
  refused.push([
    { AUTH_MODE: "jwts", JWT_ISSUER: "https://idp.example/" },
    "AUTH_MODE",
    /one of none, mtls, jwt, api-key/,
  ]);
  for (const [env, variable, words] of refused) {
    test(`security: ${variable} in ${JSON.stringify(env)} stops start-up`, () => {
      assert.throws(
        () => loadConfig(env),
        (error) => error instanceof ConfigError && error.variable === variable && words.test(error.accepted),
      );
    });
  }

  const warned: [Env, string][] = [
    [
      { REDIS_URL: "redis://r:6379" },
      "REDIS_URL is set but ignored: it applies only with IDEMPOTENCY_STORE=redis, and here IDEMPOTENCY_STORE=memory",
    ],
    [
      { BACKEND: "aws", FAKE_LATENCY_MS: "5" },
      "FAKE_LATENCY_MS is set but ignored: it applies only with BACKEND=fake, and here BACKEND=aws",
    ],
    [
      { AWS_MAX_ATTEMPTS: "5" },
      "AWS_MAX_ATTEMPTS is set but ignored: it applies only with BACKEND=aws, and here BACKEND=fake",
    ],
  ];
  for (const [env, warning] of warned) {
    test(`other sections: ${Object.keys(env).join(", ")} gets one start-up warning`, () => {
      assert.deepEqual(loadConfig(env).warnings, [warning]);
    });
  }

  test("applying variables give no warning", () => {
    assert.deepEqual(loadConfig({ ...CONTEXT["IDEMPOTENCY_STORE=redis"], ...CONTEXT["AUTH_MODE=jwt"] }).warnings, []);
    assert.deepEqual(
      loadConfig({ AUTHZ_POLICIES: "p", AUTHZ_DECISION_CACHE_ENTRIES: "5", AUDIT_READS: "1" }).warnings,
      [],
    );
  });
});

describe("PORT and METRICS_PORT", () => {
  test("the same port is a ConfigError naming both", () => {
    assert.throws(
      () => loadConfig({ PORT: "9464", METRICS_PORT: "9464" }),
      (error) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, "METRICS_PORT");
        assert.match(error.message, /METRICS_PORT="9464" is not valid: expected .*other than PORT \(PORT=9464/);
        return true;
      },
    );
    assert.throws(() => loadConfig({ METRICS_PORT: "8080" }), /PORT=8080/);
  });

  test("different ports are fine", () => {
    assert.equal(loadConfig({ PORT: "8080", METRICS_PORT: "9464" }).observability.metricsPort, 9464);
  });
});

describe("misspelt variables", () => {
  const known = SETTINGS.map((line) => line.name);
  const cases: [string, string][] = [
    ["PROT", "PORT"],
    ["LOGLEVEL", "LOG_LEVEL"],
    ["AUTHMODE", "AUTH_MODE"],
    ["log_level", "LOG_LEVEL"],
    ["IDEMPOTENCY_STOR", "IDEMPOTENCY_STORE"],
    ["AUTHZ_POLICES", "AUTHZ_POLICIES"],
    ["LOG_LEVL", "LOG_LEVEL"],
    ["REDIS_URI", "REDIS_URL"],
    ["METRIC_PORT", "METRICS_PORT"],
    ["AUDIT_READ", "AUDIT_READS"],
  ];
  for (const [typo, intended] of cases) {
    test(`${typo} is warned about, naming ${intended}`, () => {
      assert.deepEqual(loadConfig({ [typo]: "x" }).warnings, [
        `${typo} is not a setting; did you mean ${intended}? It is ignored.`,
      ]);
    });
  }

  test("the environment of real shells, CI runners, containers and npm stays silent", () => {
    // Recorded from a Debian login shell, an `npm run` child, a GitHub Actions
    // runner, a Kubernetes pod and an ECS task.
    const real: Env = {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: "/home/dev",
      USER: "dev",
      LOGNAME: "dev",
      SHELL: "/bin/bash",
      PWD: "/work",
      OLDPWD: "/",
      TERM: "xterm-256color",
      LANG: "C.UTF-8",
      LC_ALL: "C.UTF-8",
      TZ: "UTC",
      SHLVL: "1",
      HOSTNAME: "gateway-7d9f",
      HOSTTYPE: "x86_64",
      EDITOR: "vi",
      TMPDIR: "/tmp",
      DISPLAY: ":0",
      NODE_ENV: "production",
      NODE_OPTIONS: "--enable-source-maps",
      NODE_EXTRA_CA_CERTS: "/etc/ssl/ca.pem",
      npm_config_cache: "/home/dev/.npm",
      npm_lifecycle_event: "start",
      npm_package_name: "permission-gateway",
      INIT_CWD: "/work",
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_SHA: "abc",
      RUNNER_OS: "Linux",
      RUNNER_TEMP: "/tmp",
      KUBERNETES_SERVICE_HOST: "10.0.0.1",
      KUBERNETES_SERVICE_PORT: "443",
      KUBERNETES_PORT: "tcp://10.0.0.1:443",
      REDIS_SERVICE_HOST: "10.0.0.7",
      REDIS_SERVICE_PORT: "6379",
      REDIS_PORT: "tcp://10.0.0.7:6379",
      REDIS_HOST: "redis",
      AWS_EXECUTION_ENV: "AWS_ECS_FARGATE",
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/x",
      AWS_DEFAULT_OUTPUT: "json",
      AWS_SDK_LOAD_CONFIG: "1",
      AWS_CONFIG_FILE: "/home/dev/.aws/config",
      AWS_SHARED_CREDENTIALS_FILE: "/home/dev/.aws/credentials",
      AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/x",
      AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/secrets/token",
      AWS_ENDPOINT_URL_IAM: "http://127.0.0.1:4566",
      AWS_ENDPOINT_URL_STS: "http://127.0.0.1:4566",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod",
      OTEL_TRACES_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_LOG_LEVEL: "info",
      HTTP_PROXY: "http://proxy:3128",
      NO_PROXY: "localhost",
      http_proxy: "http://proxy:3128",
      SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt",
    };
    assert.deepEqual(loadConfig(real).warnings, []);
  });

  test("known names, set or empty, are never warned about", () => {
    assert.deepEqual(misspellingWarnings(Object.fromEntries(known.map((name) => [name, "x"])), known, []), []);
    assert.deepEqual(misspellingWarnings({ PROT: "" }, known, []), []);
  });

  test("editDistance counts a transposition as one edit", () => {
    assert.equal(editDistance("PROT", "PORT"), 1);
    assert.equal(editDistance("HOME", "HOST"), 2);
    assert.equal(editDistance("", "ABC"), 3);
  });
});

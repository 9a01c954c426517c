// Observability, health and reflection settings: defaults, accepted values,
// and a ConfigError naming the variable and what it accepts (never the
// values of OTLP headers, which are credentials).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../src/config-values.js";
import { HEALTH_ENV_HELP, parseHealthConfig } from "../../src/health/config.js";
import { OBSERVABILITY_ENV_HELP, parseObservabilityConfig } from "../../src/observability/config.js";
import { REFLECTION_ENV_HELP, parseReflectionConfig } from "../../src/reflection/config.js";

test("defaults: /metrics on the main port, no spans, reflection on, probes every 5 s", () => {
  assert.deepEqual(parseObservabilityConfig({}), {
    metricsPort: undefined,
    tracing: { tracesEndpoint: undefined, headers: {}, serviceName: "permission-gateway" },
  });
  assert.deepEqual(parseHealthConfig({}), { intervalMs: 5000, timeoutMs: 1000, maxWatchStreams: 100 });
  assert.deepEqual(parseReflectionConfig({}), { enabled: true });
});

test("accepted values", () => {
  const config = parseObservabilityConfig({
    METRICS_PORT: "9464",
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/",
    OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=abc%3D%3D, Tenant=t1",
    OTEL_SERVICE_NAME: "pg-eu",
  });
  assert.deepEqual(config, {
    metricsPort: 9464,
    tracing: {
      tracesEndpoint: "http://collector:4318/v1/traces",
      headers: { "x-api-key": "abc==", tenant: "t1" },
      serviceName: "pg-eu",
    },
  });
  const traces = parseObservabilityConfig({
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example.com/otlp/v1/traces",
  });
  assert.equal(
    traces.tracing.tracesEndpoint,
    "https://traces.example.com/otlp/v1/traces",
    "the signal's own URL wins, as it is",
  );
  assert.deepEqual(
    parseHealthConfig({
      HEALTH_CHECK_INTERVAL_MS: "250",
      HEALTH_CHECK_TIMEOUT_MS: "100",
      HEALTH_MAX_WATCH_STREAMS: "3",
    }),
    {
      intervalMs: 250,
      timeoutMs: 100,
      maxWatchStreams: 3,
    },
  );
  assert.deepEqual(parseReflectionConfig({ REFLECTION: "false" }), { enabled: false });
});

test("a bad value names the variable and what it accepts", () => {
  const cases: [() => unknown, string, RegExp][] = [
    [() => parseObservabilityConfig({ METRICS_PORT: "0" }), "METRICS_PORT", /an integer from 1 to 65535/],
    [() => parseObservabilityConfig({ METRICS_PORT: "http" }), "METRICS_PORT", /an integer from 1 to 65535/],
    [
      () => parseObservabilityConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }),
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      /http:\/\/ or https:\/\/ URL/,
    ],
    [
      () => parseObservabilityConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "not a url" }),
      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
      /URL/,
    ],
    [
      () => parseObservabilityConfig({ OTEL_EXPORTER_OTLP_HEADERS: "novalue" }),
      "OTEL_EXPORTER_OTLP_HEADERS",
      /key=value/,
    ],
    [() => parseHealthConfig({ HEALTH_CHECK_INTERVAL_MS: "10" }), "HEALTH_CHECK_INTERVAL_MS", /from 100 to 600000/],
    [() => parseHealthConfig({ HEALTH_CHECK_TIMEOUT_MS: "1s" }), "HEALTH_CHECK_TIMEOUT_MS", /from 10 to 60000/],
    [() => parseHealthConfig({ HEALTH_MAX_WATCH_STREAMS: "0" }), "HEALTH_MAX_WATCH_STREAMS", /from 1 to 100000/],
    [() => parseReflectionConfig({ REFLECTION: "yes" }), "REFLECTION", /true, false/],
  ];
  for (const [parse, variable, accepted] of cases) {
    assert.throws(parse, (error: unknown) => {
      assert.ok(error instanceof ConfigError, variable);
      assert.equal(error.variable, variable);
      assert.match(error.message, accepted);
      return true;
    });
  }
});

test("a bad OTLP header list is reported without its values", () => {
  assert.throws(
    () => parseObservabilityConfig({ OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20s3cret,bad key=v" }),
    (error: unknown) =>
      error instanceof ConfigError && !error.message.includes("s3cret") && error.message.includes("authorization=***"),
  );
  assert.throws(
    () => parseObservabilityConfig({ OTEL_EXPORTER_OTLP_HEADERS: "authorization=%E0%A4%A" }),
    (error: unknown) => error instanceof ConfigError && !error.message.includes("%E0"),
  );
});

test("every variable has its help line", () => {
  const names = [...OBSERVABILITY_ENV_HELP, ...HEALTH_ENV_HELP, ...REFLECTION_ENV_HELP].map((help) => help.name);
  assert.deepEqual(names, [
    "METRICS_PORT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_SERVICE_NAME",
    "HEALTH_CHECK_INTERVAL_MS",
    "HEALTH_CHECK_TIMEOUT_MS",
    "HEALTH_MAX_WATCH_STREAMS",
    "REFLECTION",
  ]);
});

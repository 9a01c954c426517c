// The schema lines of the HTTP server's own settings: where it listens, and
// its limits against overload and slow or idle clients. server.ts takes its
// defaults from here, so a server started without configuration (tests,
// benchmarks) behaves as a configured one.
import { SECTIONS, defaultsOf, integer, setting } from "./config-values.js";

const limits = SECTIONS.limits;

export const SERVER_LIMIT_SETTINGS = {
  maxInFlightCalls: setting({
    name: "MAX_IN_FLIGHT_CALLS",
    section: limits,
    ...integer(1, 100_000),
    default: 512,
    help: "Calls served at once; past it a call is refused at once with RESOURCE_EXHAUSTED and RetryInfo, before it touches the idempotency store.",
  }),
  maxConnections: setting({
    name: "MAX_CONNECTIONS",
    section: limits,
    ...integer(1, 1_000_000),
    default: 1024,
    help: "Open client connections; further ones are closed as they arrive.",
  }),
  http2MaxConcurrentStreams: setting({
    name: "HTTP2_MAX_CONCURRENT_STREAMS",
    section: limits,
    ...integer(1, 10_000),
    default: 100,
    help: "Streams (calls) one HTTP/2 connection may have open at once, as advertised in SETTINGS.",
  }),
  maxHeaderBytes: setting({
    name: "MAX_HEADER_BYTES",
    section: limits,
    ...integer(1024, 1024 * 1024),
    default: 16 * 1024,
    help: "Largest request header block (HTTP/1.1 431, HTTP/2 refused stream).",
  }),
  headersTimeoutMs: setting({
    name: "HEADERS_TIMEOUT_MS",
    section: limits,
    ...integer(100, 600_000),
    default: 10_000,
    help: "A client must send its request headers (and finish the TLS handshake) within this.",
  }),
  requestTimeoutMs: setting({
    name: "REQUEST_TIMEOUT_MS",
    section: limits,
    ...integer(100, 3_600_000),
    default: 30_000,
    help: "A request body must have arrived whole within this; slower ones are cut.",
  }),
  http1KeepAliveTimeoutMs: setting({
    name: "HTTP1_KEEPALIVE_TIMEOUT_MS",
    section: limits,
    ...integer(1, 600_000),
    default: 5_000,
    help: "An idle HTTP/1.1 keep-alive connection is closed after this.",
  }),
  http2IdleTimeoutMs: setting({
    name: "HTTP2_IDLE_TIMEOUT_MS",
    section: limits,
    ...integer(1_000, 3_600_000),
    default: 120_000,
    help: "An HTTP/2 connection without any open stream is closed (GOAWAY) after this.",
  }),
};

export const SERVER_SETTINGS = {
  maxRequestBytes: setting({
    name: "MAX_REQUEST_BYTES",
    section: limits,
    ...integer(1024, 64 * 1024 * 1024),
    default: 1024 * 1024,
    help: "Largest request message; larger ones are refused with RESOURCE_EXHAUSTED.",
  }),
  shutdownGraceMs: setting({
    name: "SHUTDOWN_GRACE_MS",
    section: SECTIONS.server,
    ...integer(0, 600_000),
    default: 10_000,
    help: "On SIGTERM/SIGINT: how long in-flight calls may finish before they are cut (the exit code is then 1).",
  }),
};

export const SERVER_LIMIT_DEFAULTS = defaultsOf(SERVER_LIMIT_SETTINGS);
export const SERVER_DEFAULTS = defaultsOf(SERVER_SETTINGS);

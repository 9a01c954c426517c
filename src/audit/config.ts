// Audit trail settings from the environment. Pure: main.ts passes its env in.
import {
  SECTIONS,
  boolean,
  checkApplicability,
  helpOf,
  integer,
  oneOf,
  read,
  setting,
  text,
  type Env,
  type EnvHelp,
} from "../config-values.js";
import { rpcTable } from "../rpc/rpc-table.js";

/** The reads, from the RPC table: "GetLambdaPolicy, GetRamPermission, ...". */
const readRpcs = Object.values(rpcTable)
  .filter((row) => !row.mutation)
  .map((row) => row.method.name)
  .join(", ");

/**
 * What a mutation does when its attempt event cannot be written: "closed"
 * refuses it before AWS is called (UNAVAILABLE, AUDIT_UNAVAILABLE); "open"
 * lets it run, counts the failure and keeps the event for a retry.
 */
export const AUDIT_FAILURE_MODES = ["closed", "open"] as const;
export type AuditFailureMode = (typeof AUDIT_FAILURE_MODES)[number];

export type AuditConfig =
  | { readonly sink: "off" }
  | {
      readonly sink: "stdout" | { readonly file: string };
      readonly reads: boolean;
      readonly failureMode: AuditFailureMode;
      /** Events that could not be written, kept for a retry; the oldest is dropped past this. */
      readonly retryBufferEvents: number;
      /** How long a write may take before it counts as failed. */
      readonly writeTimeoutMs: number;
    };

const whenOn = [{ variable: "AUDIT_SINK", notIn: ["off"] }];

export const AUDIT_SETTINGS = {
  sink: setting({
    name: "AUDIT_SINK",
    section: SECTIONS.audit,
    // A path must look like one, so a misspelt "stdout" or "off" does not quietly become a file of that name.
    ...text(
      "stdout, off, or a file path containing a / (e.g. /var/log/permission-gateway/audit.jsonl or ./audit.jsonl)",
      "path",
      (value) => value === "stdout" || value === "off" || (value.includes("/") && !/[\r\n]/.test(value)),
    ),
    default: "stdout",
    help: "Where audit events go: JSON lines, an attempt before a mutation reaches AWS and an outcome after every mutation attempt, allowed or refused (appended to the file).",
  }),
  reads: setting({
    name: "AUDIT_READS",
    section: SECTIONS.audit,
    ...boolean,
    default: false,
    help: `Also write an audit event for each read (${readRpcs}); a read is never refused for its event.`,
    appliesWhen: whenOn,
  }),
  // Closed whatever AUTH_MODE says: a configured sink promises an attempt event per change (docs/security.md, Audit trail).
  failureMode: setting({
    name: "AUDIT_FAILURE_MODE",
    section: SECTIONS.audit,
    ...oneOf(AUDIT_FAILURE_MODES),
    default: "closed",
    help: "closed: a mutation whose attempt event cannot be written is refused before AWS is called (UNAVAILABLE, AUDIT_UNAVAILABLE). open: it runs, and the failure is counted and retried.",
    appliesWhen: whenOn,
  }),
  retryBufferEvents: setting({
    name: "AUDIT_RETRY_BUFFER_EVENTS",
    section: SECTIONS.audit,
    ...integer(1, 1_000_000),
    default: 10_000,
    help: "Events that could not be written (outcomes; attempts too when open), kept in memory and retried; when full, the oldest is dropped, counted and logged.",
    appliesWhen: whenOn,
  }),
  writeTimeoutMs: setting({
    name: "AUDIT_WRITE_TIMEOUT_MS",
    section: SECTIONS.audit,
    ...integer(1, 60_000),
    default: 2_000,
    help: "How long an audit write may take before it counts as failed (a hung disk or a full pipe).",
    appliesWhen: whenOn,
  }),
};

export const AUDIT_ENV_HELP: readonly EnvHelp[] = helpOf(Object.values(AUDIT_SETTINGS));

export function parseAuditConfig(env: Env): AuditConfig {
  checkApplicability(env, Object.values(AUDIT_SETTINGS));
  const sink = read(env, AUDIT_SETTINGS.sink);
  if (sink === "off") return { sink };
  const settings = {
    reads: read(env, AUDIT_SETTINGS.reads),
    failureMode: read(env, AUDIT_SETTINGS.failureMode),
    retryBufferEvents: read(env, AUDIT_SETTINGS.retryBufferEvents),
    writeTimeoutMs: read(env, AUDIT_SETTINGS.writeTimeoutMs),
  };
  return sink === "stdout" ? { sink, ...settings } : { sink: { file: sink }, ...settings };
}

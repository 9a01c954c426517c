// Audit trail settings from the environment. Pure: main.ts passes its env in.
import {
  SECTIONS,
  boolean,
  checkApplicability,
  helpOf,
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

export type AuditConfig =
  { readonly sink: "off" } | { readonly sink: "stdout" | { readonly file: string }; readonly reads: boolean };

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
    help: "Where audit events go: one JSON line per mutation attempt, allowed or refused (appended to the file).",
  }),
  reads: setting({
    name: "AUDIT_READS",
    section: SECTIONS.audit,
    ...boolean,
    default: false,
    help: `Also write an audit event for each read (${readRpcs}).`,
    appliesWhen: [{ variable: "AUDIT_SINK", notIn: ["off"] }],
  }),
};

export const AUDIT_ENV_HELP: readonly EnvHelp[] = helpOf(Object.values(AUDIT_SETTINGS));

export function parseAuditConfig(env: Env): AuditConfig {
  checkApplicability(env, Object.values(AUDIT_SETTINGS));
  const sink = read(env, AUDIT_SETTINGS.sink);
  if (sink === "off") return { sink };
  const reads = read(env, AUDIT_SETTINGS.reads);
  return sink === "stdout" ? { sink, reads } : { sink: { file: sink }, reads };
}

// Audit trail settings from the environment. Pure: main.ts passes its env in.
import type { EnvHelp } from "../config-values.js";
import { ConfigError, readBoolean, readString, type Env } from "../config-values.js";
import { rpcTable } from "../rpc/rpc-table.js";

/** The reads, from the RPC table: "GetLambdaPolicy, GetRamPermission, ...". */
const readRpcs = Object.values(rpcTable)
  .filter((row) => !row.mutation)
  .map((row) => row.method.name)
  .join(", ");

export type AuditConfig =
  | {
      readonly sink: "off";
      /** Audit variables that were set but mean nothing with AUDIT_SINK=off. */
      readonly ignoredVariables: readonly string[];
    }
  | { readonly sink: "stdout" | { readonly file: string }; readonly reads: boolean };

export const AUDIT_ENV_HELP: readonly EnvHelp[] = [
  {
    name: "AUDIT_SINK",
    accepted: "stdout | off | a file path with a / (e.g. /var/log/permission-gateway/audit.jsonl or ./audit.jsonl)",
    default: "stdout",
    description:
      "Where audit events go: one JSON line per mutation attempt, allowed or refused (appended to the file).",
  },
  {
    name: "AUDIT_READS",
    accepted: "true | false",
    default: "false",
    description: `Also write an audit event for each read (${readRpcs}).`,
  },
];

export function parseAuditConfig(env: Env): AuditConfig {
  const value = readString(env, "AUDIT_SINK") ?? "stdout";
  const readsSet = readString(env, "AUDIT_READS") !== undefined;
  const reads = readBoolean(env, "AUDIT_READS", false);
  if (value === "off") return { sink: "off", ignoredVariables: readsSet ? ["AUDIT_READS"] : [] };
  if (value === "stdout") return { sink: "stdout", reads };
  // A path must look like one, so a misspelt "stdout" or "off" does not quietly become a file of that name.
  if (!value.includes("/") || /[\r\n]/.test(value)) {
    throw new ConfigError("AUDIT_SINK", "stdout, off, or a file path containing a / (e.g. ./audit.jsonl)", value);
  }
  return { sink: { file: value }, reads };
}

// A RAM permission ARN as the gateway hands it to a backend: parsed by
// src/aws/arn.ts, so the tests and the gateway agree on what an ARN means.
import { parseRamPermissionArn } from "../../src/aws/arn.js";
import type { RamPermissionRef } from "../../src/backend/backend.js";

export function permissionRef(arn: string): RamPermissionRef {
  const parsed = parseRamPermissionArn(arn);
  if (parsed === undefined) throw new Error(`not a RAM permission ARN: ${arn}`);
  return parsed;
}

// Seed files for the fake backend (docs/fake-seed.md), written at bench time.
// Both are the demo seed plus what the scenarios call, so the same calls
// succeed on each; the large one adds 100,000 functions and 10,000 RAM
// customer managed permissions, and puts the function it reads last.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { demoSeed } from "../src/backend/fake/demo-seed.js";
import type { FakeSeed, FakeSeedFunction, FakeSeedRamPermission, FakeSeedStatement } from "../src/backend/fake/seed.js";

/** Lambda's limit on a function policy document. */
export const policyLimitBytes = 20480;
export const nearLimitFunction = "bench-near-limit";
/** Read by GetLambdaPolicy; the last function of the large seed. */
export const deepFunction = "bench-deep";
export const smallRamPermissions = 250;
export const largeFunctions = 100_000;
export const largeRamPermissions = 10_000;

const account = "123456789012";
const region = "us-east-1";
export const benchSourceArn = "arn:aws:s3:::bench-bucket";

/** The statement a scenario adds and removes again (and the seed's filler statements). */
export function benchStatement(statementId: string): FakeSeedStatement {
  return { statementId, action: "lambda:InvokeFunction", principal: "s3.amazonaws.com", sourceArn: benchSourceArn };
}

/** The statement's bytes in the policy, rendered as Lambda (and the fake) writes it. */
export function renderedStatementBytes(functionName: string, statementId: string): number {
  return Buffer.byteLength(
    JSON.stringify({
      Sid: statementId,
      Effect: "Allow",
      Principal: { Service: "s3.amazonaws.com" },
      Action: "lambda:InvokeFunction",
      Resource: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
      Condition: { ArnLike: { "AWS:SourceArn": benchSourceArn } },
    }),
  );
}

const documentOverheadBytes = Buffer.byteLength('{"Version":"2012-10-17","Id":"default","Statement":[]}');

/**
 * A policy filled to just below the limit, leaving room for `inFlight`
 * statements of up to `addedIdLength` characters added at once.
 */
export function nearLimitStatements(inFlight: number, addedIdLength: number): FakeSeedStatement[] {
  const room = inFlight * (renderedStatementBytes(nearLimitFunction, "x".repeat(addedIdLength)) + 1) + 16;
  const statements: FakeSeedStatement[] = [];
  let size = documentOverheadBytes;
  for (let i = 1; ; i++) {
    const id = `seed-${String(i).padStart(4, "0")}`;
    const next = size + renderedStatementBytes(nearLimitFunction, id) + (statements.length > 0 ? 1 : 0);
    if (next > policyLimitBytes - room) return statements;
    statements.push(benchStatement(id));
    size = next;
  }
}

function ramPermission(index: number): FakeSeedRamPermission {
  return {
    name: `bench-permission-${String(index).padStart(5, "0")}`,
    account,
    region,
    resourceType: "ec2:Subnet",
    policyTemplate: { Effect: "Allow", Action: ["ec2:DescribeSubnets"] },
    creationTime: "2024-01-01T00:00:00Z",
  };
}

export interface SeedShape {
  readonly functions: number;
  readonly ramPermissions: number;
  /** Room kept in the near-limit policy. */
  readonly inFlightStatements: number;
  readonly addedIdLength: number;
}

export function buildSeed(shape: SeedShape): FakeSeed {
  const filler: FakeSeedFunction[] = Array.from({ length: shape.functions }, (_, i) => ({
    name: `bench-fn-${String(i).padStart(6, "0")}`,
    account,
    region,
  }));
  const functions: FakeSeedFunction[] = [
    ...(demoSeed.lambda?.functions ?? []),
    {
      name: nearLimitFunction,
      account,
      region,
      statements: nearLimitStatements(shape.inFlightStatements, shape.addedIdLength),
    },
    ...filler,
    { name: deepFunction, account, region, statements: [benchStatement("deep-read")] },
  ];
  const permissions = [
    ...(demoSeed.ram?.permissions ?? []),
    ...Array.from({ length: shape.ramPermissions }, (_, i) => ramPermission(i + 1)),
  ];
  return { lambda: { functions }, ram: { permissions } };
}

export async function writeSeed(dir: string, name: string, seed: FakeSeed): Promise<string> {
  const path = join(dir, `${name}.json`);
  await writeFile(path, JSON.stringify(seed));
  return path;
}

// In-memory model of RAM managed permissions, after the RAM API reference
// (CreatePermission, DeletePermission, GetPermission, ListPermissions):
// customer managed permissions of an account and Region, AWS managed ones of
// no account, their versions and default version, the resource shares they
// are attached to, and clientToken idempotency as RAM does it.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../../clock.js";
import type {
  CreateRamPermissionInput,
  CreateRamPermissionOutput,
  DeleteRamPermissionInput,
  DeleteRamPermissionOutput,
  GetRamPermissionInput,
  ListRamPermissionsInput,
  ListRamPermissionsOutput,
  RamPermission,
  RamPermissionRef,
  RamPermissionType,
} from "../backend.js";
import { parseRamPermissionArn, ramPermissionArn } from "../../aws/arn.js";
import { brokenConstraint, ramFieldRules } from "../../aws/field-rules.js";
import { actionOfAnotherService } from "../../aws/ram-policy-template.js";
import { createAwsError } from "./aws-errors.js";
import { createClientTokenCache } from "./client-tokens.js";
import { FakeSeedError, policyTemplateActions, policyTemplateProblem, seedPatterns } from "./seed.js";
import type { FakeSeedRamPermission } from "./seed.js";

export interface RamModelOptions {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly clock: Clock;
  /** Customer managed permissions allowed per account and Region. */
  readonly permissionLimit: number;
  readonly clientTokenTtlMs: number;
  readonly maxClientTokens: number;
  /**
   * What DeletePermission reports. RAM deletes asynchronously and may answer
   * DELETING; the fake removes the permission at once either way.
   */
  readonly deletionStatus: "DELETED" | "DELETING";
}

export interface RamModel {
  deletePermission(input: DeleteRamPermissionInput): DeleteRamPermissionOutput;
  createPermission(input: CreateRamPermissionInput): CreateRamPermissionOutput;
  getPermission(input: GetRamPermissionInput): RamPermission;
  listPermissions(input: ListRamPermissionsInput): ListRamPermissionsOutput;
}

interface PermissionVersion {
  readonly version: number;
  readonly policyTemplate: string;
  readonly creationTime: number;
  readonly lastUpdatedTime: number;
}

interface ManagedPermission {
  /** Creation order: the stable order of ListPermissions and its page tokens. */
  readonly seq: number;
  readonly arn: string;
  readonly name: string;
  /** Key of the name's uniqueness scope (partition, Region, account). */
  readonly scope: string;
  readonly permissionType: RamPermissionType;
  readonly resourceType: string;
  readonly versions: Map<number, PermissionVersion>;
  readonly defaultVersion: number;
  readonly attachedTo: ReadonlySet<string>;
  readonly tags: Readonly<Record<string, string>>;
}

/** Canonical spelling of resource types; RAM treats them case-insensitively. */
const knownResourceTypes = [
  "ec2:Subnet",
  "ec2:TransitGateway",
  "ec2:PrefixList",
  "ec2:CapacityReservation",
  "ec2:DedicatedHost",
  "ec2:PlacementGroup",
  "ec2:IpamPool",
  "ec2:TrafficMirrorTarget",
  "ec2:LocalGatewayRouteTable",
  "ec2:CoipPool",
  "route53resolver:ResolverRule",
  "route53resolver:ResolverQueryLogConfig",
  "route53resolver:FirewallRuleGroup",
  "license-manager:LicenseConfiguration",
  "glue:Catalog",
  "glue:Database",
  "glue:Table",
  "rds:Cluster",
  "resource-groups:Group",
  "codebuild:Project",
  "codebuild:ReportGroup",
  "imagebuilder:Component",
  "imagebuilder:Image",
  "imagebuilder:ImageRecipe",
  "imagebuilder:ContainerRecipe",
  "network-firewall:FirewallPolicy",
  "network-firewall:StatefulRuleGroup",
  "network-firewall:StatelessRuleGroup",
  "outposts:Outpost",
  "outposts:Site",
  "ssm-contacts:Contact",
  "ssm-incidents:ResponsePlan",
];

const clientTokenPattern = /^[\x21-\x7e]{1,64}$/;

export function createRamModel(seedPermissions: readonly FakeSeedRamPermission[], options: RamModelOptions): RamModel {
  const { clock } = options;
  const byArn = new Map<string, ManagedPermission>();
  const arnByScopedName = new Map<string, string>();
  const customerManagedCount = new Map<string, number>();
  const resourceTypes = new Map(knownResourceTypes.map((type) => [type.toLowerCase(), type]));
  const pageTokenKey = randomBytes(32);
  const clientTokens = createClientTokenCache<DeleteRamPermissionOutput | CreateRamPermissionOutput>({
    clock,
    ttlMs: options.clientTokenTtlMs,
    maxEntries: options.maxClientTokens,
  });
  let nextSeq = 1;

  const callerScope = scopeKey(options.partition, options.region, options.account);
  const awsManagedScope = scopeKey(options.partition, "", "aws");

  // Each scope's permissions in creation (seq) order, so a page starts by a
  // binary search and costs O(log n + page), not a walk from the first.
  const inScope = new Map<string, ManagedPermission[]>();
  const insert = (permission: ManagedPermission): void => {
    byArn.set(permission.arn, permission);
    let ordered = inScope.get(permission.scope);
    if (ordered === undefined) inScope.set(permission.scope, (ordered = []));
    ordered.splice(firstAfter(ordered, permission.seq - 1), 0, permission);
    arnByScopedName.set(`${permission.scope}/${permission.name}`, permission.arn);
    if (permission.permissionType === "CUSTOMER_MANAGED") {
      customerManagedCount.set(permission.scope, (customerManagedCount.get(permission.scope) ?? 0) + 1);
    }
  };

  const remove = (permission: ManagedPermission): void => {
    byArn.delete(permission.arn);
    const ordered = inScope.get(permission.scope);
    if (ordered !== undefined) {
      const at = firstAfter(ordered, permission.seq - 1);
      if (ordered[at] === permission) ordered.splice(at, 1);
    }
    arnByScopedName.delete(`${permission.scope}/${permission.name}`);
    if (permission.permissionType === "CUSTOMER_MANAGED") {
      customerManagedCount.set(permission.scope, (customerManagedCount.get(permission.scope) ?? 1) - 1);
    }
  };

  const find = (ref: RamPermissionRef): ManagedPermission => {
    if (parseRamPermissionArn(ref.arn) === undefined) {
      throw createAwsError("ram", "MalformedArnException", {
        message: `The ARN ${ref.arn} is not a valid permission ARN.`,
      });
    }
    const permission = byArn.get(ref.arn);
    if (permission === undefined) {
      throw createAwsError("ram", "UnknownResourceException", {
        message: `The permission ${ref.arn} does not exist.`,
        missing: "permission",
      });
    }
    return permission;
  };

  /** Replays or refuses a reused client token; undefined means "go ahead". */
  const replayClientToken = <T extends DeleteRamPermissionOutput | CreateRamPermissionOutput>(
    key: string,
    fingerprint: string,
  ): T | undefined => {
    const record = clientTokens.get(key);
    if (record === undefined) return undefined;
    if (record.fingerprint !== fingerprint) throw createAwsError("ram", "IdempotentParameterMismatchException");
    return record.result as T;
  };

  const checkClientToken = (token: string): void => {
    if (!clientTokenPattern.test(token)) {
      throw createAwsError("ram", "InvalidClientTokenException", {
        message: "The client token must be 1 to 64 printable ASCII characters.",
      });
    }
  };

  const signPage = (payload: string): string =>
    createHmac("sha256", pageTokenKey).update(payload).digest("base64url").slice(0, 22);

  const encodePageToken = (afterSeq: number, filters: PageFilters): string => {
    const payload = Buffer.from(
      JSON.stringify({ a: afterSeq, r: filters.resourceType, t: filters.permissionType }),
    ).toString("base64url");
    return `${payload}.${signPage(payload)}`;
  };

  const decodePageToken = (token: string, filters: PageFilters): number => {
    const invalid = () =>
      createAwsError("ram", "InvalidNextTokenException", { message: "The specified value for NextToken isn't valid." });
    const [payload, signature, extra] = token.split(".");
    if (payload === undefined || signature === undefined || extra !== undefined) throw invalid();
    const expected = Buffer.from(signPage(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid();
    const decoded = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
      a: number;
      r: string | null;
      t: string | null;
    };
    if (typeof decoded.a !== "number") throw invalid();
    // A token belongs to the query that produced it; RAM refuses it for another.
    if (decoded.r !== filters.resourceType || decoded.t !== filters.permissionType) throw invalid();
    return decoded.a;
  };

  const canonicalResourceType = (resourceType: string): string =>
    resourceTypes.get(resourceType.toLowerCase()) ?? resourceType;

  seedPermissions.forEach((seed, index) => {
    const path = `$.ram.permissions[${index}]`;
    const awsManaged = seed.permissionType === "AWS_MANAGED";
    const partition = seed.partition ?? options.partition;
    const region = awsManaged ? "" : (seed.region ?? options.region);
    const account = awsManaged ? "aws" : (seed.account ?? options.account);
    const arn = permissionArn(partition, region, account, seed.name);
    if (byArn.has(arn)) throw new FakeSeedError(path, `duplicate permission ${arn}`);
    const created = seed.creationTime === undefined ? clock.now() : Date.parse(seed.creationTime);
    const versions =
      seed.versions ?? (seed.policyTemplate === undefined ? [] : [{ version: 1, policyTemplate: seed.policyTemplate }]);
    const resourceType = seed.resourceType;
    if (!resourceTypes.has(resourceType.toLowerCase())) resourceTypes.set(resourceType.toLowerCase(), resourceType);
    insert({
      seq: nextSeq++,
      arn,
      name: seed.name,
      scope: scopeKey(partition, region, account),
      permissionType: awsManaged ? "AWS_MANAGED" : "CUSTOMER_MANAGED",
      resourceType,
      versions: new Map(
        versions.map((v) => {
          const time = v.creationTime === undefined ? created : Date.parse(v.creationTime);
          const policyTemplate =
            typeof v.policyTemplate === "string" ? v.policyTemplate : JSON.stringify(v.policyTemplate);
          return [v.version, { version: v.version, policyTemplate, creationTime: time, lastUpdatedTime: time }];
        }),
      ),
      defaultVersion: seed.defaultVersion ?? Math.max(...versions.map((v) => v.version)),
      attachedTo: new Set(seed.attachedTo ?? []),
      tags: { ...seed.tags },
    });
  });

  return {
    deletePermission(input) {
      checkClientToken(input.clientToken);
      const tokenKey = `DeletePermission/${callerScope}/${input.clientToken}`;
      const fingerprint = JSON.stringify([input.permission.arn]);
      const replay = replayClientToken<DeleteRamPermissionOutput>(tokenKey, fingerprint);
      if (replay !== undefined) return { ...replay };
      const permission = find(input.permission);
      if (permission.permissionType === "AWS_MANAGED") {
        throw createAwsError("ram", "OperationNotPermittedException", {
          message: `You can't delete the AWS managed permission ${permission.arn}. Only customer managed permissions can be deleted.`,
        });
      }
      if (permission.attachedTo.size > 0) {
        throw createAwsError("ram", "OperationNotPermittedException", {
          message: `The permission ${permission.arn} is attached to ${permission.attachedTo.size} resource share(s). Disassociate it from every resource share before you delete it.`,
        });
      }
      remove(permission);
      const output: DeleteRamPermissionOutput = {
        returnValue: true,
        clientToken: input.clientToken,
        permissionStatus: options.deletionStatus,
      };
      clientTokens.remember(tokenKey, { fingerprint, result: output });
      return { ...output };
    },

    createPermission(input) {
      checkClientToken(input.clientToken);
      if (brokenConstraint(input.name, ramFieldRules.permissionName) !== undefined) {
        throw createAwsError("ram", "InvalidParameterException", {
          message: `The name ${JSON.stringify(input.name)} is not valid. It must be 1 to 36 characters of letters, digits, underscores, periods and hyphens.`,
        });
      }
      if (!seedPatterns.resourceType.test(input.resourceType)) {
        throw createAwsError("ram", "InvalidParameterException", {
          message: `The resource type ${JSON.stringify(input.resourceType)} is not valid. Specify it as <service-code>:<resource-type>, for example ec2:Subnet.`,
        });
      }
      const tokenKey = `CreatePermission/${callerScope}/${input.clientToken}`;
      const fingerprint = JSON.stringify([
        input.name,
        input.resourceType,
        input.policyTemplate,
        Object.entries(input.tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      ]);
      const replay = replayClientToken<CreateRamPermissionOutput>(tokenKey, fingerprint);
      if (replay !== undefined)
        return { permission: copyPermission(replay.permission), clientToken: replay.clientToken };
      const problem = policyTemplateProblem(input.policyTemplate);
      if (problem !== undefined)
        throw createAwsError("ram", "MalformedPolicyTemplateException", {
          message: `The policy template isn't valid: ${problem}.`,
        });
      const foreign = actionOfAnotherService(input.resourceType, policyTemplateActions(input.policyTemplate));
      if (foreign !== undefined)
        throw createAwsError("ram", "MalformedPolicyTemplateException", {
          message: `The policy template isn't valid: the action ${JSON.stringify(foreign)} is not one that the resource type ${input.resourceType} supports.`,
        });
      if (arnByScopedName.has(`${callerScope}/${input.name}`)) {
        throw createAwsError("ram", "PermissionAlreadyExistsException", {
          message: `A permission with the name ${input.name} already exists in ${options.region}.`,
        });
      }
      if ((customerManagedCount.get(callerScope) ?? 0) >= options.permissionLimit) {
        throw createAwsError("ram", "PermissionLimitExceededException", {
          message: `The account ${options.account} already has the maximum of ${options.permissionLimit} customer managed permissions in ${options.region}.`,
        });
      }
      const now = clock.now();
      const permission: ManagedPermission = {
        seq: nextSeq++,
        arn: permissionArn(options.partition, options.region, options.account, input.name),
        name: input.name,
        scope: callerScope,
        permissionType: "CUSTOMER_MANAGED",
        resourceType: canonicalResourceType(input.resourceType),
        versions: new Map([
          [1, { version: 1, policyTemplate: input.policyTemplate, creationTime: now, lastUpdatedTime: now }],
        ]),
        defaultVersion: 1,
        attachedTo: new Set(),
        tags: { ...input.tags },
      };
      insert(permission);
      const output: CreateRamPermissionOutput = {
        permission: toRamPermission(permission, 1),
        clientToken: input.clientToken,
      };
      clientTokens.remember(tokenKey, { fingerprint, result: output });
      return { permission: copyPermission(output.permission), clientToken: output.clientToken };
    },

    getPermission(input) {
      const permission = find(input.permission);
      const version = input.permissionVersion ?? permission.defaultVersion;
      if (!Number.isInteger(version) || version < 1) {
        throw createAwsError("ram", "InvalidParameterException", {
          message: `The permission version ${version} is not valid.`,
        });
      }
      if (!permission.versions.has(version)) {
        throw createAwsError("ram", "UnknownResourceException", {
          message: `Version ${version} of the permission ${permission.arn} does not exist.`,
          missing: "permission-version",
        });
      }
      return toRamPermission(permission, version);
    },

    listPermissions(input) {
      if (!Number.isInteger(input.maxResults) || input.maxResults < 1 || input.maxResults > 500) {
        throw createAwsError("ram", "InvalidParameterException", {
          message: `The value ${input.maxResults} for maxResults is not valid. It must be from 1 to 500.`,
        });
      }
      const filters: PageFilters = {
        resourceType:
          input.resourceType === undefined || input.resourceType === "" ? null : input.resourceType.toLowerCase(),
        permissionType: input.permissionType ?? null,
      };
      const afterSeq =
        input.nextToken === undefined || input.nextToken === "" ? 0 : decodePageToken(input.nextToken, filters);
      const page: RamPermission[] = [];
      let last: ManagedPermission | undefined;
      // The caller sees AWS managed permissions and its own account's in its Region, in creation order.
      for (const permission of mergedBySeq(
        inScope.get(callerScope) ?? [],
        inScope.get(awsManagedScope) ?? [],
        afterSeq,
      )) {
        if (filters.permissionType !== null && permission.permissionType !== filters.permissionType) continue;
        if (filters.resourceType !== null && permission.resourceType.toLowerCase() !== filters.resourceType) continue;
        if (page.length === input.maxResults) {
          return { permissions: page, nextToken: encodePageToken(last?.seq ?? afterSeq, filters) };
        }
        // RAM lists summaries: no policy template (GetPermission has it).
        page.push({ ...toRamPermission(permission, permission.defaultVersion), policyTemplate: "" });
        last = permission;
      }
      return { permissions: page };
    },
  };
}

interface PageFilters {
  readonly resourceType: string | null;
  readonly permissionType: RamPermissionType | null;
}

function scopeKey(partition: string, region: string, account: string): string {
  return `${partition}/${region}/${account}`;
}

function permissionArn(partition: string, region: string, account: string, name: string): string {
  return ramPermissionArn({ partition, region, account, name });
}

function toRamPermission(permission: ManagedPermission, version: number): RamPermission {
  const v = permission.versions.get(version);
  if (v === undefined) throw new Error(`version ${version} of ${permission.arn} is missing`);
  return {
    arn: permission.arn,
    name: permission.name,
    version,
    defaultVersion: version === permission.defaultVersion,
    resourceType: permission.resourceType,
    status: "ATTACHABLE",
    permissionType: permission.permissionType,
    policyTemplate: v.policyTemplate,
    creationTime: new Date(v.creationTime),
    lastUpdatedTime: new Date(v.lastUpdatedTime),
    ...(Object.keys(permission.tags).length === 0 ? {} : { tags: { ...permission.tags } }),
  };
}

/** Callers get their own Dates, so nothing they do reaches the model. */
function copyPermission(permission: RamPermission): RamPermission {
  return {
    ...permission,
    creationTime: new Date(permission.creationTime),
    lastUpdatedTime: new Date(permission.lastUpdatedTime),
    ...(permission.tags === undefined ? {} : { tags: { ...permission.tags } }),
  };
}

/** The index of the first permission with a seq above `seq` in a list ordered by seq. */
function firstAfter(ordered: readonly ManagedPermission[], seq: number): number {
  let low = 0;
  let high = ordered.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((ordered[middle]?.seq ?? 0) <= seq) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The permissions of two seq-ordered lists with a seq above `afterSeq`, merged in seq order. */
function* mergedBySeq(
  a: readonly ManagedPermission[],
  b: readonly ManagedPermission[],
  afterSeq: number,
): Generator<ManagedPermission> {
  let i = firstAfter(a, afterSeq);
  let j = firstAfter(b, afterSeq);
  for (;;) {
    const x = a[i];
    const y = b[j];
    if (x === undefined && y === undefined) return;
    if (y === undefined || (x !== undefined && x.seq < y.seq)) {
      i += 1;
      yield x as ManagedPermission;
    } else {
      j += 1;
      yield y;
    }
  }
}

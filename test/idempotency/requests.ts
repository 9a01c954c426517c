// The four mutating requests, each fully populated, and a generator of
// variants that change exactly one field (any field but the token), driven
// by the schema so a field added to the proto is covered without edits here.
import { clone, create } from "@bufbuild/protobuf";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import {
  AddLambdaPermissionRequestSchema,
  AddLambdaPermissionResponseSchema,
  CreateRamPermissionRequestSchema,
  CreateRamPermissionResponseSchema,
  DeleteRamPermissionRequestSchema,
  DeleteRamPermissionResponseSchema,
  FunctionUrlAuthType,
  PermissionService,
  RemoveLambdaPermissionRequestSchema,
  RemoveLambdaPermissionResponseSchema,
} from "../../gen/permission/v1/permission_pb.js";

export interface MutatingRequest<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> {
  readonly name: string;
  readonly method: (typeof PermissionService.methods)[number];
  readonly schema: I;
  readonly responseSchema: O;
  readonly tokenField: string;
  readonly base: MessageShape<I>;
  readonly response: MessageShape<O>;
}

function entry<I extends DescMessage, O extends DescMessage>(request: MutatingRequest<I, O>): MutatingRequest {
  return request;
}

const rpc = (name: string) => {
  const method = PermissionService.methods.find((m) => m.name === name);
  if (method === undefined) throw new Error(`no method ${name}`);
  return method;
};

export const mutatingRequests: readonly MutatingRequest[] = [
  entry({
    name: "RemoveLambdaPermission",
    method: rpc("RemoveLambdaPermission"),
    schema: RemoveLambdaPermissionRequestSchema,
    responseSchema: RemoveLambdaPermissionResponseSchema,
    tokenField: "idempotencyKey",
    base: create(RemoveLambdaPermissionRequestSchema, {
      functionName: "demo",
      statementId: "s3-invoke",
      qualifier: "live",
      revisionId: "rev-1",
      idempotencyKey: "key-1",
      allowMissing: false,
    }),
    response: create(RemoveLambdaPermissionResponseSchema, {}),
  }),
  entry({
    name: "AddLambdaPermission",
    method: rpc("AddLambdaPermission"),
    schema: AddLambdaPermissionRequestSchema,
    responseSchema: AddLambdaPermissionResponseSchema,
    tokenField: "idempotencyKey",
    base: create(AddLambdaPermissionRequestSchema, {
      functionName: "demo",
      statementId: "s3-invoke",
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
      sourceArn: "arn:aws:s3:::bucket",
      sourceAccount: "123456789012",
      eventSourceToken: "est",
      qualifier: "live",
      revisionId: "rev-1",
      principalOrgId: "o-abcdefghij",
      functionUrlAuthType: FunctionUrlAuthType.AWS_IAM,
      idempotencyKey: "key-1",
    }),
    response: create(AddLambdaPermissionResponseSchema, { statement: '{"Sid":"s3-invoke"}' }),
  }),
  entry({
    name: "DeleteRamPermission",
    method: rpc("DeleteRamPermission"),
    schema: DeleteRamPermissionRequestSchema,
    responseSchema: DeleteRamPermissionResponseSchema,
    tokenField: "clientToken",
    base: create(DeleteRamPermissionRequestSchema, {
      permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/demo-permission",
      clientToken: "token-1",
    }),
    response: create(DeleteRamPermissionResponseSchema, {
      returnValue: true,
      clientToken: "token-1",
      permissionStatus: 3,
    }),
  }),
  entry({
    name: "CreateRamPermission",
    method: rpc("CreateRamPermission"),
    schema: CreateRamPermissionRequestSchema,
    responseSchema: CreateRamPermissionResponseSchema,
    tokenField: "clientToken",
    base: create(CreateRamPermissionRequestSchema, {
      name: "subnet-read",
      resourceType: "ec2:Subnet",
      policyTemplate: '{"Effect":"Allow","Action":["ec2:DescribeSubnets"]}',
      clientToken: "token-1",
      tags: { team: "platform", env: "prod" },
    }),
    response: create(CreateRamPermissionResponseSchema, {
      permission: { arn: "arn:aws:ram:us-east-1:123456789012:permission/subnet-read", name: "subnet-read", version: 1 },
      clientToken: "token-1",
    }),
  }),
];

export interface Variant<I extends DescMessage> {
  readonly field: string;
  readonly message: MessageShape<I>;
}

/** One variant per field but the token, each differing from `base` in that field only. */
export function variantsChangingOneField<I extends DescMessage>(
  schema: I,
  base: MessageShape<I>,
  tokenField: string,
): Variant<I>[] {
  const variants: Variant<I>[] = [];
  for (const field of schema.fields) {
    if (field.localName === tokenField) continue;
    const message = clone(schema, base);
    const r = reflect(schema, message);
    switch (field.fieldKind) {
      case "scalar": {
        const value = r.get(field);
        if (typeof value === "string") r.set(field, `${value}x`);
        else if (typeof value === "boolean") r.set(field, !value);
        else if (typeof value === "number") r.set(field, value + 1);
        else throw new Error(`no variant for ${field.name}`);
        break;
      }
      case "enum": {
        const current = r.get(field);
        const other = field.enum.values.find((v) => v.number !== current && v.number !== 0);
        if (other === undefined) throw new Error(`no variant for ${field.name}`);
        r.set(field, other.number);
        break;
      }
      case "map": {
        r.get(field).set("added", "1");
        break;
      }
      default:
        throw new Error(`no variant for ${field.name} (${field.fieldKind})`);
    }
    variants.push({ field: field.name, message });
  }
  return variants;
}

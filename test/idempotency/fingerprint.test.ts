import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, fromBinary, fromJson } from "@bufbuild/protobuf";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { requestFingerprint } from "../../src/idempotency/fingerprint.js";
import {
  AddLambdaPermissionRequestSchema,
  CreateRamPermissionRequestSchema,
  DeleteRamPermissionRequestSchema,
  FunctionUrlAuthType,
  RemoveLambdaPermissionRequestSchema,
} from "../../gen/permission/v1/permission_pb.js";
import { mutatingRequests, variantsChangingOneField } from "./requests.js";

const fp = <I extends DescMessage>(schema: I, message: MessageShape<I>, tokenField: string): string =>
  requestFingerprint(schema, message, tokenField);

describe("request fingerprint", () => {
  test("is a SHA-256 hex digest", () => {
    const request = create(DeleteRamPermissionRequestSchema, {
      permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/x",
    });
    assert.match(fp(DeleteRamPermissionRequestSchema, request, "clientToken"), /^[0-9a-f]{64}$/);
  });

  test("leaves the token out", () => {
    const base = { permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/x" };
    const a = create(DeleteRamPermissionRequestSchema, { ...base, clientToken: "token-a" });
    const b = create(DeleteRamPermissionRequestSchema, { ...base, clientToken: "token-b" });
    const none = create(DeleteRamPermissionRequestSchema, base);
    const fpa = fp(DeleteRamPermissionRequestSchema, a, "clientToken");
    assert.equal(fp(DeleteRamPermissionRequestSchema, b, "clientToken"), fpa);
    assert.equal(fp(DeleteRamPermissionRequestSchema, none, "clientToken"), fpa);
    assert.equal(a.clientToken, "token-a", "the caller's request is not modified");
  });

  test("an unknown token field is a programming error, not a silent fold into the hash", () => {
    const request = create(DeleteRamPermissionRequestSchema, {});
    assert.throws(() => fp(DeleteRamPermissionRequestSchema, request, "idempotencyKey"), /has no field idempotencyKey/);
  });

  test("omitted and default are the same request (JSON, implicit and explicit presence)", () => {
    const omitted = fromJson(RemoveLambdaPermissionRequestSchema, { functionName: "demo", statementId: "s1" });
    const defaults = fromJson(RemoveLambdaPermissionRequestSchema, {
      functionName: "demo",
      statementId: "s1",
      allowMissing: false,
      qualifier: "",
      revisionId: "",
    });
    assert.equal(defaults.qualifier, "", "explicit presence keeps the empty string");
    assert.equal(
      fp(RemoveLambdaPermissionRequestSchema, defaults, "idempotencyKey"),
      fp(RemoveLambdaPermissionRequestSchema, omitted, "idempotencyKey"),
    );
    const addOmitted = create(AddLambdaPermissionRequestSchema, {
      functionName: "demo",
      statementId: "s",
      action: "a",
      principal: "p",
    });
    const addDefaults = create(AddLambdaPermissionRequestSchema, {
      ...addOmitted,
      functionUrlAuthType: FunctionUrlAuthType.UNSPECIFIED,
      sourceArn: "",
    });
    assert.equal(
      fp(AddLambdaPermissionRequestSchema, addDefaults, "idempotencyKey"),
      fp(AddLambdaPermissionRequestSchema, addOmitted, "idempotencyKey"),
    );
  });

  test("wire field order and explicitly encoded zero values do not change it", () => {
    const canonical = create(RemoveLambdaPermissionRequestSchema, {
      functionName: "demo",
      statementId: "s1",
      qualifier: "live",
    });
    // Fields written in reverse order, with allow_missing = false on the wire.
    const writer = new BinaryWriter();
    writer.tag(6, WireType.Varint).bool(false);
    writer.tag(3, WireType.LengthDelimited).string("live");
    writer.tag(2, WireType.LengthDelimited).string("s1");
    writer.tag(1, WireType.LengthDelimited).string("demo");
    const shuffled = fromBinary(RemoveLambdaPermissionRequestSchema, writer.finish());
    assert.equal(
      fp(RemoveLambdaPermissionRequestSchema, shuffled, "idempotencyKey"),
      fp(RemoveLambdaPermissionRequestSchema, canonical, "idempotencyKey"),
    );
  });

  test("map insertion order does not change it", () => {
    const base = { name: "p", resourceType: "ec2:Subnet", policyTemplate: "{}" };
    const ab = create(CreateRamPermissionRequestSchema, { ...base, tags: { a: "1", b: "2" } });
    const ba = create(CreateRamPermissionRequestSchema, { ...base, tags: { b: "2", a: "1" } });
    assert.equal(
      fp(CreateRamPermissionRequestSchema, ab, "clientToken"),
      fp(CreateRamPermissionRequestSchema, ba, "clientToken"),
    );
  });

  for (const request of mutatingRequests) {
    test(`${request.name}: changing any one field changes it`, () => {
      const base = fp(request.schema, request.base, request.tokenField);
      const variants = variantsChangingOneField(request.schema, request.base, request.tokenField);
      assert.ok(variants.length >= 1);
      const seen = new Set([base]);
      for (const variant of variants) {
        const changed = fp(request.schema, variant.message, request.tokenField);
        assert.ok(!seen.has(changed), `${variant.field} did not change the fingerprint`);
        seen.add(changed);
      }
    });
  }
});

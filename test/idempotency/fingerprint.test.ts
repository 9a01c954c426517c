import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { clone, create, fromBinary, fromJson } from "@bufbuild/protobuf";
import type { DescField, DescMessage, MessageShape } from "@bufbuild/protobuf";
import { reflect, scalarZeroValue } from "@bufbuild/protobuf/reflect";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import {
  FINGERPRINT_VERSION,
  fingerprintVersionOf,
  requestFingerprint,
  requestFingerprintOf,
} from "../../src/idempotency/fingerprint.js";
import {
  AddLambdaPermissionRequestSchema,
  CreateRamPermissionRequestSchema,
  DeleteRamPermissionRequestSchema,
  FunctionUrlAuthType,
  RemoveLambdaPermissionRequestSchema,
} from "../../gen/permission/v1/permission_pb.js";
import { mutatingRequests, variantsChangingOneField } from "./requests.js";

const EXPLICIT = FeatureSet_FieldPresence.EXPLICIT;

const fp = <I extends DescMessage>(schema: I, message: MessageShape<I>, tokenField: string): string =>
  requestFingerprint(schema, message, tokenField);

describe("request fingerprint", () => {
  test("is a SHA-256 hex digest, prefixed with its version (v1, from before versions, has none)", () => {
    const request = create(DeleteRamPermissionRequestSchema, {
      permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/x",
    });
    const current = fp(DeleteRamPermissionRequestSchema, request, "clientToken");
    assert.match(current, /^v2:[0-9a-f]{64}$/);
    assert.equal(fingerprintVersionOf(current), FINGERPRINT_VERSION);
    const v1 = requestFingerprint(DeleteRamPermissionRequestSchema, request, "clientToken", 1);
    assert.match(v1, /^[0-9a-f]{64}$/);
    assert.equal(fingerprintVersionOf(v1), 1);
    assert.equal(fingerprintVersionOf("v9:abc"), undefined);
    assert.throws(() => requestFingerprint(DeleteRamPermissionRequestSchema, request, "clientToken", 9), /version 9/);
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

  test("a field without presence (proto3 implicit) at its zero value is the same request as omitted", () => {
    const omitted = fromJson(RemoveLambdaPermissionRequestSchema, { functionName: "demo", statementId: "s1" });
    const defaults = fromJson(RemoveLambdaPermissionRequestSchema, {
      functionName: "demo",
      statementId: "s1",
      allowMissing: false,
    });
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
    });
    assert.equal(
      fp(AddLambdaPermissionRequestSchema, addDefaults, "idempotencyKey"),
      fp(AddLambdaPermissionRequestSchema, addOmitted, "idempotencyKey"),
    );
  });

  test("invokedViaFunctionUrl false is not absent (a Bool condition in the statement, against none)", () => {
    const base = { functionName: "demo", statementId: "s", action: "lambda:InvokeFunction", principal: "p" };
    const absent = fromJson(AddLambdaPermissionRequestSchema, base);
    const present = fromJson(AddLambdaPermissionRequestSchema, { ...base, invokedViaFunctionUrl: false });
    assert.equal(present.invokedViaFunctionUrl, false);
    assert.notEqual(
      fp(AddLambdaPermissionRequestSchema, present, "idempotencyKey"),
      fp(AddLambdaPermissionRequestSchema, absent, "idempotencyKey"),
    );
    assert.equal(
      requestFingerprint(AddLambdaPermissionRequestSchema, present, "idempotencyKey", 1),
      requestFingerprint(AddLambdaPermissionRequestSchema, absent, "idempotencyKey", 1),
      "v1 folded them together: the defect, kept only to match what older replicas stored",
    );
  });

  /** The proto's `optional` fields of each mutating request, its token left out. */
  const optionalFields: Record<string, readonly string[]> = {
    RemoveLambdaPermission: ["qualifier", "revision_id"],
    AddLambdaPermission: [
      "source_arn",
      "source_account",
      "event_source_token",
      "qualifier",
      "revision_id",
      "principal_org_id",
      "invoked_via_function_url",
    ],
    DeleteRamPermission: [],
    CreateRamPermission: [],
  };

  for (const request of mutatingRequests) {
    test(`${request.name}: every optional field present at its zero value differs from absent`, () => {
      const optional = reflect(request.schema).fields.filter(
        (field): field is DescField & { fieldKind: "scalar" } =>
          field.fieldKind === "scalar" && field.presence === EXPLICIT && field.localName !== request.tokenField,
      );
      assert.deepEqual(
        optional.map((field) => field.name),
        optionalFields[request.name],
        "the proto's optional fields, all checked below",
      );
      for (const field of optional) {
        const absent = reflect(request.schema, clone(request.schema, request.base));
        absent.clear(field);
        const present = reflect(request.schema, clone(request.schema, absent.message));
        present.set(field, scalarZeroValue(field.scalar, false));
        assert.ok(present.isSet(field), `${field.name} is set`);
        assert.notEqual(
          fp(request.schema, present.message, request.tokenField),
          fp(request.schema, absent.message, request.tokenField),
          `${field.name}: present at its zero value hashed as absent`,
        );
      }
    });
  }

  test("a stored fingerprint of an older version is matched in that version", () => {
    const request = create(AddLambdaPermissionRequestSchema, {
      functionName: "demo",
      statementId: "s",
      action: "lambda:InvokeFunction",
      principal: "p",
      qualifier: "live",
      idempotencyKey: "k",
    });
    const other = create(AddLambdaPermissionRequestSchema, { ...request, qualifier: "dev" });
    const schema = AddLambdaPermissionRequestSchema;
    const fingerprint = requestFingerprintOf(schema, request, "idempotencyKey");
    assert.equal(fingerprint.current, fp(schema, request, "idempotencyKey"));
    assert.ok(fingerprint.matches(fingerprint.current));
    assert.ok(fingerprint.matches(requestFingerprint(schema, request, "idempotencyKey", 1)), "v1 of the same request");
    assert.ok(!fingerprint.matches(requestFingerprint(schema, other, "idempotencyKey", 1)), "v1 of another request");
    assert.ok(!fingerprint.matches(fp(schema, other, "idempotencyKey")), "v2 of another request");
    assert.ok(!fingerprint.matches("v9:0123"), "a version this replica does not know");
    assert.ok(!fingerprint.matches("not a fingerprint"));
  });

  test("v1 counts an explicit-presence field at its zero value as omitted (what older replicas stored)", () => {
    const omitted = fromJson(RemoveLambdaPermissionRequestSchema, { functionName: "demo", statementId: "s1" });
    const defaults = fromJson(RemoveLambdaPermissionRequestSchema, {
      functionName: "demo",
      statementId: "s1",
      qualifier: "",
      revisionId: "",
    });
    assert.equal(defaults.qualifier, "", "explicit presence keeps the empty string");
    assert.equal(
      requestFingerprint(RemoveLambdaPermissionRequestSchema, defaults, "idempotencyKey", 1),
      requestFingerprint(RemoveLambdaPermissionRequestSchema, omitted, "idempotencyKey", 1),
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

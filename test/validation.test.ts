import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { BadRequestSchema } from "../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { grpcFrame, grpcWebTrailersOf, h1Exchange, h2Exchange } from "./support/raw-http.js";
import {
  AddLambdaPermissionRequestSchema,
  CreateRamPermissionRequestSchema,
  DeleteRamPermissionRequestSchema,
  FunctionUrlAuthType,
  GetLambdaPolicyRequestSchema,
  GetRamPermissionRequestSchema,
  ListRamPermissionsRequestSchema,
  PermissionType,
  RemoveLambdaPermissionRequestSchema,
} from "../gen/permission/v1/permission_pb.js";
import { FUNCTION_NAME_PATTERN } from "../src/aws/arn.js";
import {
  isRequestValidationError,
  parseAddLambdaPermissionRequest,
  parseCreateRamPermissionRequest,
  parseDeleteRamPermissionRequest,
  parseGetLambdaPolicyRequest,
  parseGetRamPermissionRequest,
  parseListRamPermissionsRequest,
  parseRemoveLambdaPermissionRequest,
  RequestValidationError,
} from "../src/validation.js";
import type { FieldViolation } from "../src/validation.js";

// ---------------------------------------------------------------------------
// Helpers

function violation(field: string, constraint: string): FieldViolation {
  return { field, description: `Value at '${field}' failed to satisfy constraint: ${constraint}` };
}
const missing = (field: string) => violation(field, "Member must not be null");
const tooShort = (field: string, min: number) =>
  violation(field, `Member must have length greater than or equal to ${min}`);
const tooLong = (field: string, max: number) =>
  violation(field, `Member must have length less than or equal to ${max}`);
const pattern = (field: string, text: string) =>
  violation(field, `Member must satisfy regular expression pattern: ${text}`);

const FN_FORMS =
  'Member must be a function name ("my-function"), a partial ARN ("123456789012:function:my-function") ' +
  'or a function ARN, optionally followed by ":<version or alias>"';
const QUALIFIER_MISMATCH: FieldViolation = {
  field: "qualifier",
  description: "The derived qualifier from the function name does not match the specified qualifier.",
};
const PERMISSION_ARN_FORM =
  "Member must be a permission ARN: arn:<partition>:ram:<region>:<account>:permission/<name>, " +
  "or arn:<partition>:ram::aws:permission/<name> for an AWS managed permission";
const TOKEN_PATTERN = "[\\x21-\\x7E]+";
const QUALIFIER_PATTERN = "\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+";

/** The violations `run` throws; fails when it throws anything else or nothing. */
function violationsOf(run: () => unknown): FieldViolation[] {
  try {
    run();
  } catch (error) {
    assert.ok(isRequestValidationError(error), `expected RequestValidationError, got ${String(error)}`);
    return error.violations;
  }
  return assert.fail("expected a RequestValidationError, but the request was accepted");
}

/** A table case: `expected` empty means "accepted". */
interface Case<Init> {
  readonly name: string;
  readonly init: Init;
  readonly expected: FieldViolation[];
}

function runCases<Init>(cases: readonly Case<Init>[], parse: (init: Init) => unknown): void {
  for (const { name, init, expected } of cases) {
    it(`${expected.length === 0 ? "accepts" : "rejects"} ${name}`, () => {
      if (expected.length === 0) {
        assert.doesNotThrow(() => parse(init));
      } else {
        assert.deepEqual(
          violationsOf(() => parse(init)),
          expected,
        );
      }
    });
  }
}

const ARN_PREFIX = "arn:aws:lambda:us-west-2:123456789012:function:";
const ACCOUNT = "123456789012";

// ---------------------------------------------------------------------------
// Lambda: function name and qualifier, shared by the three Lambda RPCs

type RemoveInit = MessageInitShape<typeof RemoveLambdaPermissionRequestSchema>;
const removeBase = { functionName: "my-fn", statementId: "sid-1" } satisfies RemoveInit;
const parseRemove = (init: RemoveInit) =>
  parseRemoveLambdaPermissionRequest(create(RemoveLambdaPermissionRequestSchema, { ...removeBase, ...init }));

// The length bound is 256 characters; the pattern alone takes any
// "<xx>-gov-<word>-<n>" Region, which builds a 256-character ARN with a
// 64-character name and a 128-character alias. The length is checked first,
// so one character more is refused for its length alone. Real Regions are
// shorter: the longest valid ARN has 251 characters.
const govPrefix = "arn:aws-us-gov:lambda:us-gov-northwest-1:123456789012:function:";
const arn256 = `${govPrefix}${"n".repeat(64)}:${"a".repeat(256 - govPrefix.length - 65)}`;
const arnLongest = `arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:${"n".repeat(64)}:${"a".repeat(128)}`;
const QUALIFIER_IN_NAME_TOO_LONG = violation("functionName", "Qualifier must have length less than or equal to 128");

describe("function_name and qualifier", () => {
  it("builds a 256-character ARN for the bound cases", () => {
    assert.equal(arn256.length, 256);
    assert.equal(arn256.split(":").at(-1)?.length, 128);
    assert.equal(arnLongest.length, 251);
  });

  runCases<RemoveInit>(
    [
      { name: "a name", init: { functionName: "my-fn" }, expected: [] },
      { name: "a name with dots", init: { functionName: "my.fn_2" }, expected: [] },
      { name: "a partial ARN", init: { functionName: `${ACCOUNT}:my-fn` }, expected: [] },
      { name: "a partial ARN with function:", init: { functionName: `${ACCOUNT}:function:my-fn` }, expected: [] },
      { name: "a full ARN", init: { functionName: `${ARN_PREFIX}my-fn` }, expected: [] },
      {
        name: "an aws-cn ARN",
        init: { functionName: `arn:aws-cn:lambda:cn-north-1:${ACCOUNT}:function:my-fn:1` },
        expected: [],
      },
      {
        name: "an aws-us-gov ARN",
        init: { functionName: `arn:aws-us-gov:lambda:us-gov-east-1:${ACCOUNT}:function:my-fn:live` },
        expected: [],
      },
      { name: "a name with $LATEST", init: { functionName: "my-fn:$LATEST" }, expected: [] },
      { name: "a name with $LATEST.PUBLISHED", init: { functionName: "my-fn:$LATEST.PUBLISHED" }, expected: [] },
      { name: "the longest ARN of a real Region", init: { functionName: arnLongest }, expected: [] },
      { name: "a 257-character ARN", init: { functionName: `${arn256}a` }, expected: [tooLong("functionName", 256)] },
      { name: "an empty function name", init: { functionName: "" }, expected: [missing("functionName")] },
      { name: "a 64-character name", init: { functionName: "f".repeat(64) }, expected: [] },
      {
        name: "a 65-character name",
        init: { functionName: "f".repeat(65) },
        expected: [violation("functionName", "Function name must have length less than or equal to 64")],
      },
      {
        name: "a 65-character name inside an ARN",
        init: { functionName: `${ARN_PREFIX}${"f".repeat(65)}` },
        expected: [violation("functionName", "Function name must have length less than or equal to 64")],
      },
      {
        name: "a name with a space",
        init: { functionName: "my fn" },
        expected: [pattern("functionName", FUNCTION_NAME_PATTERN)],
      },
      {
        name: "a name with a trailing newline",
        init: { functionName: "my-fn\n" },
        expected: [pattern("functionName", FUNCTION_NAME_PATTERN)],
      },
      {
        name: "an ARN of another service",
        init: { functionName: `arn:aws:s3:us-west-2:${ACCOUNT}:function:my-fn` },
        expected: [pattern("functionName", FUNCTION_NAME_PATTERN)],
      },
      {
        name: "an undocumented form the bare pattern allows",
        init: { functionName: `us-west-2:${ACCOUNT}:function:my-fn` },
        expected: [violation("functionName", FN_FORMS)],
      },
      // a qualifier inside function_name obeys the qualifier's rules
      {
        name: "a name with a 128-character qualifier",
        init: { functionName: `my-fn:${"q".repeat(128)}` },
        expected: [],
      },
      {
        name: "a name with a 129-character qualifier",
        init: { functionName: `my-fn:${"q".repeat(129)}` },
        expected: [QUALIFIER_IN_NAME_TOO_LONG],
      },
      {
        name: "a name with a 200-character qualifier",
        init: { functionName: `demo:${"q".repeat(200)}` },
        expected: [QUALIFIER_IN_NAME_TOO_LONG],
      },
      {
        name: "a partial ARN with a 129-character qualifier",
        init: { functionName: `${ACCOUNT}:function:my-fn:${"q".repeat(129)}` },
        expected: [QUALIFIER_IN_NAME_TOO_LONG],
      },
      {
        name: "a full ARN with a 129-character qualifier",
        init: { functionName: `${ARN_PREFIX}my-fn:${"q".repeat(129)}` },
        expected: [QUALIFIER_IN_NAME_TOO_LONG],
      },
      {
        name: "a too long qualifier in the name and a separate qualifier field",
        init: { functionName: `demo:${"q".repeat(200)}`, qualifier: "live" },
        expected: [QUALIFIER_IN_NAME_TOO_LONG],
      },
      // qualifier field
      { name: "qualifier $LATEST", init: { qualifier: "$LATEST" }, expected: [] },
      { name: "qualifier $LATEST.PUBLISHED", init: { qualifier: "$LATEST.PUBLISHED" }, expected: [] },
      { name: "qualifier version", init: { qualifier: "12" }, expected: [] },
      { name: "qualifier alias", init: { qualifier: "live_2-x" }, expected: [] },
      { name: "qualifier of 128 characters", init: { qualifier: "q".repeat(128) }, expected: [] },
      {
        name: "qualifier of 129 characters",
        init: { qualifier: "q".repeat(129) },
        expected: [tooLong("qualifier", 128)],
      },
      { name: "an empty qualifier", init: { qualifier: "" }, expected: [tooShort("qualifier", 1)] },
      {
        name: "qualifier with a dot",
        init: { qualifier: "live.1" },
        expected: [pattern("qualifier", QUALIFIER_PATTERN)],
      },
      {
        name: "qualifier $LATEST.DRAFT",
        init: { qualifier: "$LATEST.DRAFT" },
        expected: [pattern("qualifier", QUALIFIER_PATTERN)],
      },
      // both
      {
        name: "the same qualifier in name and field",
        init: { functionName: "my-fn:live", qualifier: "live" },
        expected: [],
      },
      {
        name: "different qualifiers in name and field",
        init: { functionName: "my-fn:live", qualifier: "prod" },
        expected: [QUALIFIER_MISMATCH],
      },
      {
        name: "different qualifiers in an ARN and the field",
        init: { functionName: `${ARN_PREFIX}my-fn:$LATEST.PUBLISHED`, qualifier: "$LATEST" },
        expected: [QUALIFIER_MISMATCH],
      },
      {
        name: "a broken name and a broken qualifier, one violation each",
        init: { functionName: "my fn", qualifier: "" },
        expected: [pattern("functionName", FUNCTION_NAME_PATTERN), tooShort("qualifier", 1)],
      },
    ],
    parseRemove,
  );

  const effective: { name: string; init: RemoveInit; qualifier: string | undefined }[] = [
    { name: "none", init: { functionName: "my-fn" }, qualifier: undefined },
    { name: "from the name", init: { functionName: "my-fn:live" }, qualifier: "live" },
    { name: "from the field", init: { functionName: "my-fn", qualifier: "7" }, qualifier: "7" },
    { name: "from both", init: { functionName: "my-fn:7", qualifier: "7" }, qualifier: "7" },
  ];
  for (const { name, init, qualifier } of effective) {
    it(`takes the effective qualifier ${name}`, () => {
      const { input } = parseRemove(init);
      assert.equal(input.qualifier, qualifier);
      assert.equal("qualifier" in input, qualifier !== undefined);
      assert.deepEqual(input.function, { functionName: "my-fn", name: "my-fn" });
    });
  }
});

// ---------------------------------------------------------------------------
// RemoveLambdaPermission

describe("parseRemoveLambdaPermissionRequest", () => {
  runCases<RemoveInit>(
    [
      { name: "a statement ID of 100 characters", init: { statementId: "s".repeat(100) }, expected: [] },
      { name: "a statement ID with a dot", init: { statementId: "my.sid-1_a" }, expected: [] },
      { name: "an empty statement ID", init: { statementId: "" }, expected: [missing("statementId")] },
      {
        name: "a statement ID of 101 characters",
        init: { statementId: "s".repeat(101) },
        expected: [tooLong("statementId", 100)],
      },
      {
        name: "a statement ID with a space",
        init: { statementId: "my sid" },
        expected: [pattern("statementId", "([a-zA-Z0-9-_.]+)")],
      },
      { name: "a revision ID", init: { revisionId: "b0ed6d4f-7b1f-4b42-8a1e-0b8a3c1b9a52" }, expected: [] },
      { name: "an empty revision ID", init: { revisionId: "" }, expected: [tooShort("revisionId", 1)] },
      { name: "an idempotency key of 64 characters", init: { idempotencyKey: "k".repeat(64) }, expected: [] },
      { name: "an idempotency key of all printable ASCII", init: { idempotencyKey: "!~AZaz09{}" }, expected: [] },
      { name: "an empty idempotency key", init: { idempotencyKey: "" }, expected: [tooShort("idempotencyKey", 1)] },
      {
        name: "an idempotency key of 65 characters",
        init: { idempotencyKey: "k".repeat(65) },
        expected: [tooLong("idempotencyKey", 64)],
      },
      {
        name: "an idempotency key with a space",
        init: { idempotencyKey: "my key" },
        expected: [pattern("idempotencyKey", TOKEN_PATTERN)],
      },
      {
        name: "an idempotency key with non-ASCII",
        init: { idempotencyKey: "clé" },
        expected: [pattern("idempotencyKey", TOKEN_PATTERN)],
      },
      {
        name: "every field broken, one violation per field in field order",
        init: { functionName: "", statementId: "a b", qualifier: "", revisionId: "", idempotencyKey: "" },
        expected: [
          missing("functionName"),
          tooShort("qualifier", 1),
          pattern("statementId", "([a-zA-Z0-9-_.]+)"),
          tooShort("revisionId", 1),
          tooShort("idempotencyKey", 1),
        ],
      },
    ],
    parseRemove,
  );

  it("returns the backend input and the gateway fields", () => {
    assert.deepEqual(
      parseRemove({
        functionName: `${ARN_PREFIX}my-fn:live`,
        statementId: "sid.1",
        revisionId: "rev-1",
        idempotencyKey: "Key-1",
        allowMissing: true,
      }),
      {
        input: {
          function: {
            functionName: `${ARN_PREFIX}my-fn`,
            name: "my-fn",
            account: ACCOUNT,
            region: "us-west-2",
            partition: "aws",
          },
          statementId: "sid.1",
          qualifier: "live",
          revisionId: "rev-1",
        },
        idempotencyKey: "Key-1",
        allowMissing: true,
      },
    );
  });

  it("leaves absent optional fields out", () => {
    assert.deepEqual(parseRemove({}), {
      input: { function: { functionName: "my-fn", name: "my-fn" }, statementId: "sid-1" },
      allowMissing: false,
    });
  });

  it("throws a RequestValidationError with a readable message", () => {
    assert.throws(
      () => parseRemove({ functionName: "", statementId: "" }),
      (error: unknown) => {
        assert.ok(error instanceof RequestValidationError);
        assert.equal(error.name, "RequestValidationError");
        assert.match(error.message, /^2 validation errors detected: Value at 'functionName'/);
        return true;
      },
    );
    assert.equal(isRequestValidationError(new Error("x")), false);
  });
});

// ---------------------------------------------------------------------------
// AddLambdaPermission

type AddInit = MessageInitShape<typeof AddLambdaPermissionRequestSchema>;
const addBase = {
  functionName: "my-fn",
  statementId: "sid-1",
  action: "lambda:InvokeFunction",
  principal: "s3.amazonaws.com",
} satisfies AddInit;
const parseAdd = (init: AddInit) =>
  parseAddLambdaPermissionRequest(create(AddLambdaPermissionRequestSchema, { ...addBase, ...init }));

describe("parseAddLambdaPermissionRequest", () => {
  runCases<AddInit>(
    [
      { name: "the minimal request", init: {}, expected: [] },
      { name: "a statement ID of 100 characters", init: { statementId: "s".repeat(100) }, expected: [] },
      {
        name: "a statement ID of 101 characters",
        init: { statementId: "s".repeat(101) },
        expected: [tooLong("statementId", 100)],
      },
      {
        name: "a statement ID with a dot (allowed on remove only)",
        init: { statementId: "my.sid" },
        expected: [pattern("statementId", "([a-zA-Z0-9-_]+)")],
      },
      { name: "an empty statement ID", init: { statementId: "" }, expected: [missing("statementId")] },
      // action
      { name: "action lambda:*", init: { action: "lambda:*" }, expected: [] },
      { name: "action *", init: { action: "*" }, expected: [] },
      { name: "action lambda:InvokeFunctionUrl", init: { action: "lambda:InvokeFunctionUrl" }, expected: [] },
      { name: "an empty action", init: { action: "" }, expected: [missing("action")] },
      {
        name: "an action of another service",
        init: { action: "s3:GetObject" },
        expected: [pattern("action", "(lambda:[*]|lambda:[a-zA-Z]+|[*])")],
      },
      {
        name: "action lambda:",
        init: { action: "lambda:" },
        expected: [pattern("action", "(lambda:[*]|lambda:[a-zA-Z]+|[*])")],
      },
      // principal
      { name: "an account principal", init: { principal: ACCOUNT }, expected: [] },
      { name: "an ARN principal", init: { principal: `arn:aws:iam::${ACCOUNT}:root` }, expected: [] },
      { name: "principal *", init: { principal: "*" }, expected: [] },
      { name: "an empty principal", init: { principal: "" }, expected: [missing("principal")] },
      {
        name: "a principal with a space",
        init: { principal: "s3 .amazonaws.com" },
        expected: [pattern("principal", "[^\\s]+")],
      },
      // source_arn
      { name: "an S3 bucket source ARN", init: { sourceArn: "arn:aws:s3:::my-bucket" }, expected: [] },
      {
        name: "an SNS topic source ARN",
        init: { sourceArn: `arn:aws:sns:us-east-1:${ACCOUNT}:topic` },
        expected: [],
      },
      {
        name: "a GovCloud source ARN",
        init: { sourceArn: `arn:aws-us-gov:events:us-gov-west-1:${ACCOUNT}:rule/x` },
        expected: [],
      },
      {
        name: "a source ARN that is no ARN",
        init: { sourceArn: "my-bucket" },
        expected: [
          pattern(
            "sourceArn",
            "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)",
          ),
        ],
      },
      // source_account
      { name: "a 12-digit source account", init: { sourceAccount: ACCOUNT }, expected: [] },
      {
        name: "an 11-digit source account",
        init: { sourceAccount: "12345678901" },
        expected: [pattern("sourceAccount", "\\d{12}")],
      },
      {
        name: "a 13-digit source account",
        init: { sourceAccount: "1234567890123" },
        expected: [tooLong("sourceAccount", 12)],
      },
      {
        name: "an empty source account",
        init: { sourceAccount: "" },
        expected: [pattern("sourceAccount", "\\d{12}")],
      },
      // event_source_token
      { name: "an event source token of 256 characters", init: { eventSourceToken: "t".repeat(256) }, expected: [] },
      { name: "an event source token with . _ -", init: { eventSourceToken: "amzn1.ask-skill_x" }, expected: [] },
      {
        name: "an event source token of 257 characters",
        init: { eventSourceToken: "t".repeat(257) },
        expected: [tooLong("eventSourceToken", 256)],
      },
      {
        name: "an event source token with a slash",
        init: { eventSourceToken: "a/b" },
        expected: [pattern("eventSourceToken", "[a-zA-Z0-9._\\-]+")],
      },
      // principal_org_id
      { name: "an org ID of 12 characters", init: { principalOrgId: "o-abcdefgh12" }, expected: [] },
      { name: "an org ID of 34 characters", init: { principalOrgId: `o-${"a".repeat(32)}` }, expected: [] },
      {
        name: "an org ID of 11 characters",
        init: { principalOrgId: "o-abcdefgh1" },
        expected: [tooShort("principalOrgId", 12)],
      },
      {
        name: "an org ID of 35 characters",
        init: { principalOrgId: `o-${"a".repeat(33)}` },
        expected: [tooLong("principalOrgId", 34)],
      },
      {
        name: "an org ID in upper case",
        init: { principalOrgId: "o-ABCDEFGH12" },
        expected: [pattern("principalOrgId", "o-[a-z0-9]{10,32}")],
      },
      {
        name: "an org ID without o-",
        init: { principalOrgId: "r-abcdefgh12" },
        expected: [pattern("principalOrgId", "o-[a-z0-9]{10,32}")],
      },
      // qualifier: $LATEST passes here; refusing it is the backend's documented case
      { name: "qualifier $LATEST", init: { qualifier: "$LATEST" }, expected: [] },
      {
        name: "different qualifiers in name and field",
        init: { functionName: "my-fn:1", qualifier: "2" },
        expected: [QUALIFIER_MISMATCH],
      },
      { name: "an empty revision ID", init: { revisionId: "" }, expected: [tooShort("revisionId", 1)] },
      {
        name: "an unknown function URL auth type",
        init: { functionUrlAuthType: 7 as FunctionUrlAuthType },
        expected: [
          violation(
            "functionUrlAuthType",
            "Member must satisfy enum value set: [FUNCTION_URL_AUTH_TYPE_UNSPECIFIED, FUNCTION_URL_AUTH_TYPE_NONE, FUNCTION_URL_AUTH_TYPE_AWS_IAM]",
          ),
        ],
      },
      {
        name: "an idempotency key of 65 characters",
        init: { idempotencyKey: "k".repeat(65) },
        expected: [tooLong("idempotencyKey", 64)],
      },
      {
        name: "several broken fields, each reported",
        init: {
          functionName: "my-fn:1",
          statementId: "a.b",
          action: "",
          principal: "a b",
          sourceAccount: "1",
          qualifier: "2",
          principalOrgId: "o-x",
          idempotencyKey: "",
        },
        expected: [
          QUALIFIER_MISMATCH,
          pattern("statementId", "([a-zA-Z0-9-_]+)"),
          missing("action"),
          pattern("principal", "[^\\s]+"),
          pattern("sourceAccount", "\\d{12}"),
          tooShort("principalOrgId", 12),
          tooShort("idempotencyKey", 1),
        ],
      },
    ],
    parseAdd,
  );

  const authTypes = [
    { value: FunctionUrlAuthType.UNSPECIFIED, expected: undefined },
    { value: FunctionUrlAuthType.NONE, expected: "NONE" },
    { value: FunctionUrlAuthType.AWS_IAM, expected: "AWS_IAM" },
  ] as const;
  for (const { value, expected } of authTypes) {
    it(`maps function URL auth type ${FunctionUrlAuthType[value]}`, () => {
      const { input } = parseAdd({ action: "lambda:InvokeFunctionUrl", functionUrlAuthType: value });
      assert.equal(input.functionUrlAuthType, expected);
      assert.equal("functionUrlAuthType" in input, expected !== undefined);
    });
  }

  it("returns every field of the backend input", () => {
    assert.deepEqual(
      parseAdd({
        functionName: `${ACCOUNT}:function:my-fn`,
        statementId: "sid_1",
        action: "lambda:InvokeFunction",
        principal: "s3.amazonaws.com",
        sourceArn: "arn:aws:s3:::my-bucket",
        sourceAccount: ACCOUNT,
        eventSourceToken: "tok",
        qualifier: "live",
        revisionId: "rev",
        principalOrgId: "o-abcdefgh12",
        functionUrlAuthType: FunctionUrlAuthType.AWS_IAM,
        idempotencyKey: "k",
      }),
      {
        input: {
          function: { functionName: `${ACCOUNT}:function:my-fn`, name: "my-fn", account: ACCOUNT },
          statementId: "sid_1",
          action: "lambda:InvokeFunction",
          principal: "s3.amazonaws.com",
          sourceArn: "arn:aws:s3:::my-bucket",
          sourceAccount: ACCOUNT,
          eventSourceToken: "tok",
          qualifier: "live",
          revisionId: "rev",
          principalOrgId: "o-abcdefgh12",
          functionUrlAuthType: "AWS_IAM",
        },
        idempotencyKey: "k",
      },
    );
  });
});

// ---------------------------------------------------------------------------
// GetLambdaPolicy

type GetPolicyInit = MessageInitShape<typeof GetLambdaPolicyRequestSchema>;
const parseGetPolicy = (init: GetPolicyInit) => parseGetLambdaPolicyRequest(create(GetLambdaPolicyRequestSchema, init));

describe("parseGetLambdaPolicyRequest", () => {
  runCases<GetPolicyInit>(
    [
      { name: "a name", init: { functionName: "my-fn" }, expected: [] },
      { name: "an alias ARN", init: { functionName: `${ARN_PREFIX}my-fn:live` }, expected: [] },
      { name: "no function name", init: {}, expected: [missing("functionName")] },
      {
        name: "an empty qualifier",
        init: { functionName: "my-fn", qualifier: "" },
        expected: [tooShort("qualifier", 1)],
      },
      {
        name: "different qualifiers in name and field",
        init: { functionName: "my-fn:live", qualifier: "1" },
        expected: [QUALIFIER_MISMATCH],
      },
    ],
    parseGetPolicy,
  );

  it("returns the function and the effective qualifier", () => {
    assert.deepEqual(parseGetPolicy({ functionName: `${ACCOUNT}:my-fn:$LATEST.PUBLISHED` }), {
      function: { functionName: `${ACCOUNT}:my-fn`, name: "my-fn", account: ACCOUNT },
      qualifier: "$LATEST.PUBLISHED",
    });
    assert.deepEqual(parseGetPolicy({ functionName: "my-fn" }), {
      function: { functionName: "my-fn", name: "my-fn" },
    });
  });
});

// ---------------------------------------------------------------------------
// DeleteRamPermission

const CUSTOMER_ARN = `arn:aws:ram:us-east-1:${ACCOUNT}:permission/demo-permission`;
const AWS_MANAGED_ARN = "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet";
const permissionArnOfLength = (length: number) => {
  const prefix = `arn:aws:ram:us-east-1:${ACCOUNT}:permission/`;
  return `${prefix}${"p".repeat(length - prefix.length)}`;
};

type DeleteInit = MessageInitShape<typeof DeleteRamPermissionRequestSchema>;
const parseDelete = (init: DeleteInit) =>
  parseDeleteRamPermissionRequest(create(DeleteRamPermissionRequestSchema, { permissionArn: CUSTOMER_ARN, ...init }));

describe("parseDeleteRamPermissionRequest", () => {
  runCases<DeleteInit>(
    [
      { name: "a customer managed ARN", init: {}, expected: [] },
      {
        name: "a GovCloud ARN",
        init: { permissionArn: `arn:aws-us-gov:ram:us-gov-west-1:${ACCOUNT}:permission/p` },
        expected: [],
      },
      // Refused by the backend as OperationNotPermitted (FAILED_PRECONDITION), not here.
      { name: "an AWS managed ARN", init: { permissionArn: AWS_MANAGED_ARN }, expected: [] },
      { name: "no permission ARN", init: { permissionArn: "" }, expected: [missing("permissionArn")] },
      {
        name: "a resource share ARN",
        init: { permissionArn: `arn:aws:ram:us-east-1:${ACCOUNT}:resource-share/abc` },
        expected: [violation("permissionArn", PERMISSION_ARN_FORM)],
      },
      {
        name: "a permission ARN with an 11-digit account",
        init: { permissionArn: "arn:aws:ram:us-east-1:12345678901:permission/p" },
        expected: [violation("permissionArn", PERMISSION_ARN_FORM)],
      },
      {
        name: "a permission ARN of 2048 characters",
        init: { permissionArn: permissionArnOfLength(2048) },
        expected: [],
      },
      {
        name: "a permission ARN of 2049 characters",
        init: { permissionArn: permissionArnOfLength(2049) },
        expected: [tooLong("permissionArn", 2048)],
      },
      { name: "a client token of 64 characters", init: { clientToken: "c".repeat(64) }, expected: [] },
      { name: "an empty client token", init: { clientToken: "" }, expected: [tooShort("clientToken", 1)] },
      {
        name: "a client token of 65 characters",
        init: { clientToken: "c".repeat(65) },
        expected: [tooLong("clientToken", 64)],
      },
      {
        name: "a client token with a tab",
        init: { clientToken: "a\tb" },
        expected: [pattern("clientToken", TOKEN_PATTERN)],
      },
      {
        name: "both fields broken",
        init: { permissionArn: "demo-permission", clientToken: "" },
        expected: [violation("permissionArn", PERMISSION_ARN_FORM), tooShort("clientToken", 1)],
      },
    ],
    parseDelete,
  );

  it("builds ARNs of the requested length for the bound cases", () => {
    assert.equal(permissionArnOfLength(2049).length, 2049);
  });

  it("returns the parsed ARN and the token as given (case kept)", () => {
    assert.deepEqual(parseDelete({ clientToken: "AbC-123" }), {
      permission: {
        arn: CUSTOMER_ARN,
        partition: "aws",
        region: "us-east-1",
        account: ACCOUNT,
        name: "demo-permission",
        awsManaged: false,
      },
      clientToken: "AbC-123",
    });
    assert.equal("clientToken" in parseDelete({}), false);
  });
});

// ---------------------------------------------------------------------------
// CreateRamPermission

type CreateInit = MessageInitShape<typeof CreateRamPermissionRequestSchema>;
const TEMPLATE = '{"Effect":"Allow","Action":["ec2:DescribeSubnets"]}';
const createBase = { name: "my-permission", resourceType: "ec2:Subnet", policyTemplate: TEMPLATE } satisfies CreateInit;
const parseCreate = (init: CreateInit) =>
  parseCreateRamPermissionRequest(create(CreateRamPermissionRequestSchema, { ...createBase, ...init }));

const manyTags = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, `v${i}`]));

describe("parseCreateRamPermissionRequest", () => {
  runCases<CreateInit>(
    [
      { name: "the minimal request", init: {}, expected: [] },
      { name: "a name of 36 characters", init: { name: "n".repeat(36) }, expected: [] },
      { name: "a name with . _ -", init: { name: "My_perm.v1-a" }, expected: [] },
      { name: "an empty name", init: { name: "" }, expected: [missing("name")] },
      { name: "a name of 37 characters", init: { name: "n".repeat(37) }, expected: [tooLong("name", 36)] },
      { name: "a name with a space", init: { name: "my perm" }, expected: [pattern("name", "[\\w.-]*")] },
      { name: "a name with a slash", init: { name: "my/perm" }, expected: [pattern("name", "[\\w.-]*")] },
      {
        name: "resource type with a hyphenated service",
        init: { resourceType: "license-manager:LicenseConfiguration" },
        expected: [],
      },
      { name: "resource type in lower case", init: { resourceType: "ec2:subnet" }, expected: [] },
      { name: "an empty resource type", init: { resourceType: "" }, expected: [missing("resourceType")] },
      {
        name: "a resource type without a service",
        init: { resourceType: "Subnet" },
        expected: [pattern("resourceType", "[a-zA-Z0-9-]+:[a-zA-Z0-9-]+")],
      },
      {
        name: "a resource type of 257 characters",
        init: { resourceType: `ec2:${"x".repeat(253)}` },
        expected: [tooLong("resourceType", 256)],
      },
      { name: "an empty policy template", init: { policyTemplate: "" }, expected: [missing("policyTemplate")] },
      // Semantics of the template are the backend's (MalformedPolicyTemplate).
      { name: "a policy template that is not JSON", init: { policyTemplate: "{" }, expected: [] },
      { name: "a client token", init: { clientToken: "token-1" }, expected: [] },
      { name: "an empty client token", init: { clientToken: "" }, expected: [tooShort("clientToken", 1)] },
      // tags
      { name: "50 tags", init: { tags: manyTags(50) }, expected: [] },
      { name: "51 tags", init: { tags: manyTags(51) }, expected: [tooLong("tags", 50)] },
      { name: "a tag key of 128 characters", init: { tags: { ["k".repeat(128)]: "v" } }, expected: [] },
      { name: "a tag value of 256 characters", init: { tags: { env: "v".repeat(256) } }, expected: [] },
      { name: "an empty tag value", init: { tags: { env: "" } }, expected: [] },
      {
        name: "a tag key of 129 characters",
        init: { tags: { ["k".repeat(129)]: "v" } },
        expected: [violation(`tags["${"k".repeat(129)}"]`, "Tag key must have length less than or equal to 128")],
      },
      {
        name: "a tag value of 257 characters",
        init: { tags: { env: "v".repeat(257) } },
        expected: [violation('tags["env"]', "Tag value must have length less than or equal to 256")],
      },
      {
        name: "an empty tag key",
        init: { tags: { "": "v" } },
        expected: [violation('tags[""]', "Tag key must have length greater than or equal to 1")],
      },
      {
        name: "a tag value of 256 characters outside the BMP (counted as characters)",
        init: { tags: { env: "😀".repeat(256) } },
        expected: [],
      },
      {
        name: "a tag value of 257 characters outside the BMP",
        init: { tags: { env: "😀".repeat(257) } },
        expected: [violation('tags["env"]', "Tag value must have length less than or equal to 256")],
      },
      {
        name: "a tag value of 255 characters outside the BMP plus 2 inside it",
        init: { tags: { env: `${"😀".repeat(255)}ab` } },
        expected: [violation('tags["env"]', "Tag value must have length less than or equal to 256")],
      },
      {
        name: "a tag value of 256 characters mixing both",
        init: { tags: { env: `a${"😀".repeat(254)}b` } },
        expected: [],
      },
      {
        name: "a lone surrogate counted as one character",
        init: { tags: { env: `${"\ud83d".repeat(256)}` } },
        expected: [],
      },
      {
        name: "a tag value of 8 MiB",
        init: { tags: { env: "v".repeat(8 * 1024 * 1024) } },
        expected: [violation('tags["env"]', "Tag value must have length less than or equal to 256")],
      },
      {
        name: "several broken fields, each reported",
        init: {
          name: "",
          resourceType: "x",
          policyTemplate: "",
          clientToken: "a b",
          tags: { a: "v".repeat(257), ok: "1" },
        },
        expected: [
          missing("name"),
          pattern("resourceType", "[a-zA-Z0-9-]+:[a-zA-Z0-9-]+"),
          missing("policyTemplate"),
          pattern("clientToken", TOKEN_PATTERN),
          violation('tags["a"]', "Tag value must have length less than or equal to 256"),
        ],
      },
    ],
    parseCreate,
  );

  it("returns the fields and a plain copy of the tags", () => {
    const request = create(CreateRamPermissionRequestSchema, {
      ...createBase,
      clientToken: "tok",
      tags: { env: "prod", team: "" },
    });
    const parsed = parseCreateRamPermissionRequest(request);
    assert.deepEqual(parsed, {
      name: "my-permission",
      resourceType: "ec2:Subnet",
      policyTemplate: TEMPLATE,
      tags: { env: "prod", team: "" },
      clientToken: "tok",
    });
    assert.notEqual(parsed.tags, request.tags);
    assert.equal("clientToken" in parseCreate({}), false);
  });
});

// ---------------------------------------------------------------------------
// GetRamPermission

type GetPermissionInit = MessageInitShape<typeof GetRamPermissionRequestSchema>;
const parseGetPermission = (init: GetPermissionInit) =>
  parseGetRamPermissionRequest(create(GetRamPermissionRequestSchema, { permissionArn: CUSTOMER_ARN, ...init }));

describe("parseGetRamPermissionRequest", () => {
  runCases<GetPermissionInit>(
    [
      { name: "a customer managed ARN", init: {}, expected: [] },
      { name: "an AWS managed ARN", init: { permissionArn: AWS_MANAGED_ARN }, expected: [] },
      { name: "version 1", init: { permissionVersion: 1 }, expected: [] },
      {
        name: "version 0",
        init: { permissionVersion: 0 },
        expected: [violation("permissionVersion", "Member must have value greater than or equal to 1")],
      },
      {
        name: "a negative version",
        init: { permissionVersion: -3 },
        expected: [violation("permissionVersion", "Member must have value greater than or equal to 1")],
      },
      { name: "no permission ARN", init: { permissionArn: "" }, expected: [missing("permissionArn")] },
      {
        name: "a malformed ARN and version 0",
        init: { permissionArn: "arn:aws:ram::aws:permission/", permissionVersion: 0 },
        expected: [
          violation("permissionArn", PERMISSION_ARN_FORM),
          violation("permissionVersion", "Member must have value greater than or equal to 1"),
        ],
      },
    ],
    parseGetPermission,
  );

  it("returns the parsed ARN and the version when given", () => {
    assert.deepEqual(parseGetPermission({ permissionArn: AWS_MANAGED_ARN, permissionVersion: 2 }), {
      permission: {
        arn: AWS_MANAGED_ARN,
        partition: "aws",
        region: "",
        account: "aws",
        name: "AWSRAMDefaultPermissionEC2Subnet",
        awsManaged: true,
      },
      permissionVersion: 2,
    });
    assert.equal("permissionVersion" in parseGetPermission({}), false);
  });
});

// ---------------------------------------------------------------------------
// ListRamPermissions

type ListInit = MessageInitShape<typeof ListRamPermissionsRequestSchema>;
const parseList = (init: ListInit) => parseListRamPermissionsRequest(create(ListRamPermissionsRequestSchema, init));

describe("parseListRamPermissionsRequest", () => {
  runCases<ListInit>(
    [
      { name: "page size 1", init: { pageSize: 1 }, expected: [] },
      { name: "page size 500", init: { pageSize: 500 }, expected: [] },
      {
        name: "page size 501",
        init: { pageSize: 501 },
        expected: [violation("pageSize", "Member must have value less than or equal to 500")],
      },
      {
        name: "a negative page size",
        init: { pageSize: -1 },
        expected: [violation("pageSize", "Member must have value greater than or equal to 1")],
      },
      { name: "a resource type filter", init: { resourceType: "ec2:Subnet" }, expected: [] },
      {
        name: "a malformed resource type filter",
        init: { resourceType: "subnet" },
        expected: [pattern("resourceType", "[a-zA-Z0-9-]+:[a-zA-Z0-9-]+")],
      },
      { name: "a page token of 8192 characters", init: { pageToken: "t".repeat(8192) }, expected: [] },
      {
        name: "a page token of 8193 characters",
        init: { pageToken: "t".repeat(8193) },
        expected: [tooLong("pageToken", 8192)],
      },
      {
        name: "an unknown permission type",
        init: { permissionType: 9 as PermissionType },
        expected: [
          violation(
            "permissionType",
            "Member must satisfy enum value set: [PERMISSION_TYPE_UNSPECIFIED, PERMISSION_TYPE_AWS_MANAGED, PERMISSION_TYPE_CUSTOMER_MANAGED]",
          ),
        ],
      },
      {
        name: "several broken fields, each reported",
        init: { resourceType: "x", pageSize: 1000, pageToken: "t".repeat(9000) },
        expected: [
          pattern("resourceType", "[a-zA-Z0-9-]+:[a-zA-Z0-9-]+"),
          violation("pageSize", "Member must have value less than or equal to 500"),
          tooLong("pageToken", 8192),
        ],
      },
    ],
    parseList,
  );

  it("defaults page size 0 to 50 and leaves empty filters out", () => {
    assert.deepEqual(parseList({}), { maxResults: 50 });
  });

  it("passes every filter through", () => {
    assert.deepEqual(
      parseList({
        resourceType: "ec2:Subnet",
        permissionType: PermissionType.CUSTOMER_MANAGED,
        pageSize: 10,
        pageToken: "next-1",
      }),
      { resourceType: "ec2:Subnet", permissionType: "CUSTOMER_MANAGED", maxResults: 10, nextToken: "next-1" },
    );
  });

  const types = [
    { value: PermissionType.UNSPECIFIED, expected: undefined },
    { value: PermissionType.AWS_MANAGED, expected: "AWS_MANAGED" },
    { value: PermissionType.CUSTOMER_MANAGED, expected: "CUSTOMER_MANAGED" },
  ] as const;
  for (const { value, expected } of types) {
    it(`maps permission type ${PermissionType[value]}`, () => {
      assert.equal(parseList({ permissionType: value }).permissionType, expected);
    });
  }
});

// ---------------------------------------------------------------------------
// Regions, partitions and the newer members

describe("partitions and Regions AWS has", () => {
  const refused: [string, () => unknown, string, RegExp][] = [
    [
      "a function ARN in a Region its partition lacks",
      () =>
        parseRemoveLambdaPermissionRequest(
          create(RemoveLambdaPermissionRequestSchema, {
            functionName: "arn:aws:lambda:us-east-9:123456789012:function:f",
            statementId: "s",
          }),
        ),
      "functionName",
      /Member must name a Region of partition aws \(.*us-east-1.*\), not us-east-9/,
    ],
    [
      "a function ARN whose Region belongs to another partition",
      () =>
        parseGetLambdaPolicyRequest(
          create(GetLambdaPolicyRequestSchema, { functionName: "arn:aws:lambda:cn-north-1:123456789012:function:f" }),
        ),
      "functionName",
      /Region of partition aws .*not cn-north-1/,
    ],
    [
      "a function ARN in a partition AWS does not have",
      () =>
        parseGetLambdaPolicyRequest(
          create(GetLambdaPolicyRequestSchema, {
            functionName: "arn:aws-moon:lambda:us-east-1:123456789012:function:f",
          }),
        ),
      "functionName",
      /Member must name a partition AWS has \(aws, aws-cn, .*aws-eusc.*\), not aws-moon/,
    ],
    [
      "a RAM permission ARN in a Region its partition lacks",
      () =>
        parseGetRamPermissionRequest(
          create(GetRamPermissionRequestSchema, { permissionArn: "arn:aws:ram:eu-moon-1:123456789012:permission/p" }),
        ),
      "permissionArn",
      /Region of partition aws .*not eu-moon-1/,
    ],
    [
      "an AWS managed permission of a partition AWS does not have",
      () =>
        parseDeleteRamPermissionRequest(
          create(DeleteRamPermissionRequestSchema, {
            permissionArn: "arn:aws-moon:ram::aws:permission/AWSRAMDefaultPermissionEC2Subnet",
          }),
        ),
      "permissionArn",
      /partition AWS has/,
    ],
  ];
  for (const [name, run, field, description] of refused) {
    it(`refuses ${name}, naming the field`, () => {
      const violations = violationsOf(run);
      assert.equal(violations.length, 1);
      assert.equal(violations[0]?.field, field);
      assert.match(violations[0]?.description ?? "", description);
    });
  }

  it("accepts aws-eusc and its eusc- Regions", () => {
    const input = parseGetLambdaPolicyRequest(
      create(GetLambdaPolicyRequestSchema, {
        functionName: "arn:aws-eusc:lambda:eusc-de-east-1:123456789012:function:sovereign:live",
      }),
    );
    assert.equal(input.function.partition, "aws-eusc");
    assert.equal(input.function.region, "eusc-de-east-1");
    assert.equal(input.qualifier, "live");
    parseGetRamPermissionRequest(
      create(GetRamPermissionRequestSchema, {
        permissionArn: "arn:aws-eusc:ram:eusc-de-east-1:123456789012:permission/p",
      }),
    );
  });
});

describe("AddLambdaPermission's invoked_via_function_url", () => {
  const base = { functionName: "demo", statementId: "url", action: "lambda:InvokeFunction", principal: "*" };
  it("passes true and false through, and leaves it out when unset", () => {
    for (const value of [true, false]) {
      const parsed = parseAddLambdaPermissionRequest(
        create(AddLambdaPermissionRequestSchema, { ...base, invokedViaFunctionUrl: value }),
      );
      assert.equal(parsed.input.invokedViaFunctionUrl, value);
    }
    const unset = parseAddLambdaPermissionRequest(create(AddLambdaPermissionRequestSchema, base));
    assert.equal("invokedViaFunctionUrl" in unset.input, false);
  });
});

// ---------------------------------------------------------------------------
// Unknown fields in binary requests, through a real gateway

/** Protobuf wire bytes of a field the message does not have: number 99, varint 1. */
const UNKNOWN_FIELD_99 = Uint8Array.from([0x98, 0x06, 0x01]);

function withUnknownField(): Uint8Array {
  const known = toBinary(GetLambdaPolicyRequestSchema, create(GetLambdaPolicyRequestSchema, { functionName: "demo" }));
  return Uint8Array.from([...known, ...UNKNOWN_FIELD_99]);
}

/** The google.rpc.Status a gRPC or gRPC-Web answer carries in grpc-status-details-bin. */
function statusOf(detailsBin: string | undefined): { code: number; violations: string[] } {
  assert.ok(detailsBin !== undefined, "grpc-status-details-bin is present");
  const status = fromBinary(StatusSchema, Buffer.from(detailsBin, "base64"));
  const violations = status.details
    .filter((detail) => detail.typeUrl.endsWith("google.rpc.BadRequest"))
    .flatMap((detail) => fromBinary(BadRequestSchema, detail.value).fieldViolations.map((v) => v.field));
  return { code: status.code, violations };
}

describe("fields a request message does not have, in each binary protocol", () => {
  let gateway: TestGateway;
  const path = "/permission.v1.PermissionService/GetLambdaPolicy";
  before(async () => {
    gateway = await startTestGateway();
  });
  after(() => gateway.close());

  it("Connect binary: INVALID_ARGUMENT naming field 99", async () => {
    const response = await fetch(`${gateway.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: withUnknownField(),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { code: string; details: { type: string; value: string }[] };
    assert.equal(body.code, "invalid_argument");
    const badRequest = body.details.find((detail) => detail.type === "google.rpc.BadRequest");
    assert.ok(badRequest !== undefined);
    const fields = fromBinary(BadRequestSchema, Buffer.from(badRequest.value, "base64")).fieldViolations;
    assert.deepEqual(
      fields.map((v) => v.field),
      ["field 99"],
    );
    assert.match(
      fields[0]?.description ?? "",
      /Field number 99 is not a field of permission\.v1\.GetLambdaPolicyRequest/,
    );
  });

  it("gRPC over h2c: grpc-status 3 naming field 99", async () => {
    const answer = await h2Exchange(
      gateway.url,
      path,
      { "content-type": "application/grpc", te: "trailers" },
      grpcFrame(withUnknownField()),
    );
    const headers = { ...answer.headers, ...answer.trailers };
    assert.equal(headers["grpc-status"], "3");
    const status = statusOf(headers["grpc-status-details-bin"]);
    assert.equal(status.code, 3);
    assert.deepEqual(status.violations, ["field 99"]);
  });

  it("gRPC-Web over HTTP/1.1: grpc-status 3 naming field 99", async () => {
    const answer = await h1Exchange(
      gateway.url,
      path,
      { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      grpcFrame(withUnknownField()),
    );
    // The status is in the headers (trailers-only) or in the trailer frame.
    const trailers = { ...answer.headers, ...grpcWebTrailersOf(answer) };
    assert.equal(trailers["grpc-status"], "3");
    assert.deepEqual(statusOf(trailers["grpc-status-details-bin"]).violations, ["field 99"]);
  });

  it("a binary request without unknown fields is served as before", async () => {
    const known = toBinary(
      GetLambdaPolicyRequestSchema,
      create(GetLambdaPolicyRequestSchema, { functionName: "demo" }),
    );
    const response = await fetch(`${gateway.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: known,
    });
    // The demo function has no policy yet: Lambda's NOT_FOUND, not a refusal of the request.
    assert.equal(response.status, 404);
  });
});

// The recorded AWS answers are the oracle: every case of the fixture
// (test/fixtures/aws-recorded-answers.json) walked through the in-process
// fake backend, through the fake AWS endpoint with the real AWS SDK, and
// through the AWS adapter's error translation, each from a fresh world.
// The fakes must give the recorded status, error name and exact message (or
// the statement and policy exactly as Lambda wrote them, member order
// included); the adapter must read each recorded error as what it means.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { RAMClient } from "@aws-sdk/client-ram";
import { isDuplicateStatementConflict } from "../../src/aws/lambda-answers.js";
import { kindOfAwsError } from "../../src/aws/error-catalogue.js";
import { AwsApiError, type AwsService } from "../../src/backend/errors.js";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { operationService } from "../../src/backend/fake/operations.js";
import { startFakeAwsServer } from "../../src/fake-aws/server.js";
import { noDeadline, rejectionOf, startAwsStack, testCredentials } from "../backend/aws/aws-test-stack.js";
import {
  callPort,
  callSdk,
  comparable,
  expectedOutcome,
  recordedCases,
  sendThroughPort,
  worldOptions,
  type RecordedCase,
} from "./recorded-answers.js";

const counts = (kind: RecordedCase["kind"]): number => recordedCases.filter((c) => c.kind === kind).length;

test(`the fixture holds ${counts("recorded")} recorded answers, ${counts("asserted")} asserted behaviours and ${counts("model")} model facts`, () => {
  assert.ok(counts("recorded") > 0);
  const ids = recordedCases.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length, "case ids are unique");
  for (const c of recordedCases) {
    assert.ok(c.source["from"] !== undefined, `${c.id} names its source`);
    if (c.kind === "recorded")
      assert.ok(
        c.source["key"] !== undefined && c.source["recorded"] !== undefined,
        `${c.id} names its snapshot key and date`,
      );
    if (c.answer.error !== undefined && c.kind !== "model")
      assert.ok(c.answer.message !== undefined, `${c.id} has AWS's exact message`);
  }
});

describe("the in-process fake backend reproduces every recorded answer", () => {
  for (const c of recordedCases) {
    test(`${c.kind} ${c.operation} ${c.id}`, async () => {
      const fake = createFakeBackend(worldOptions());
      try {
        for (const step of c.given ?? []) {
          const outcome = await callPort(fake, step, noDeadline());
          assert.equal(outcome.error, undefined, `given ${step.operation} failed: ${outcome.message ?? ""}`);
        }
        const outcome = await callPort(fake, c, noDeadline());
        assert.deepEqual(comparable(outcome, c.answer), expectedOutcome(c.answer, true));
      } finally {
        await fake.close();
      }
    });
  }
});

describe("the fake AWS endpoint reproduces every recorded answer to the real AWS SDK", () => {
  for (const c of recordedCases) {
    test(`${c.kind} ${c.operation} ${c.id}`, async () => {
      const fake = createFakeBackend(worldOptions());
      const server = await startFakeAwsServer({ backend: fake });
      const config = { endpoint: server.url, region: "us-east-1", credentials: testCredentials, maxAttempts: 1 };
      const clients = { lambda: new LambdaClient(config), ram: new RAMClient(config) };
      try {
        for (const step of c.given ?? []) {
          const outcome = await callSdk(clients, step);
          assert.equal(outcome.error, undefined, `given ${step.operation} failed: ${outcome.message ?? ""}`);
        }
        const outcome = await callSdk(clients, c);
        assert.deepEqual(comparable(outcome, c.answer), expectedOutcome(c.answer, true));
      } finally {
        clients.lambda.destroy();
        clients.ram.destroy();
        await server.close();
        await fake.close();
      }
    });
  }
});

describe("the AWS adapter reads every recorded error as what it means", () => {
  for (const c of recordedCases.filter((each) => each.answer.error !== undefined)) {
    test(`${c.kind} ${c.operation} ${c.id}`, async () => {
      const error = c.answer.error ?? "";
      const service: AwsService = operationService[c.operation];
      const stack = await startAwsStack({ maxAttempts: 1, fake: worldOptions() });
      try {
        // The endpoint answers with AWS's recorded status, name and words, as AWS did.
        stack.endpoint.injectFault({
          operation: c.operation,
          errorCode: error,
          httpStatus: c.answer.httpStatus,
          ...(c.answer.message === undefined ? {} : { message: c.answer.message }),
        });
        const translated = await rejectionOf(sendThroughPort(stack.backend, c, noDeadline()));
        assert.ok(translated instanceof AwsApiError, `${translated.name}: ${translated.message}`);
        assert.equal(translated.service, service);
        assert.equal(translated.code, error);
        assert.equal(translated.httpStatus, c.answer.httpStatus);
        if (c.answer.message !== undefined) assert.equal(translated.message, c.answer.message);
        assert.equal(translated.requestId, stack.proxy.exchanges.at(-1)?.requestId);
        assert.equal(kindOfAwsError(service, error), c.means?.errorKind);
        if (c.means?.missing !== undefined) assert.equal(translated.missing, c.means.missing ?? undefined);
        if (c.means?.duplicate !== undefined)
          assert.equal(isDuplicateStatementConflict(translated.message), c.means.duplicate);
      } finally {
        await stack.close();
      }
    });
  }
});

// errorMessage: an Error's message (a subclass's too), else the thrown value as a string.
import assert from "node:assert/strict";
import { test } from "node:test";
import { errorMessage } from "../../src/util/error-message.js";

test("an Error's message, or the thrown value as a string", () => {
  assert.equal(errorMessage(new TypeError("bad input")), "bad input");
  assert.equal(errorMessage("plain"), "plain");
  assert.equal(errorMessage(42), "42");
  assert.equal(errorMessage(undefined), "undefined");
});

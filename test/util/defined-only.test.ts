// definedOnly: undefined properties dropped, everything else (null, false,
// 0, "", nested records) kept as it is.
import assert from "node:assert/strict";
import { test } from "node:test";
import { definedOnly } from "../../src/util/defined-only.js";

test("undefined properties are dropped, falsy values and nested records kept", () => {
  const nested = { inner: undefined };
  const out = definedOnly({ a: undefined, b: null, c: false, d: 0, e: "", f: nested });
  assert.deepEqual(out, { b: null, c: false, d: 0, e: "", f: nested });
  assert.equal(Object.hasOwn(out, "a"), false);
  assert.equal(out.f, nested);
});

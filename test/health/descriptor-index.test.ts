// The reflection index on a file that declares extensions (the gateway's own
// files declare none): lookups by extension, extension numbers, and symbols.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  file_google_protobuf_timestamp,
} from "@bufbuild/protobuf/wkt";
import { createDescriptorIndex } from "../../src/reflection/descriptor-index.js";

const extended = create(FileDescriptorProtoSchema, {
  name: "test/ext.proto",
  package: "test",
  syntax: "proto2",
  dependency: ["google/protobuf/timestamp.proto"],
  messageType: [
    {
      name: "Base",
      extensionRange: [{ start: 100, end: 200 }],
      field: [
        {
          name: "at",
          number: 1,
          label: FieldDescriptorProto_Label.OPTIONAL,
          type: FieldDescriptorProto_Type.MESSAGE,
          typeName: ".google.protobuf.Timestamp",
        },
      ],
      extension: [
        {
          name: "nested_note",
          number: 101,
          label: FieldDescriptorProto_Label.OPTIONAL,
          type: FieldDescriptorProto_Type.STRING,
          extendee: ".test.Base",
        },
      ],
    },
  ],
  extension: [
    {
      name: "note",
      number: 100,
      label: FieldDescriptorProto_Label.OPTIONAL,
      type: FieldDescriptorProto_Type.STRING,
      extendee: ".test.Base",
    },
  ],
});

const registry = createFileRegistry(extended, (name) =>
  name === "google/protobuf/timestamp.proto" ? file_google_protobuf_timestamp : undefined,
);
const file = registry.getFile("test/ext.proto");

test("extensions are found by containing type and number, top-level and nested", () => {
  assert.ok(file !== undefined);
  const index = createDescriptorIndex([file]);
  assert.equal(index.fileByExtension("test.Base", 100), file);
  assert.equal(index.fileByExtension("test.Base", 101), file);
  assert.equal(index.fileByExtension("test.Base", 102), undefined);
  assert.deepEqual(index.extensionNumbers("test.Base"), [100, 101]);
  assert.deepEqual(index.extensionNumbers("google.protobuf.Timestamp"), []);
  assert.equal(index.extensionNumbers("test.Missing"), undefined);
  assert.equal(index.fileBySymbol("test.note"), file);
  assert.equal(index.fileBySymbol(".test.Base.nested_note"), file);
  assert.equal(index.fileBySymbol("test.Base.at"), file);
});

test("a file is sent with its imports, each import once per stream", () => {
  assert.ok(file !== undefined);
  const index = createDescriptorIndex([file]);
  const sent = new Set<string>();
  const names = (bytes: Uint8Array[]) => bytes.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
  assert.deepEqual(names(index.withDependencies(file, sent)), ["test/ext.proto", "google/protobuf/timestamp.proto"]);
  assert.deepEqual(names(index.withDependencies(file_google_protobuf_timestamp, sent)), [
    "google/protobuf/timestamp.proto",
  ]);
  assert.deepEqual(names(index.withDependencies(file, sent)), ["test/ext.proto"]);
  assert.deepEqual(index.services, []);
});

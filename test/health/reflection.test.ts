// Server reflection through real clients: buf curl --reflect (both protocol
// versions) lists and calls methods with no proto at hand, and a grpc-js
// client, built from the reflection.proto that @grpc/reflection ships, walks
// every kind of request, the NOT_FOUND answers included.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { GetLambdaPolicyResponseSchema, PermissionService } from "../../gen/permission/v1/permission_pb.js";
import { GATEWAY_DESCRIPTOR_FILES } from "../../src/reflection/gateway-files.js";
import { registerReflectionServices } from "../../src/reflection/reflection-service.js";
import { startTestServer, type TestServer } from "../observability/support/connect-server.js";

const run = promisify(execFile);
const buf = fileURLToPath(new URL("../../node_modules/.bin/buf", import.meta.url));

let server: TestServer;

before(async () => {
  server = await startTestServer({
    routes(router) {
      // The API's descriptor with one method implemented: enough to call through reflection.
      router.service(PermissionService, {
        getLambdaPolicy: (request) =>
          create(GetLambdaPolicyResponseSchema, { policy: `{"for":"${request.functionName}"}`, revisionId: "r-1" }),
      });
      registerReflectionServices(router, GATEWAY_DESCRIPTOR_FILES);
    },
  });
});
after(() => server.close());

async function bufCurl(...args: string[]): Promise<string> {
  const { stdout } = await run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--reflect", ...args]);
  return stdout;
}

describe("buf curl --reflect", () => {
  for (const protocol of ["grpc-v1", "grpc-v1alpha"]) {
    test(`lists the services and methods (${protocol})`, async () => {
      const services = (await bufCurl("--reflect-protocol", protocol, "--list-services", server.h2Url))
        .trim()
        .split("\n");
      assert.deepEqual(services.sort(), [
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "permission.v1.PermissionService",
      ]);
      const methods = (await bufCurl("--reflect-protocol", protocol, "--list-methods", server.h2Url)).split("\n");
      for (const method of Object.values(PermissionService.method)) {
        assert.ok(methods.includes(`permission.v1.PermissionService/${method.name}`), method.name);
      }
    });

    test(`calls a method without a schema (${protocol})`, async () => {
      const out = await bufCurl(
        "--reflect-protocol",
        protocol,
        "-d",
        '{"functionName":"demo"}',
        `${server.h2Url}/permission.v1.PermissionService/GetLambdaPolicy`,
      );
      assert.deepEqual(JSON.parse(out), { policy: '{"for":"demo"}', revisionId: "r-1" });
    });
  }
});

// A grpc-js client of grpc.reflection.v1, one bidi stream per test.
interface ReflectionAnswer {
  validHost: string;
  originalRequest: Record<string, unknown>;
  messageResponse: string;
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  allExtensionNumbersResponse?: { baseTypeName: string; extensionNumber: number[] };
  listServicesResponse?: { service: { name: string }[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

function openReflection(version: "v1" | "v1alpha"): {
  ask(request: Record<string, unknown>): Promise<ReflectionAnswer>;
  close(): void;
} {
  const protoPath = fileURLToPath(
    new URL(
      `../../node_modules/@grpc/reflection/build/proto/grpc/reflection/${version}/reflection.proto`,
      import.meta.url,
    ),
  );
  const definition = protoLoader.loadSync(protoPath, { keepCase: false, defaults: true, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: Record<string, { ServerReflection: grpc.ServiceClientConstructor }> };
  };
  const Client = loaded.grpc.reflection[version]?.ServerReflection;
  assert.ok(Client !== undefined);
  const client = new Client(new URL(server.h2Url).host, grpc.credentials.createInsecure());
  const stream = (
    client as unknown as { serverReflectionInfo(): grpc.ClientDuplexStream<object, ReflectionAnswer> }
  ).serverReflectionInfo();
  const waiting: ((answer: ReflectionAnswer) => void)[] = [];
  stream.on("data", (answer: ReflectionAnswer) => waiting.shift()?.(answer));
  stream.on("error", () => {});
  return {
    ask(request) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        stream.write({ host: "gateway.test", ...request });
      });
    },
    close() {
      stream.end();
      client.close();
    },
  };
}

function files(answer: ReflectionAnswer): FileDescriptorProto[] {
  assert.equal(answer.messageResponse, "fileDescriptorResponse", JSON.stringify(answer.errorResponse));
  return (answer.fileDescriptorResponse?.fileDescriptorProto ?? []).map((bytes) =>
    fromBinary(FileDescriptorProtoSchema, bytes),
  );
}

describe("grpc-js over reflection", () => {
  for (const version of ["v1", "v1alpha"] as const) {
    test(`list_services echoes the request and names every service (${version})`, async () => {
      const reflection = openReflection(version);
      try {
        const answer = await reflection.ask({ listServices: "*" });
        assert.equal(answer.validHost, "gateway.test");
        assert.equal(answer.originalRequest["listServices"], "*");
        assert.deepEqual(answer.listServicesResponse?.service.map((s) => s.name).sort(), [
          "grpc.health.v1.Health",
          "grpc.reflection.v1.ServerReflection",
          "grpc.reflection.v1alpha.ServerReflection",
          "permission.v1.PermissionService",
        ]);
      } finally {
        reflection.close();
      }
    });
  }

  test("file_by_filename sends the file with its imports once per stream", async () => {
    const reflection = openReflection("v1");
    try {
      const first = files(await reflection.ask({ fileByFilename: "permission/v1/permission.proto" }));
      assert.equal(first[0]?.name, "permission/v1/permission.proto");
      assert.equal(first[0]?.package, "permission.v1");
      assert.ok(first[0]?.service.some((s) => s.name === "PermissionService"));
      const names = first.map((f) => f.name);
      for (const dependency of first[0]?.dependency ?? [])
        assert.ok(names.includes(dependency), `${dependency} is sent along`);
      assert.ok(names.includes("google/protobuf/timestamp.proto"));

      // The same stream again: the file itself, its imports already known.
      const again = files(await reflection.ask({ fileByFilename: "permission/v1/permission.proto" }));
      assert.deepEqual(
        again.map((f) => f.name),
        ["permission/v1/permission.proto"],
      );

      const missing = await reflection.ask({ fileByFilename: "nope/v1/nope.proto" });
      assert.equal(missing.errorResponse?.errorCode, grpc.status.NOT_FOUND);
      assert.match(missing.errorResponse?.errorMessage ?? "", /nope\/v1\/nope\.proto/);
    } finally {
      reflection.close();
    }
  });

  test("file_containing_symbol finds services, methods, messages, nested and enum symbols", async () => {
    const reflection = openReflection("v1");
    try {
      const cases: [string, string][] = [
        ["permission.v1.PermissionService", "permission/v1/permission.proto"],
        ["permission.v1.PermissionService.RemoveLambdaPermission", "permission/v1/permission.proto"],
        ["permission.v1.RamPermission", "permission/v1/permission.proto"],
        ["permission.v1.RamPermission.arn", "permission/v1/permission.proto"],
        ["permission.v1.PermissionStatus", "permission/v1/permission.proto"],
        ["permission.v1.PERMISSION_STATUS_DELETED", "permission/v1/permission.proto"],
        ["grpc.health.v1.HealthCheckResponse.ServingStatus", "health/v1/health.proto"],
        ["grpc.health.v1.Health.Watch", "health/v1/health.proto"],
        ["google.rpc.ErrorInfo", "google/rpc/error_details.proto"],
        ["google.protobuf.Timestamp", "google/protobuf/timestamp.proto"],
        ["grpc.reflection.v1alpha.ServerReflection", "grpc/reflection/v1alpha/reflection.proto"],
      ];
      for (const [symbol, file] of cases) {
        const sent = files(await reflection.ask({ fileContainingSymbol: symbol }));
        assert.equal(sent[0]?.name, file, symbol);
      }
      const unknown = await reflection.ask({ fileContainingSymbol: "permission.v1.NoSuchThing" });
      assert.equal(unknown.errorResponse?.errorCode, grpc.status.NOT_FOUND);
    } finally {
      reflection.close();
    }
  });

  test("extensions: none are declared, and the answers say so", async () => {
    const reflection = openReflection("v1alpha");
    try {
      const numbers = await reflection.ask({ allExtensionNumbersOfType: "permission.v1.RamPermission" });
      assert.equal(numbers.messageResponse, "allExtensionNumbersResponse");
      assert.deepEqual(numbers.allExtensionNumbersResponse, {
        baseTypeName: "permission.v1.RamPermission",
        extensionNumber: [],
      });

      const unknownType = await reflection.ask({ allExtensionNumbersOfType: "permission.v1.Nope" });
      assert.equal(unknownType.errorResponse?.errorCode, grpc.status.NOT_FOUND);

      const extension = await reflection.ask({
        fileContainingExtension: { containingType: "permission.v1.RamPermission", extensionNumber: 1000 },
      });
      assert.equal(extension.errorResponse?.errorCode, grpc.status.NOT_FOUND);
      assert.match(
        extension.errorResponse?.errorMessage ?? "",
        /extension 1000 of "permission\.v1\.RamPermission" not found/,
      );

      const empty = await reflection.ask({});
      assert.equal(empty.errorResponse?.errorCode, grpc.status.INVALID_ARGUMENT);
    } finally {
      reflection.close();
    }
  });
});

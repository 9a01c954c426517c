// gRPC server reflection, v1 and v1alpha (the same messages in two packages;
// grpcurl and grpcui still ask v1alpha first), answering from the generated
// descriptors. Each stream remembers which files it already sent, so a
// client walking the imports gets each file once (as grpc-go does).
import { create, type DescFile, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, type ConnectRouter, type ServiceImpl } from "@connectrpc/connect";
import { ServerReflection, ServerReflectionResponseSchema } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflection as ServerReflectionV1alpha,
  ServerReflectionResponseSchema as ServerReflectionResponseSchemaV1alpha,
} from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { createDescriptorIndex, type DescriptorIndex } from "./descriptor-index.js";

export interface ReflectionServices {
  readonly v1: ServiceImpl<typeof ServerReflection>;
  readonly v1alpha: ServiceImpl<typeof ServerReflectionV1alpha>;
}

/** The request of either version: both have this shape. */
interface ReflectionRequest {
  readonly host: string;
  readonly messageRequest:
    | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

/** The `message_response` oneof of either version. */
type Answer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * `files`: the files whose services the server serves (list_services names
 * their services); their imports are found through them. Add files clients
 * need to decode error details (google/rpc/error_details.proto) too.
 */
export function createReflectionServices(files: readonly DescFile[]): ReflectionServices {
  const index = createDescriptorIndex(files);
  return {
    v1: { serverReflectionInfo: reflectionStream(index, ServerReflectionResponseSchema) },
    v1alpha: { serverReflectionInfo: reflectionStream(index, ServerReflectionResponseSchemaV1alpha) },
  };
}

function reflectionStream<Response extends DescMessage>(index: DescriptorIndex, responseSchema: Response) {
  return async function* (requests: AsyncIterable<ReflectionRequest>) {
    const sent = new Set<string>();
    for await (const request of requests) {
      const init = { validHost: request.host, originalRequest: request, messageResponse: answer(index, request, sent) };
      // The same fields in both versions; `request` is already the version's own message.
      yield create(responseSchema, init as unknown as MessageInitShape<Response>);
    }
  };
}

function answer(index: DescriptorIndex, request: ReflectionRequest, sent: Set<string>): Answer {
  const files = (file: DescFile | undefined, what: string): Answer =>
    file === undefined
      ? notFound(what)
      : { case: "fileDescriptorResponse", value: { fileDescriptorProto: index.withDependencies(file, sent) } };
  const asked = request.messageRequest;
  switch (asked.case) {
    case "fileByFilename":
      return files(index.fileByName(asked.value), `file ${JSON.stringify(asked.value)}`);
    case "fileContainingSymbol":
      return files(index.fileBySymbol(asked.value), `symbol ${JSON.stringify(asked.value)}`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = asked.value;
      return files(
        index.fileByExtension(containingType, extensionNumber),
        `extension ${extensionNumber} of ${JSON.stringify(containingType)}`,
      );
    }
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbers(asked.value);
      if (numbers === undefined) return notFound(`message type ${JSON.stringify(asked.value)}`);
      return {
        case: "allExtensionNumbersResponse",
        value: { baseTypeName: asked.value, extensionNumber: [...numbers] },
      };
    }
    case "listServices":
      return { case: "listServicesResponse", value: { service: index.services.map((name) => ({ name })) } };
    default:
      return {
        case: "errorResponse",
        value: { errorCode: Code.InvalidArgument, errorMessage: "the request names no message_request" },
      };
  }
}

function notFound(what: string): Answer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } };
}

/** Serves both versions on `router`. */
export function registerReflectionServices(router: ConnectRouter, files: readonly DescFile[]): void {
  const services = createReflectionServices(files);
  router.service(ServerReflection, services.v1);
  router.service(ServerReflectionV1alpha, services.v1alpha);
}

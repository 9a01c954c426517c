// The files the gateway's reflection describes: its own API, the services it
// serves beside it (health, reflection), and google/rpc/error_details.proto,
// which clients need to decode the error details the API sends.
import type { DescFile } from "@bufbuild/protobuf";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { file_google_rpc_status } from "../../gen/google/rpc/status_pb.js";
import { file_grpc_reflection_v1_reflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { file_grpc_reflection_v1alpha_reflection } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { file_health_v1_health } from "../../gen/health/v1/health_pb.js";
import { file_permission_v1_permission } from "../../gen/permission/v1/permission_pb.js";

export const GATEWAY_DESCRIPTOR_FILES: readonly DescFile[] = [
  file_permission_v1_permission,
  file_health_v1_health,
  file_grpc_reflection_v1_reflection,
  file_grpc_reflection_v1alpha_reflection,
  file_google_rpc_error_details,
  file_google_rpc_status,
];

// The baseline of every "gateway vs baseline" ratio: a bare connect-node
// server for the same generated PermissionService that answers each RPC with
// one constant response, so what it costs is connect-node, HTTP and the
// encoding of the messages, nothing of ours. It serves gRPC over h2c and the
// Connect protocol over HTTP/1.1 as the gateway does, on two ports (the
// gateway's one-port sniffing is part of what the gateway costs). It runs in
// its own process, started the way the gateway is, so its RSS is measured
// alike.
//
//   tsx bench/baseline/server.ts --h2c-port=50051 --http1-port=50052
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import {
  AddLambdaPermissionResponseSchema,
  CreateRamPermissionResponseSchema,
  DeleteRamPermissionResponseSchema,
  GetLambdaPolicyResponseSchema,
  GetRamPermissionResponseSchema,
  ListRamPermissionsResponseSchema,
  PermissionService,
  PermissionStatus,
  PermissionType,
  RamPermissionSchema,
  RemoveLambdaPermissionResponseSchema,
} from "../../gen/permission/v1/permission_pb.js";

export interface BaselineServer {
  readonly h2cUrl: string;
  readonly http1Url: string;
  close(): Promise<void>;
}

export interface BaselineListenOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly h2cPort: number;
  readonly http1Port: number;
}

const statement =
  '{"Sid":"baseline","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction",' +
  '"Resource":"arn:aws:lambda:us-east-1:123456789012:function:demo"}';

const ramPermission = create(RamPermissionSchema, {
  arn: "arn:aws:ram:us-east-1:123456789012:permission/demo-permission",
  name: "demo-permission",
  version: 1,
  defaultVersion: true,
  resourceType: "ec2:Subnet",
  status: PermissionStatus.ATTACHABLE,
  permissionType: PermissionType.CUSTOMER_MANAGED,
  policyTemplate: '{"Effect":"Allow","Action":["ec2:DescribeSubnets"]}',
  creationTime: timestampFromDate(new Date("2024-01-01T00:00:00Z")),
  lastUpdatedTime: timestampFromDate(new Date("2024-01-01T00:00:00Z")),
});

/** Built once: the baseline does no per-call work of its own. */
export function createConstantService(): ServiceImpl<typeof PermissionService> {
  const removed = create(RemoveLambdaPermissionResponseSchema);
  const added = create(AddLambdaPermissionResponseSchema, { statement });
  const policy = create(GetLambdaPolicyResponseSchema, {
    policy: `{"Version":"2012-10-17","Id":"default","Statement":[${statement}]}`,
    revisionId: "00000000-0000-4000-8000-000000000000",
  });
  const deleted = create(DeleteRamPermissionResponseSchema, {
    returnValue: true,
    clientToken: "baseline",
    permissionStatus: PermissionStatus.DELETED,
  });
  const created = create(CreateRamPermissionResponseSchema, { permission: ramPermission, clientToken: "baseline" });
  const got = create(GetRamPermissionResponseSchema, { permission: ramPermission });
  const listed = create(ListRamPermissionsResponseSchema, { permissions: [ramPermission] });
  return {
    removeLambdaPermission: () => removed,
    addLambdaPermission: () => added,
    getLambdaPolicy: () => policy,
    deleteRamPermission: () => deleted,
    createRamPermission: () => created,
    getRamPermission: () => got,
    listRamPermissions: () => listed,
  };
}

export async function startBaselineServer(options: BaselineListenOptions): Promise<BaselineServer> {
  const handler = connectNodeAdapter({
    routes: (router) => router.service(PermissionService, createConstantService()),
  });
  const h2c = http2.createServer(handler);
  const http1 = http.createServer(handler);
  // close() waits for open HTTP/2 sessions; a load generator's may stay open.
  const sessions = new Set<http2.ServerHttp2Session>();
  h2c.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const h2cPort = await listen(h2c, options.host, options.h2cPort);
  const http1Port = await listen(http1, options.host, options.http1Port);
  return {
    h2cUrl: `http://${options.host}:${h2cPort}`,
    http1Url: `http://${options.host}:${http1Port}`,
    async close() {
      const closed = Promise.all([closeServer(h2c), closeServer(http1)]);
      http1.closeAllConnections();
      for (const session of sessions) session.destroy();
      await closed;
    },
  };
}

async function listen(server: http.Server | http2.Http2Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: http.Server | http2.Http2Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** `--h2c-port=N --http1-port=N [--host=H]`; a missing port means 0 (any free one). */
export function parseBaselineArgs(argv: readonly string[]): BaselineListenOptions {
  const values = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--(host|h2c-port|http1-port)=(.*)$/.exec(arg);
    if (match === null)
      throw new Error(
        `baseline server: unknown argument ${JSON.stringify(arg)} (accepts --host=, --h2c-port=, --http1-port=)`,
      );
    values.set(match[1] ?? "", match[2] ?? "");
  }
  const port = (name: string): number => {
    const text = values.get(name) ?? "0";
    const value = Number(text);
    if (!/^\d+$/.test(text) || value > 65535)
      throw new Error(`baseline server: --${name}=${JSON.stringify(text)} is not a port (0..65535)`);
    return value;
  };
  return { host: values.get("host") ?? "127.0.0.1", h2cPort: port("h2c-port"), http1Port: port("http1-port") };
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint) {
  const server = await startBaselineServer(parseBaselineArgs(process.argv.slice(2)));
  process.stderr.write(
    `${JSON.stringify({ message: "baseline listening", h2cUrl: server.h2cUrl, http1Url: server.http1Url })}\n`,
  );
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

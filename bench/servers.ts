// The servers under test: the gateway as `npm start` runs it, configured by
// environment variables only, and the bare connect-node baseline. Each has a
// gRPC (h2c) URL and a Connect (HTTP/1.1) URL; the gateway serves both on one
// port, the baseline on two.
import { freePort } from "../test/support/redis-server.js";
import { baselineCommand } from "./processes/baseline-command.js";
import { commandLine, cpuProfileFlags, type LaunchCommand } from "./processes/launch.js";
import { waitUntilServing } from "./processes/probe.js";
import { spawnService, type ServiceProcess } from "./processes/service-process.js";

export interface ServerUnderTest {
  readonly label: string;
  readonly kind: "gateway" | "baseline";
  readonly grpcUrl: string;
  readonly connectUrl: string;
  /** The serving process, for RSS. */
  readonly pid: number;
  readonly process: ServiceProcess;
  stop(): Promise<void>;
}

export interface GatewayLaunch {
  readonly root: string;
  readonly start: LaunchCommand;
  readonly label: string;
  /** On top of HOST, PORT and LOG_LEVEL=warn. */
  readonly env?: Readonly<Record<string, string>>;
  /** When set, the gateway runs under V8's CPU profiler, which writes here at exit. */
  readonly cpuProfDir?: string | undefined;
  /** Headers a readiness probe needs (authentication). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly readyTimeoutMs?: number;
}

const host = "127.0.0.1";

export async function startGateway(launch: GatewayLaunch): Promise<ServerUnderTest> {
  const port = await freePort();
  const url = `http://${host}:${port}`;
  const extraFlags = launch.cpuProfDir === undefined ? [] : cpuProfileFlags(launch.cpuProfDir);
  const child = spawnService({
    label: launch.label,
    root: launch.root,
    argv: commandLine(launch.root, launch.start, extraFlags),
    env: { ...launch.start.env, HOST: host, PORT: String(port), LOG_LEVEL: "warn", ...launch.env },
  });
  return ready(child, { label: launch.label, kind: "gateway", grpcUrl: url, connectUrl: url }, launch);
}

export async function startBaseline(
  root: string,
  gateway: LaunchCommand,
  label = "baseline",
): Promise<ServerUnderTest> {
  const command = await baselineCommand(root, gateway);
  const [h2cPort, http1Port] = [await freePort(), await freePort()];
  const child = spawnService({
    label,
    root,
    argv: [...commandLine(root, command), `--host=${host}`, `--h2c-port=${h2cPort}`, `--http1-port=${http1Port}`],
    env: command.env,
  });
  return ready(
    child,
    { label, kind: "baseline", grpcUrl: `http://${host}:${h2cPort}`, connectUrl: `http://${host}:${http1Port}` },
    { readyTimeoutMs: 30_000 },
  );
}

async function ready(
  child: ServiceProcess,
  server: Pick<ServerUnderTest, "label" | "kind" | "grpcUrl" | "connectUrl">,
  options: { readonly readyTimeoutMs?: number; readonly headers?: Readonly<Record<string, string>> },
): Promise<ServerUnderTest> {
  try {
    await waitUntilServing(server.connectUrl, {
      timeoutMs: options.readyTimeoutMs ?? 60_000,
      requireOk: false,
      abandoned: () => child.exited(),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
  } catch (error) {
    await child.stop();
    throw new Error(`${server.label} did not start: ${(error as Error).message}\n${child.output()}`, { cause: error });
  }
  return { ...server, pid: await child.servingPid(), process: child, stop: () => child.stop() };
}

#!/usr/bin/env node
// `permission-gateway call <Method> '<json>'` (npm run call -- ...): one RPC
// from the command line, with the error's google.rpc details decoded, which
// buf curl prints only as base64. The argv and stdio side of src/cli/call.ts.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { JsonValue } from "@bufbuild/protobuf";
import { exitWhenDone, isEntryPoint } from "../entry-point.js";
import { errorMessage } from "../util/error-message.js";
import {
  PROTOCOLS,
  UsageError,
  callMethod,
  findMethod,
  methodNames,
  parseHeader,
  parseTimeout,
  type CallOptions,
  type Protocol,
} from "./call.js";

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export function cliHelpText(): string {
  return `Usage: permission-gateway call <Method> ['<request JSON>'] [options]
       permission-gateway methods

Calls one RPC of a permission-gateway and prints the response as JSON on
stdout, or the error as JSON on stderr: its gRPC code, message and details
(ErrorInfo reason/domain/metadata, BadRequest field violations, RetryInfo,
PreconditionFailure, ResourceInfo, QuotaFailure, ...) decoded.
<Method> is GetLambdaPolicy, or its full name permission.v1.PermissionService/GetLambdaPolicy;
the request defaults to {}.

Options:
  --url <url>            the gateway (default http://localhost:8080)
  --protocol <p>         connect (default), grpc (HTTP/2) or grpc-web
  --token <token>        send "authorization: Bearer <token>" (AUTH_MODE=jwt or api-key)
  --token-file <file>    the same, the token read from a file (keeps it out of ps and shell history)
  -H, --header <h>       an extra request header "name: value" (repeatable), e.g. "x-caller-id: ci"
  --cert <file>          client certificate (PEM) for mutual TLS (AUTH_MODE=mtls), with --key
  --key <file>           its private key (PEM)
  --cacert <file>        the CA (PEM) that signed the gateway's certificate
  --timeout <duration>   the call's deadline, e.g. 500ms or 5s (default: none)
  -v, --verbose          also print the response headers and trailers on stderr
  -h, --help             this text

Exit status: 0 the call succeeded, 1 it failed (the error is on stderr),
2 the command line is wrong.
`;
}

/** Runs the command; resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    if (!(error instanceof UsageError) && !isParseArgsError(error)) throw error;
    io.stderr(`permission-gateway: ${errorMessage(error)}\nRun with --help for the usage.\n`);
    return 2;
  }
}

function isParseArgsError(error: unknown): boolean {
  return error instanceof TypeError && String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS");
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: "string", default: "http://localhost:8080" },
      protocol: { type: "string", default: "connect" },
      token: { type: "string" },
      "token-file": { type: "string" },
      header: { type: "string", short: "H", multiple: true, default: [] },
      cert: { type: "string" },
      key: { type: "string" },
      cacert: { type: "string" },
      timeout: { type: "string" },
      verbose: { type: "boolean", short: "v", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout(cliHelpText());
    return 0;
  }
  const [command, methodName, requestJson = "{}", ...extra] = positionals;
  if (command === "methods" && methodName === undefined) {
    io.stdout(methodNames().join("\n") + "\n");
    return 0;
  }
  if (command !== "call") throw new UsageError(`unknown command "${command ?? ""}": expected call or methods`);
  if (methodName === undefined) throw new UsageError("call needs a method, e.g. call GetLambdaPolicy '{...}'");
  if (extra.length > 0)
    throw new UsageError(`unexpected argument "${extra[0]}": quote the request JSON as one argument`);
  if (!(PROTOCOLS as readonly string[]).includes(values.protocol))
    throw new UsageError(`--protocol "${values.protocol}" is not valid: expected ${PROTOCOLS.join(", ")}`);
  if (values.token !== undefined && values["token-file"] !== undefined)
    throw new UsageError("--token and --token-file cannot both be given");

  const options: CallOptions = {
    baseUrl: values.url,
    protocol: values.protocol as Protocol,
    bearerToken: values.token ?? readToken(values["token-file"]),
    headers: values.header.map(parseHeader),
    tls: {
      ...(values.cert === undefined ? {} : { certFile: values.cert }),
      ...(values.key === undefined ? {} : { keyFile: values.key }),
      ...(values.cacert === undefined ? {} : { caFile: values.cacert }),
    },
    timeoutMs: values.timeout === undefined ? undefined : parseTimeout(values.timeout),
  };
  const outcome = await callMethod(findMethod(methodName), requestJson, options);
  if (!outcome.ok) {
    io.stderr(json(outcome.error));
    return 1;
  }
  if (values.verbose) {
    for (const [name, value] of outcome.headers) io.stderr(`< ${name}: ${value}\n`);
    for (const [name, value] of outcome.trailers) io.stderr(`< (trailer) ${name}: ${value}\n`);
  }
  io.stdout(json(outcome.response));
  return 0;
}

function readToken(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`--token-file ${JSON.stringify(file)} cannot be read: ${errorMessage(error)}`);
  }
  const token = text.trim();
  if (token === "") throw new UsageError(`--token-file ${JSON.stringify(file)} is empty`);
  return token;
}

function json(value: JsonValue): string {
  return JSON.stringify(value, null, 2) + "\n";
}

if (isEntryPoint(import.meta.url)) exitWhenDone("permission-gateway", runCli(process.argv.slice(2)));

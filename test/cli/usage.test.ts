// `permission-gateway` (src/cli/main.ts) in-process: each command-line
// mistake exits 2 with one line naming the option or argument and its rule,
// before any call is made; --help and `methods` answer on stdout.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../../src/cli/main.js";

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

test("command-line mistakes exit 2 with one line naming the option or argument", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["call", "GetLambdaPolicy", "--protocol", "http3"],
      /--protocol "http3" is not valid: expected connect, grpc, grpc-web/,
    ],
    [
      ["call", "GetLambdaPolicy", "--timeout", "5"],
      /--timeout "5" is not valid: expected a positive whole number with ms or s/,
    ],
    [
      ["call", "GetPolicy"],
      /unknown method "GetPolicy": expected one of permission\.v1\.PermissionService\/RemoveLambdaPermission/,
    ],
    [
      ["call", "grpc.health.v1.Health/Watch"],
      /method "grpc\.health\.v1\.Health\/Watch" is server_streaming: only unary methods can be called/,
    ],
    [["call", "GetLambdaPolicy", "{nope"], /the request is not a valid permission\.v1\.GetLambdaPolicyRequest in JSON/],
    [["call", "GetLambdaPolicy", '{"functionNam":"demo"}'], /functionNam/],
    [["call", "GetLambdaPolicy", "{}", "{}"], /unexpected argument "{}": quote the request JSON as one argument/],
    [["call", "GetLambdaPolicy", "-H", "no-colon"], /--header "no-colon" is not valid: expected "name: value"/],
    [["call", "GetLambdaPolicy", "--cert", "/nonexistent/c.pem"], /--cert "\/nonexistent\/c\.pem" cannot be read/],
    [["call", "GetLambdaPolicy", "--token-file", "/nonexistent/t"], /--token-file "\/nonexistent\/t" cannot be read/],
    [["call", "GetLambdaPolicy", "--token", "a", "--token-file", "b"], /--token and --token-file cannot both be given/],
    [
      ["call", "GetLambdaPolicy", "--url", "ftp://x"],
      /--url "ftp:\/\/x" is not valid: expected an http:\/\/ or https:\/\/ URL/,
    ],
    [["call", "GetLambdaPolicy", "--url", "localhost:8080"], /--url "localhost:8080" is not valid/],
    [["call"], /call needs a method/],
    [["fetch"], /unknown command "fetch": expected call or methods/],
    [["call", "GetLambdaPolicy", "--bogus"], /Unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    const run = await cli(...args);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, message, args.join(" "));
    assert.match(run.stderr, /^permission-gateway: [^\n]*\nRun with --help for the usage\.\n$/, args.join(" "));
    assert.equal(run.stdout, "");
  }
});

test("--help and methods answer on stdout with exit 0", async () => {
  const help = await cli("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: permission-gateway call <Method>/);
  for (const option of [
    "--url",
    "--protocol",
    "--token",
    "--token-file",
    "--header",
    "--cert",
    "--key",
    "--cacert",
    "--timeout",
  ])
    assert.ok(help.stdout.includes(`${option} `), option);
  const methods = await cli("methods");
  assert.equal(methods.code, 0);
  assert.ok(methods.stdout.split("\n").includes("permission.v1.PermissionService/ListRamPermissions"));
  assert.ok(methods.stdout.split("\n").includes("grpc.health.v1.Health/Check"));
});

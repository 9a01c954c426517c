// The browser test's web page: docs/clients.md's web client bundled with the
// page harness by esbuild into a temp dir (no bundle is committed), served
// from its own loopback HTTP server, that is from another origin than the
// gateway's.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import ts from "typescript";
import { docBlock, repoRoot } from "../support/readme.js";

export interface WebPage {
  /** Holds index.html and page.js. */
  readonly dir: string;
  close(): Promise<void>;
}

export interface PageServer {
  /** e.g. "http://127.0.0.1:41234": the page's origin. */
  readonly origin: string;
  close(): Promise<void>;
}

const readmeModule = "readme:web-client.ts";
const html =
  '<!doctype html>\n<meta charset="utf-8">\n<title>permission-gateway browser test</title>\n<script type="module" src="/page.js"></script>\n';

/** docs/clients.md's "From a web page" block: a module written as if it lived at the repository root. */
function readmeWebClient(): Promise<string> {
  return docBlock("docs/clients.md", "ts", "@connectrpc/connect-web");
}

/**
 * Type errors of docs/clients.md's web client under the project's strict options
 * and the browser's lib (esbuild strips types without checking them).
 */
export async function typecheckWebClient(): Promise<string[]> {
  const root = fileURLToPath(repoRoot);
  const file = join(root, "web-client.ts");
  const source = await readmeWebClient();
  const options: ts.CompilerOptions = {
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    verbatimModuleSyntax: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
    types: [],
    skipLibCheck: true,
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (name) => (name === file ? source : readFile(name));
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram({ rootNames: [file], options, host });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

/** Bundles the harness with docs/clients.md's web client, as a module that lives at the repository root. */
export async function bundleWebPage(): Promise<WebPage> {
  const root = fileURLToPath(repoRoot);
  const webClient = await readmeWebClient();
  // The web client's imports (./gen/..., @connectrpc/connect-web) resolve from the repository root.
  const fromReadme: Plugin = {
    name: "readme-web-client",
    setup(b) {
      b.onResolve({ filter: /^readme:/ }, (args) => ({ path: args.path, namespace: "readme" }));
      b.onLoad({ filter: /.*/, namespace: "readme" }, () => ({ contents: webClient, loader: "ts", resolveDir: root }));
    },
  };
  const dir = await mkdtemp(join(tmpdir(), "pg-web-page-"));
  await build({
    stdin: {
      contents: `import { installPage } from "./test/browser/page/harness.ts";\nimport * as webClient from "${readmeModule}";\ninstallPage(webClient);\n`,
      resolveDir: root,
      loader: "ts",
      sourcefile: "page-entry.ts",
    },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outfile: join(dir, "page.js"),
    plugins: [fromReadme],
    logLevel: "silent",
  });
  await writeFile(join(dir, "index.html"), html);
  return { dir, close: () => rm(dir, { recursive: true, force: true }) };
}

/** Serves index.html and page.js of `page` on 127.0.0.1, port 0. */
export async function servePage(page: WebPage): Promise<PageServer> {
  const types: Record<string, string> = { "/": "text/html", "/page.js": "text/javascript" };
  const server = http.createServer((req, res) => {
    const type = types[req.url ?? ""];
    if (type === undefined) {
      res.writeHead(404).end();
      return;
    }
    void readFile(join(page.dir, req.url === "/" ? "index.html" : "page.js")).then(
      (body) => res.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

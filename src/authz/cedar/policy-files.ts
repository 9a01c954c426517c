// Reads the policy source (AUTHZ_POLICIES): one .cedar file, or every .cedar
// file below a directory, in a stable order so that policy IDs derived from
// file names and positions do not change between loads.
//
// Names starting with a dot are skipped and links to files are followed:
// a Kubernetes ConfigMap volume holds each file twice, in a hidden
// timestamped folder and as a link to it, and must count once.
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, relative, sep } from "node:path";
import { AuthzPolicyError } from "../authorizer.js";

export interface PolicyFile {
  /** The file's path as configured (the directory joined with its name), for messages. */
  readonly path: string;
  /** Its path inside the configured directory (or its base name), the stem of derived policy IDs. */
  readonly name: string;
  readonly text: string;
}

export async function readPolicyFiles(source: string): Promise<PolicyFile[]> {
  const info = await stat(source).catch((error: NodeJS.ErrnoException) => {
    throw new AuthzPolicyError(source, [`cannot be read: ${error.code ?? error.message}`]);
  });
  if (!info.isDirectory()) return [await readPolicyFile(source, basename(source))];
  const entries = await readdir(source, { recursive: true, withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    const name = relative(source, join(entry.parentPath, entry.name));
    if (!name.endsWith(".cedar") || name.split(sep).some((part) => part.startsWith("."))) continue;
    if (entry.isFile() || (entry.isSymbolicLink() && (await isFile(join(source, name))))) names.push(name);
  }
  if (names.length === 0) throw new AuthzPolicyError(source, ["the directory holds no .cedar file"]);
  return Promise.all(names.sort().map((name) => readPolicyFile(join(source, name), name)));
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false, // a dangling link: nothing to read
  );
}

async function readPolicyFile(path: string, name: string): Promise<PolicyFile> {
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new AuthzPolicyError(path, [`cannot be read: ${error.code ?? error.message}`]);
  });
  return { path, name, text };
}

// Reads the policy source (AUTHZ_POLICIES): one .cedar file, or every .cedar
// file below a directory, in a stable order so that policy IDs derived from
// file names and positions do not change between loads.
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, relative } from "node:path";
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
  const names = entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".cedar"))
    .map((entry) => relative(source, join(entry.parentPath, entry.name)))
    .sort();
  if (names.length === 0) throw new AuthzPolicyError(source, ["the directory holds no .cedar file"]);
  return Promise.all(names.map((name) => readPolicyFile(join(source, name), name)));
}

async function readPolicyFile(path: string, name: string): Promise<PolicyFile> {
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new AuthzPolicyError(path, [`cannot be read: ${error.code ?? error.message}`]);
  });
  return { path, name, text };
}

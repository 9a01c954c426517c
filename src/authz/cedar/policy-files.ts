// Reads the policy source (AUTHZ_POLICIES): one .cedar file, or every .cedar
// file below a directory, in a stable order so that policy IDs derived from
// file names and positions do not change between loads.
//
// Names starting with a dot are skipped and links to files are followed:
// a Kubernetes ConfigMap volume holds each file twice, in a hidden
// timestamped folder and as a link to it, and must count once. Hidden
// folders are not even entered: kubelet deletes the previous timestamped
// folder right after an update, and a walk inside it would fail.
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
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
  if (!info.isDirectory()) return [(await readPolicyFile(source, basename(source), false)) as PolicyFile];
  const names = await cedarFilesBelow(source, "");
  const files = await Promise.all(names.sort().map((name) => readPolicyFile(join(source, name), name, true)));
  const present = files.filter((file) => file !== undefined);
  if (present.length === 0) throw new AuthzPolicyError(source, ["the directory holds no .cedar file"]);
  return present;
}

/** The .cedar files (or links to files) below `root`/`dir`, as paths inside `root`; names starting with a dot skipped. */
async function cedarFilesBelow(root: string, dir: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const name = join(dir, entry.name);
    if (entry.isDirectory()) names.push(...(await cedarFilesBelow(root, name)));
    else if (!name.endsWith(".cedar")) continue;
    else if (entry.isFile() || (entry.isSymbolicLink() && (await isFile(join(root, name))))) names.push(name);
  }
  return names;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false, // a dangling link: nothing to read
  );
}

/**
 * A file and its text. A file the directory walk listed may be gone by now
 * (kubelet removes a key's link just after an update): that one is
 * undefined, as if it had not been listed.
 */
async function readPolicyFile(path: string, name: string, listed: boolean): Promise<PolicyFile | undefined> {
  try {
    return { path, name, text: await readFile(path, "utf8") };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (listed && code === "ENOENT") return undefined;
    throw new AuthzPolicyError(path, [`cannot be read: ${code ?? String(error)}`]);
  }
}

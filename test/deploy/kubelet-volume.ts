// A directory laid out and updated the way kubelet's atomic writer does it
// for ConfigMap and Secret volumes:
//   ..2026_12_08_00_37_00.000000001/<key>   the data of one version
//   ..data -> ..2026_12_08_00_37_00.000000001
//   <key> -> ..data/<key>                     what the container sees
// An update writes a new timestamped directory, points a temporary link at
// it, renames that link over ..data (one atomic step), adds and removes the
// per-key links, and deletes the old directory. Every path the gateway was
// given stays the same; only what it resolves to changes.
import { mkdir, readdir, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

export type VolumeData = Readonly<Record<string, string>>;

let versions = 0;

/** A fresh timestamped directory name, unique in the process. */
function versionName(): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, "_").replace(/\..*$/, "");
  versions += 1;
  return `..${stamp}.${String(versions).padStart(9, "0")}`;
}

async function writeVersion(dir: string, data: VolumeData): Promise<string> {
  const version = versionName();
  await mkdir(join(dir, version), { recursive: true });
  for (const [key, text] of Object.entries(data)) await writeFile(join(dir, version, key), text);
  return version;
}

/** Creates `dir` holding `data`, as kubelet mounts it. */
export async function createKubeletVolume(dir: string, data: VolumeData): Promise<void> {
  await mkdir(dir, { recursive: true });
  await symlink(await writeVersion(dir, data), join(dir, "..data"));
  for (const key of Object.keys(data)) await symlink(join("..data", key), join(dir, key));
}

/** Replaces the volume's data with `data` the way kubelet does: a rename of the ..data link. */
export async function updateKubeletVolume(dir: string, data: VolumeData): Promise<void> {
  const previous = await readlink(join(dir, "..data"));
  const before = new Set(await readdir(join(dir, previous)));
  const version = await writeVersion(dir, data);
  await symlink(version, join(dir, "..data_tmp"));
  await rename(join(dir, "..data_tmp"), join(dir, "..data"));
  for (const key of Object.keys(data)) if (!before.has(key)) await symlink(join("..data", key), join(dir, key));
  for (const key of before) if (!(key in data)) await rm(join(dir, key));
  await rm(join(dir, previous), { recursive: true });
}

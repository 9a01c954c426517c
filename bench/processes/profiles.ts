// Names V8's CPU profiles after the gateway that wrote them: node writes
// CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile when a process exits.
import { readdir, rename } from "node:fs/promises";
import { join } from "node:path";

/** Renames the profiles of known pids to <label>.<pid>.<thread>.cpuprofile; returns every profile path. */
export async function labelProfiles(dir: string, labels: ReadonlyMap<number, string>): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const paths: string[] = [];
  for (const name of names) {
    const match = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(name);
    const label = match === null ? undefined : labels.get(Number(match[1]));
    if (match === null || label === undefined) {
      if (name.endsWith(".cpuprofile")) paths.push(join(dir, name));
      continue;
    }
    const slug = label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "");
    const target = join(dir, `${slug}.${match[1]}.${match[2]}.cpuprofile`);
    await rename(join(dir, name), target);
    paths.push(target);
  }
  return paths.sort();
}

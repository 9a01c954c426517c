// Where the shipped Cedar schema is. The code runs from src/ under tsx and
// from a compiled dist/src/, so the schema is found from the package root
// (the nearest folder above this module with a package.json), not from a
// path relative to this file.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The nearest folder at or above `moduleUrl`'s folder that holds a package.json. */
export function packageRootOf(moduleUrl: string): string {
  const start = dirname(fileURLToPath(moduleUrl));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json in ${start} or any folder above it`);
  }
}

/** authz/schema.cedarschema of the package this module belongs to. */
export function shippedSchemaFile(moduleUrl: string = import.meta.url): string {
  return join(packageRootOf(moduleUrl), "authz", "schema.cedarschema");
}

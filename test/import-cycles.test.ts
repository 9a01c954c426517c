// No import cycle between the files of src/, counting every kind of import:
// value, `import type`, re-exports and dynamic `import()`. A type-only or
// lazy edge still ties two files' designs together, so it counts too. The
// imports are read with TypeScript's own pre-processor (what tsc itself uses
// to find a file's dependencies), not with a regular expression.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));
const src = join(root, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Each file's local imports, as absolute paths of files in src/. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const targets = importedFiles
      .map(({ fileName }) => fileName)
      .filter((name) => name.startsWith("."))
      .map((name) => resolve(dirname(file), name.replace(/\.js$/, ".ts")))
      .filter((path) => known.has(path));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The strongly connected components with more than one file (Tarjan). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next);
    next += 1;
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(relative(root, member));
    } while (member !== file);
    if (component.length > 1) found.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

/**
 * Cycles known and not yet broken, each with its reason. An entry that no
 * longer forms a cycle fails the test too, so the list only shrinks.
 */
const KNOWN_CYCLES: readonly (readonly string[])[] = [
  // tracing.ts loads span-tracing.ts lazily (OpenTelemetry only when tracing
  // is configured), and span-tracing.ts takes the Tracing types and helpers
  // back from it. Outside the idempotency work that found it: left for the
  // owner of src/observability (move the shared types into their own file).
  ["src/observability/span-tracing.ts", "src/observability/tracing.ts"],
];

test("no import cycle between the files of src/ (type-only and dynamic imports included)", () => {
  const files = sourceFiles(src);
  const graph = importGraph(files);
  assert.ok(files.length > 100, "the walk found the source files");
  assert.ok(
    [...graph.values()].some((targets) => targets.length > 0),
    "the walk found imports",
  );
  assert.deepEqual(cycles(graph), KNOWN_CYCLES);
  assert.ok(
    cycles(graph).every((cycle) => !cycle.some((file) => file.startsWith("src/idempotency/"))),
    "no cycle in src/idempotency",
  );
});

test("the cycle finder finds a cycle through a type-only and a dynamic import", () => {
  const a = join(src, "a.ts");
  const b = join(src, "b.ts");
  const c = join(src, "c.ts");
  const graph = new Map([
    [a, [b]],
    [b, [c]],
    [c, [a]],
  ]);
  assert.deepEqual(cycles(graph), [["src/a.ts", "src/b.ts", "src/c.ts"]]);
  const sources = ['import type { B } from "./b.js";', 'export const c = await import("./c.js");'];
  const imported = sources.map((text) => ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName));
  assert.deepEqual(imported, [["./b.js"], ["./c.js"]]);
});

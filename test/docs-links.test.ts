// Every relative link of README.md and docs/*.md points at a file of the
// repository, and every #anchor at a heading of its file, by GitHub's rules
// for heading anchors: so a section that moves cannot leave a dead link.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readDoc, repoRoot } from "./support/readme.js";

const root = fileURLToPath(repoRoot);
const files = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

/** The text of `markdown` outside fenced code blocks and inline code. */
function prose(markdown: string): string[] {
  let inCode = false;
  const lines: string[] = [];
  for (const line of markdown.split("\n")) {
    if (line.trimStart().startsWith("```")) inCode = !inCode;
    else if (!inCode) lines.push(line.replace(/`[^`]*`/g, (code) => (code.includes("](") ? "" : code)));
  }
  return lines;
}

/** GitHub's anchor of each heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(markdown)) {
    const heading = /^#{1,6} (.*)$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\-_ ]/gu, "")
      .replaceAll(" ", "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

test("GitHub's heading anchors, as the links below need them", () => {
  assert.deepEqual(
    [
      ...headingAnchors(
        "# Set-up: two commands\n## `buf curl` with authentication: `--reflect-header`\n## Faults\n## Faults",
      ),
    ],
    ["set-up-two-commands", "buf-curl-with-authentication---reflect-header", "faults", "faults-1"],
  );
});

for (const file of files) {
  test(`${file}: every relative link and #anchor resolves`, async () => {
    const text = await readDoc(file);
    const links = prose(text).flatMap((line) => [...line.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? ""));
    assert.ok(file !== "README.md" || links.length > 0, "the README links to its documents");
    for (const link of links) {
      if (/^[a-z]+:/.test(link)) continue;
      const [path = "", anchor] = link.split("#");
      const target = path === "" ? file : normalize(join(dirname(file), path));
      assert.ok(existsSync(join(root, target)), `${file}: ${link}: no file ${target}`);
      if (anchor !== undefined) {
        assert.ok(target.endsWith(".md"), `${file}: ${link}: an anchor into a file that is not Markdown`);
        const anchors = headingAnchors(await readDoc(target));
        assert.ok(anchors.has(anchor), `${file}: ${link}: ${target} has no heading with the anchor #${anchor}`);
      }
    }
  });
}

// The README's code blocks and paragraphs, so tests run what the README shows rather than
// a copy of it that could drift.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

export const repoRoot = new URL("../../", import.meta.url);

function readReadme(): Promise<string> {
  return readFile(new URL("README.md", repoRoot), "utf8");
}

/** The paragraph (text up to the next blank line) that starts with `start`. */
export async function readmeParagraph(start: string): Promise<string> {
  const text = await readReadme();
  const at = text.indexOf(`\n${start}`);
  assert.ok(at >= 0, `the README has a paragraph starting ${start}`);
  return text.slice(at + 1).split("\n\n")[0] ?? "";
}

/** The one fenced block of `language` that contains `marker`. */
export async function readmeBlock(language: string, marker: string): Promise<string> {
  const text = await readReadme();
  const fence = new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g");
  const blocks = [...text.matchAll(fence)].map((m) => m[1] ?? "").filter((b) => b.includes(marker));
  assert.equal(blocks.length, 1, `the README has one \`\`\`${language} block with ${marker}`);
  return blocks[0] ?? "";
}

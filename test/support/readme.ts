// The README's code blocks, so tests run what the README shows rather than
// a copy of it that could drift.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

export const repoRoot = new URL("../../", import.meta.url);

/** The one fenced block of `language` that contains `marker`. */
export async function readmeBlock(language: string, marker: string): Promise<string> {
  const readme = await readFile(new URL("README.md", repoRoot), "utf8");
  const fence = new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g");
  const blocks = [...readme.matchAll(fence)].map((m) => m[1] ?? "").filter((b) => b.includes(marker));
  assert.equal(blocks.length, 1, `the README has one \`\`\`${language} block with ${marker}`);
  return blocks[0] ?? "";
}

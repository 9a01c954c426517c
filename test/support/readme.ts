// The README's code blocks and paragraphs, so tests run what the README shows rather than
// a copy of it that could drift.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

export const repoRoot = new URL("../../", import.meta.url);

function readReadme(): Promise<string> {
  return readFile(new URL("README.md", repoRoot), "utf8");
}

/**
 * The section of `markdown` under `heading` (e.g. "### Authorization"), from
 * that line up to the next heading of its level or above. Lines in code
 * blocks are not headings: a shell block's "# comment" must not end it.
 */
export function markdownSection(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `the README has a section "${heading}"`);
  const level = heading.indexOf(" ");
  let inCode = false;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.startsWith("```")) inCode = !inCode;
    const hashes = /^(#+) /.exec(line)?.[1]?.length;
    if (!inCode && hashes !== undefined && hashes <= level) {
      end = i;
      break;
    }
  }
  return lines.slice(start, end).join("\n");
}

/** The README's section under `heading`; see markdownSection. */
export async function readmeSection(heading: string): Promise<string> {
  return markdownSection(await readReadme(), heading);
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

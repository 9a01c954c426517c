// The sections, code blocks and paragraphs of the README and of docs/, so
// tests run what the documentation shows rather than a copy of it that
// could drift.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

export const repoRoot = new URL("../../", import.meta.url);

export function readReadme(): Promise<string> {
  return readDoc("README.md");
}

/** The document that holds the generated configuration table (npm run docs:config). */
export const CONFIGURATION_DOC = "docs/configuration.md";

/** A documentation file by its path in the repository: "README.md", "docs/clients.md". */
export function readDoc(path: string): Promise<string> {
  return readFile(new URL(path, repoRoot), "utf8");
}

/**
 * The section of `text` under `heading` (a whole line, e.g. "## Authentication"
 * or "### Mutual TLS"), from that line to the next heading of its level or
 * above; a `#` line inside a code block is not a heading.
 */
export function sectionOf(text: string, heading: string): string {
  const lines = text.split("\n");
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `the text has the heading "${heading}"`);
  const level = heading.indexOf(" ");
  let inCode = false;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.trimStart().startsWith("```")) inCode = !inCode;
    const hashes = /^(#+) /.exec(line)?.[1]?.length;
    if (!inCode && hashes !== undefined && hashes <= level) {
      end = i;
      break;
    }
  }
  return lines.slice(start, end).join("\n");
}

/** The README's section under `heading`; see sectionOf. */
export async function readmeSection(heading: string): Promise<string> {
  return sectionOf(await readReadme(), heading);
}

/** The section under `heading` of the documentation file `path` ("docs/security.md"); see sectionOf. */
export async function docSection(path: string, heading: string): Promise<string> {
  return sectionOf(await readDoc(path), heading);
}

/** The fenced code blocks of `text` in language `lang` ("" for unlabelled), without their fences and indentation. */
export function codeBlocks(text: string, lang: string): string[] {
  const blocks: { lang: string; lines: string[] }[] = [];
  let open: { lang: string; indent: string; lines: string[] } | undefined;
  for (const line of text.split("\n")) {
    const fence = /^( *)```(\w*)$/.exec(line);
    if (open === undefined) {
      if (fence !== null) open = { indent: fence[1] ?? "", lang: fence[2] ?? "", lines: [] };
    } else if (fence !== null && fence[2] === "" && fence[1] === open.indent) {
      blocks.push(open);
      open = undefined;
    } else {
      open.lines.push(line.startsWith(open.indent) ? line.slice(open.indent.length) : line);
    }
  }
  return blocks.filter((block) => block.lang === lang).map((block) => block.lines.join("\n"));
}

/** The paragraph (text up to the next blank line) of the documentation file `path` that starts with `start`. */
export async function docParagraph(path: string, start: string): Promise<string> {
  const text = await readDoc(path);
  const at = text.indexOf(`\n${start}`);
  assert.ok(at >= 0, `${path} has a paragraph starting ${start}`);
  return text.slice(at + 1).split("\n\n")[0] ?? "";
}

/** The one fenced block of `language` in the README that contains `marker`. */
export function readmeBlock(language: string, marker: string): Promise<string> {
  return docBlock("README.md", language, marker);
}

/** The one fenced block of `language` in the documentation file `path` that contains `marker`. */
export async function docBlock(path: string, language: string, marker: string): Promise<string> {
  const blocks = codeBlocks(await readDoc(path), language).filter((block) => block.includes(marker));
  assert.equal(blocks.length, 1, `${path} has one \`\`\`${language} block with ${marker}`);
  return blocks[0] ?? "";
}

/** The README configuration table row of a help line, as the table writes it. */
export function readmeRow(help: { name: string; default: string; accepted: string; description: string }): string {
  return `| \`${help.name}\` | ${help.default} | ${help.accepted.replaceAll("|", "\\|")} | ${help.description} |`;
}

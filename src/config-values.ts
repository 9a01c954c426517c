// The configuration schema: one declarative line per environment variable
// (name, kind, accepted values, default, help, section), and the pure
// functions every section parses its lines with. The words a line accepts are
// written once: --help, the configuration table and the ConfigError all print them.

export type Env = Readonly<Record<string, string | undefined>>;

/** One line of --help and of the configuration table (docs/configuration.md). */
export interface EnvHelp {
  readonly name: string;
  readonly accepted: string;
  readonly default: string;
  readonly description: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError" as const;
  constructor(
    readonly variable: string,
    readonly accepted: string,
    readonly value: string,
  ) {
    super(`${variable}=${JSON.stringify(value)} is not valid: expected ${accepted}`);
  }
}

/**
 * A group of settings: a heading of --help and of the configuration table. A
 * variable of a security-sensitive section that does not apply stops
 * start-up, since whoever set it believes it protects something; one of
 * another section is warned about.
 */
export interface Section {
  readonly title: string;
  readonly securitySensitive: boolean;
  /** Where the docs explain the section (a markdown link relative to docs/, where the table lives), if anywhere. */
  readonly see?: string;
}

export const SECTIONS = {
  server: { title: "Server", securitySensitive: false },
  limits: { title: "Limits", securitySensitive: false, see: "[Reliability](idempotency.md#reliability)" },
  authentication: {
    title: "Authentication and rate limit",
    securitySensitive: true,
    see: "[Authentication](security.md#authentication), [Per-caller rate limit](security.md#per-caller-rate-limit)",
  },
  authorization: { title: "Authorization", securitySensitive: true, see: "[Authorization](security.md#authorization)" },
  audit: { title: "Audit", securitySensitive: true, see: "[Audit trail](security.md#audit-trail)" },
  observability: { title: "Health and observability", securitySensitive: false, see: "[Operations](operations.md)" },
  idempotency: { title: "Idempotency and Redis", securitySensitive: false, see: "[Idempotency](idempotency.md)" },
  aws: {
    title: "AWS",
    securitySensitive: false,
    see: "[Running against real AWS](operations.md#running-against-real-aws)",
  },
  fake: { title: "Fake backend", securitySensitive: false, see: "[fake-seed.md](fake-seed.md)" },
  fakeAws: {
    title: "Fake AWS endpoint",
    securitySensitive: false,
    see: "[The fake AWS endpoint](fake.md#the-fake-aws-endpoint)",
  },
} as const satisfies Record<string, Section>;

/** What a value of a line is, in words and as a parser; the parser answers INVALID for a value outside them. */
export interface Kind<T> {
  readonly kind: "int" | "number" | "bool" | "enum" | "string" | "path" | "url" | "list" | "text";
  readonly accepts: string;
  readonly parse: (value: string) => T | typeof INVALID;
  /** How a default is printed (a method, so a line of any value type is a Setting<unknown>). */
  show?(value: T): string;
}

export const INVALID: unique symbol = Symbol("invalid");

/**
 * A variable applies only when each of its conditions holds on another
 * variable's value (the given one, else its line's default): one of `in`,
 * none of `notIn`, or, with neither, set at all.
 */
export interface Condition {
  readonly variable: string;
  readonly in?: readonly string[];
  readonly notIn?: readonly string[];
}

export interface Setting<T = unknown> extends Kind<T> {
  readonly name: string;
  readonly section: Section;
  readonly help: string;
  /** Inferred from the kind only, so a default of "none" keeps an enum's type. */
  readonly default?: NoInfer<T>;
  /** The default in words, when it is not a plain value ("none (CORS off)"). */
  readonly defaultText?: string;
  readonly appliesWhen?: readonly Condition[];
  /** The value as an error may print it (credentials masked). */
  readonly redact?: (value: string) => string;
}

// ---- kinds ----

export function integer(min: number, max: number, note = ""): Kind<number> {
  return {
    kind: "int",
    accepts: `an integer from ${min} to ${max}${note}`,
    parse: (value) => {
      const parsed = Number(value);
      return /^-?\d+$/.test(value) && parsed >= min && parsed <= max ? parsed : INVALID;
    },
  };
}

export function decimal(min: number, max: number): Kind<number> {
  return {
    kind: "number",
    accepts: `a number from ${min} to ${max}`,
    parse: (value) => {
      const parsed = Number(value);
      return /^-?(\d+\.?\d*|\.\d+)$/.test(value) && parsed >= min && parsed <= max ? parsed : INVALID;
    },
  };
}

export const boolean: Kind<boolean> = {
  kind: "bool",
  accepts: "true, false, 1 or 0",
  parse: (value) => (value === "true" || value === "1" ? true : value === "false" || value === "0" ? false : INVALID),
};

export function oneOf<const T extends string>(values: readonly T[]): Kind<T> {
  return {
    kind: "enum",
    accepts: `one of ${values.join(", ")}`,
    parse: (value) => ((values as readonly string[]).includes(value) ? (value as T) : INVALID),
  };
}

/** Free text, a path or a URL, checked by `valid` when given. */
export function text(
  accepts: string,
  kind: "string" | "path" | "url" | "text" = "string",
  valid: (value: string) => boolean = () => true,
): Kind<string> {
  return { kind, accepts, parse: (value) => (valid(value) ? value : INVALID) };
}

/** A comma-separated list without empty items, each checked by `item`. */
export function list<T = string>(
  accepts: string,
  item: (value: string) => T | typeof INVALID = (value) => value as T,
): Kind<T[]> {
  return {
    kind: "list",
    accepts,
    parse: (value) => {
      const items = value.split(",").map((part) => item(part.trim()));
      return items.some((part) => part === INVALID || part === "") ? INVALID : (items as T[]);
    },
    show: (value) => value.join(","),
  };
}

/** A line of the schema; the type of its value follows from its kind, and whether it has a default is kept. */
export function setting<T>(line: Setting<T> & { readonly default: NoInfer<T> }): Setting<T> & { readonly default: T };
export function setting<T>(line: Setting<T>): Setting<T>;
export function setting<T>(line: Setting<T>): Setting<T> {
  return line;
}

// ---- reading ----

/** The value, or undefined when the variable is unset or empty. */
export function readString(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** The line's value: the variable parsed, else the line's default; a ConfigError in the line's words otherwise. */
export function read<T>(env: Env, line: Setting<T> & { readonly default: T }): T;
export function read<T>(env: Env, line: Setting<T>): T | undefined;
export function read<T>(env: Env, line: Setting<T>): T | undefined {
  const value = readString(env, line.name);
  if (value === undefined) return line.default;
  const parsed = line.parse(value);
  if (parsed === INVALID) throw invalid(line, value);
  return parsed;
}

/** The line's value, or a ConfigError saying it is required (`why`). */
export function readRequired<T>(env: Env, line: Setting<T>, why: string): T {
  const value = read(env, line);
  if (value === undefined) throw new ConfigError(line.name, `${line.accepts} (${why})`, "");
  return value;
}

/** A ConfigError in the line's own words. */
export function invalid(line: Setting, value: string): ConfigError {
  return new ConfigError(line.name, line.accepts, line.redact === undefined ? value : line.redact(value));
}

/** The defaults of a group of lines, as the values components receive. */
export function defaultsOf<L extends Record<string, Setting>>(
  lines: L,
): { readonly [K in keyof L]: L[K] extends Setting<infer T> ? T : never } {
  return Object.fromEntries(Object.entries(lines).map(([key, line]) => [key, line.default])) as never;
}

// ---- variables that do not apply ----

/** The variable's value, else its line's default; a bad value is refused in its own words first. */
function effectiveValue(env: Env, byName: ReadonlyMap<string, Setting>, variable: string): string | undefined {
  const line = byName.get(variable);
  const value = line === undefined ? undefined : read(env, line);
  return readString(env, variable) ?? (typeof value === "string" ? value : undefined);
}

function conditionHolds(value: string | undefined, condition: Condition): boolean {
  if (condition.in !== undefined) return value !== undefined && condition.in.includes(value);
  if (condition.notIn !== undefined) return value === undefined || !condition.notIn.includes(value);
  return value !== undefined;
}

function conditionText(condition: Condition): string {
  if (condition.in !== undefined) return `${condition.variable}=${condition.in.join(" or ")}`;
  if (condition.notIn !== undefined) return `${condition.variable} other than ${condition.notIn.join(" or ")}`;
  return `${condition.variable} set`;
}

/**
 * The one rule for variables that are set but do not apply (appliesWhen):
 * in a security-sensitive section a ConfigError, else one warning each.
 */
export function checkApplicability(env: Env, lines: readonly Setting[]): string[] {
  const byName = new Map(lines.map((line) => [line.name, line]));
  const warnings: string[] = [];
  for (const line of lines) {
    const value = readString(env, line.name);
    if (value === undefined || line.appliesWhen === undefined) continue;
    const failed = line.appliesWhen.find(
      (condition) => !conditionHolds(effectiveValue(env, byName, condition.variable), condition),
    );
    if (failed === undefined) continue;
    const current = effectiveValue(env, byName, failed.variable);
    const wanted = conditionText(failed);
    const here = current === undefined ? `${failed.variable} is unset` : `${failed.variable}=${current}`;
    if (line.section.securitySensitive) {
      throw new ConfigError(
        line.name,
        `unset: it applies only with ${wanted}, and here ${here} (a setting that changes nothing must not look like it protects something)`,
        line.redact === undefined ? value : line.redact(value),
      );
    }
    warnings.push(`${line.name} is set but ignored: it applies only with ${wanted}, and here ${here}`);
  }
  return warnings;
}

// ---- misspelt variables ----

function firstWord(name: string): string {
  return name.toUpperCase().split("_")[0] ?? "";
}

function normalise(name: string): string {
  return name.toUpperCase().replaceAll("_", "");
}

/** Damerau-Levenshtein distance (optimal string alignment), in three rolling rows. */
export function editDistance(a: string, b: string): number {
  let before = new Uint16Array(b.length + 1);
  let previous = Uint16Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Uint16Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      current[j] = best;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
}

/**
 * Warnings for set variables that are not known but look like a known one
 * misspelt: the same letters but for underscores and case, or (ignoring
 * underscores) one edit away, two for names of eight letters or more, with a
 * first word at most one edit from the known name's. Far enough from PATH,
 * HOME, SSL_CERT_FILE, REDIS_PORT and the like to stay silent on them.
 */
export function misspellingWarnings(env: Env, known: readonly string[], foreignPrefixes: readonly string[]): string[] {
  const knownSet = new Set(known);
  const warnings: string[] = [];
  for (const name of Object.keys(env)) {
    if (knownSet.has(name) || readString(env, name) === undefined) continue;
    if (foreignPrefixes.some((prefix) => name.startsWith(prefix))) continue;
    const plain = normalise(name);
    let best: { name: string; distance: number } | undefined;
    for (const candidate of known) {
      const target = normalise(candidate);
      const allowed = Math.min(plain.length, target.length) >= 8 ? 2 : 1;
      // Start-up runs this for every variable of the environment against every
      // setting: a length apart by more than the allowance cannot be close.
      if (Math.abs(plain.length - target.length) > allowed) continue;
      const distance = editDistance(plain, target);
      // Beyond case and underscores, the first word must be (nearly) the same: SSL_CERT_FILE is not TLS_CERT_FILE.
      const sameFamily = distance === 0 || editDistance(firstWord(name), firstWord(candidate)) <= 1;
      if (sameFamily && distance <= allowed && (best === undefined || distance < best.distance))
        best = { name: candidate, distance };
    }
    if (best !== undefined) warnings.push(`${name} is not a setting; did you mean ${best.name}? It is ignored.`);
  }
  return warnings;
}

// ---- help ----

/** The default as a value of the variable would be written; undefined without one. */
export function writtenDefault(line: Setting): string | undefined {
  const value = line.default;
  if (value === undefined) return undefined;
  if (line.show !== undefined) return line.show(value);
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
    ? String(value)
    : undefined;
}

export function defaultText(line: Setting): string {
  return line.defaultText ?? writtenDefault(line) ?? "(none)";
}

export function helpOf(lines: readonly Setting[]): EnvHelp[] {
  return lines.map((line) => ({
    name: line.name,
    accepted: line.accepts,
    default: defaultText(line),
    description: line.help,
  }));
}

/** Lines grouped by section, in the order the sections first appear. */
export function bySection(lines: readonly Setting[]): [Section, Setting[]][] {
  const groups = new Map<Section, Setting[]>();
  for (const line of lines) groups.set(line.section, [...(groups.get(line.section) ?? []), line]);
  return [...groups];
}

/** --help's configuration part: a heading per section, then each variable with what it accepts and its default. */
export function sectionedHelp(lines: readonly Setting[]): string {
  const width = Math.max(...lines.map((line) => line.name.length)) + 2;
  return bySection(lines)
    .map(([section, group]) =>
      [
        `${section.title}:`,
        ...group.map(
          (line) =>
            `  ${line.name.padEnd(width)}${line.help}\n` +
            `  ${"".padEnd(width)}accepts: ${line.accepts}; default: ${defaultText(line)}`,
        ),
      ].join("\n"),
    )
    .join("\n\n");
}

/** The configuration tables of docs/configuration.md: a bold heading per section, a row per line. */
export function markdownTables(lines: readonly Setting[]): string {
  return bySection(lines)
    .map(([section, group]) =>
      [
        `**${section.title}**${section.see === undefined ? "" : ` (${section.see})`}`,
        "",
        "| variable | default | accepts | meaning |",
        "|---|---|---|---|",
        ...helpOf(group).map(
          (row) => `| \`${row.name}\` | ${row.default} | ${row.accepted.replaceAll("|", "\\|")} | ${row.description} |`,
        ),
      ].join("\n"),
    )
    .join("\n\n");
}

// Small, pure parsers for environment values. Each throws ConfigError naming
// the variable and what it accepts, so start-up fails with one clear line.

export type Env = Readonly<Record<string, string | undefined>>;

/** One line of --help and of the README's configuration table. */
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

/** The value, or undefined when the variable is unset or empty. */
export function readString(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

export function readEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = readString(env, name);
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(name, `one of ${allowed.join(", ")}`, value);
}

export function readInteger(env: Env, name: string, min: number, max: number, fallback: number): number {
  const value = readString(env, name);
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `an integer from ${min} to ${max}`, value);
  const parsed = Number(value);
  if (parsed < min || parsed > max) throw new ConfigError(name, `an integer from ${min} to ${max}`, value);
  return parsed;
}

export function readNumber(env: Env, name: string, min: number, max: number, fallback: number): number {
  const value = readString(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!/^-?(\d+\.?\d*|\.\d+)$/.test(value) || parsed < min || parsed > max) {
    throw new ConfigError(name, `a number from ${min} to ${max}`, value);
  }
  return parsed;
}

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const value = readString(env, name);
  if (value === undefined) return fallback;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new ConfigError(name, "true, false, 1 or 0", value);
}

/** A comma-separated list of host:port pairs. */
export function readHostPorts(env: Env, name: string): { host: string; port: number }[] | undefined {
  const value = readString(env, name);
  if (value === undefined) return undefined;
  const accepted = "a comma-separated list of host:port (e.g. 10.0.0.1:7000,10.0.0.2:7000)";
  return value.split(",").map((item) => {
    const match = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(item.trim());
    const port = Number(match?.[2]);
    if (!match?.[1] || port < 1 || port > 65535) throw new ConfigError(name, accepted, value);
    return { host: match[1], port };
  });
}

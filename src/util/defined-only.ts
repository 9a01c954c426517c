// A record without its undefined properties, so that "absent" has one shape:
// for deep comparisons and canonical forms, for Cedar (which has no
// "undefined", only absent), and for defaults spread under given options.

/** `T` with each property that may be undefined made optional and never undefined. */
export type DefinedOnly<T> = {
  [K in keyof T as undefined extends T[K] ? never : K]: T[K];
} & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

export function definedOnly<T extends object>(value: T): DefinedOnly<T> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) if (entry !== undefined) out[key] = entry;
  return out as DefinedOnly<T>;
}

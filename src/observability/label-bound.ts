// Label values that come from outside the gateway's own tables (store
// operation names from the guard, AWS error names from AWS) are kept while
// they look like names and are few; anything else is counted as "other", so a
// misbehaving peer cannot grow the registry without bound.

export const OTHER_LABEL = "other";

const wellFormed = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

export function createLabelBound(maxValues = 64): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= maxValues || !wellFormed.test(value)) return OTHER_LABEL;
    seen.add(value);
    return value;
  };
}

/** Children of a labelled metric by one bounded label, made once each. */
export function createChildCache<T>(
  bound: (value: string) => string,
  make: (label: string) => T,
): (value: string) => T {
  const children = new Map<string, T>();
  return (value) => {
    const label = bound(value);
    let child = children.get(label);
    if (child === undefined) {
      child = make(label);
      children.set(label, child);
    }
    return child;
  };
}

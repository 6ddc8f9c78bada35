/**
 * Well-formed text: a lone UTF-16 surrogate (half of a pair, U+D800-U+DFFF alone) is not Unicode.
 * JSON lets one through as `\ud800`, but it cannot be encoded as UTF-8 or stored as PostgreSQL text
 * faithfully, so the collector refuses it at the edge and the agent replaces it before it signs.
 */

/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** Whether `text` holds a lone surrogate. */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** `text` with every lone surrogate replaced by U+FFFD (the replacement character). */
export function toWellFormedText(text: string): string {
  return hasLoneSurrogate(text) ? text.replace(LONE_SURROGATES, '\uFFFD') : text;
}

/** A copy of a JSON-like value with every string and property name made well-formed. */
export function toWellFormedDeep<T>(value: T): T {
  if (typeof value === 'string') return toWellFormedText(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => toWellFormedDeep(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [toWellFormedText(key), toWellFormedDeep(item)])) as T;
  }
  return value;
}

/**
 * Whether any string or property name in `value` passes `suspect`. The allocation-free first pass
 * of a check whose failure message needs a path: only when this says yes does `findBadText` build one.
 */
export function anyText(value: unknown, suspect: (text: string) => boolean): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (suspect(current)) return true;
    } else if (Array.isArray(current)) {
      for (const item of current) stack.push(item);
    } else if (current !== null && typeof current === 'object') {
      for (const key in current) {
        if (!Object.hasOwn(current, key)) continue;
        if (suspect(key)) return true;
        stack.push((current as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/**
 * The path (`root/a/0/b`) of the first string or property name in `value` that fails `bad`, or
 * null. Iterative, because request bodies may nest deeply.
 */
export function findBadText(value: unknown, root: string, bad: (text: string) => boolean): string | null {
  const stack: { value: unknown; path: string }[] = [{ value, path: root }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      if (bad(current)) return path;
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push({ value: item, path: `${path}/${index}` }));
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) {
        if (bad(key)) return `${path} (a property name)`;
        stack.push({ value: item, path: `${path}/${key}` });
      }
    }
  }
  return null;
}

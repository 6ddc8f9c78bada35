/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Object keys are sorted by UTF-16 code units, numbers use ECMAScript's shortest round-trip form
 * (Number::toString, which JSON.stringify also uses), strings use JSON.stringify's escaping (which
 * matches RFC 8785 §3.2.2.2), and there is no whitespace. The signed bytes of a report are
 * `canonicalize(body)` encoded as UTF-8, so agent and collector agree on them byte for byte.
 *
 * The collector canonicalizes every report it receives, so this is written as plain loops that
 * append to one string: no intermediate arrays per object or array, and Array.prototype.sort's
 * default comparison, which already orders strings by UTF-16 code units as the RFC asks.
 */
export function canonicalize(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalize: non-finite number ${value}`);
      return String(value);
    case 'string':
      return JSON.stringify(value);
    case 'object':
      return Array.isArray(value) ? canonicalArray(value) : canonicalObject(value as Record<string, unknown>);
    default:
      throw new TypeError(`canonicalize: unsupported type ${typeof value}`);
  }
}

function canonicalArray(items: readonly unknown[]): string {
  let text = '[';
  for (let index = 0; index < items.length; index++) {
    if (index > 0) text += ',';
    text += canonicalize(items[index]);
  }
  return `${text}]`;
}

function canonicalObject(record: Record<string, unknown>): string {
  const keys = Object.keys(record).sort();
  let text = '{';
  let first = true;
  for (const key of keys) {
    const item = record[key];
    // JSON.stringify leaves out undefined members; so does the canonical form.
    if (item === undefined) continue;
    if (!first) text += ',';
    first = false;
    text += `${JSON.stringify(key)}:${canonicalize(item)}`;
  }
  return `${text}}`;
}

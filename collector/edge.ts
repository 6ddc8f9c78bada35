/**
 * Checks every request gets before its route's schema: no string anywhere (body, evidence, keys,
 * query, path parameters) may hold a NUL character. PostgreSQL text refuses NUL while SQLite stores
 * it, so without this one store would answer 500 and the other keep the value: refusing it at the
 * edge gives both the same 400.
 */
import type { FastifyRequest } from 'fastify';
import { CollectorError } from './errors';

/** The JSON-pointer-like path of the first string or key holding U+0000 in `value`, or null. Iterative: bodies may nest deeply. */
export function findNul(value: unknown, root: string): string | null {
  const stack: { value: unknown; path: string }[] = [{ value, path: root }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return path;
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push({ value: item, path: `${path}/${index}` }));
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) {
        if (key.includes('\u0000')) return `${path} (a property name)`;
        stack.push({ value: item, path: `${path}/${key}` });
      }
    }
  }
  return null;
}

/** preValidation hook: refuse a request whose body, query or parameters hold a NUL (400 PAYLOAD_INVALID). */
export async function refuseNul(request: FastifyRequest): Promise<void> {
  const where = findNul(request.params, 'params') ?? findNul(request.query, 'query') ?? findNul(request.body, 'body');
  if (where !== null) {
    throw new CollectorError('PAYLOAD_INVALID', `${where} contains a NUL character (\\u0000); no field may hold one.`, 400);
  }
}

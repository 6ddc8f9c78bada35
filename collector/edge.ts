/**
 * Checks every request gets before its route's schema: no string anywhere (body, evidence, keys,
 * query, path parameters) may hold a NUL character or a lone UTF-16 surrogate. PostgreSQL text
 * refuses NUL while SQLite stores it, and a lone surrogate has no UTF-8 form, so without this one
 * store would answer 500 and the other keep (or mangle) the value: refusing both at the edge gives
 * both stores the same 400, naming the field.
 */
import type { FastifyRequest } from 'fastify';
import { anyText, findBadText, hasLoneSurrogate } from '../common/text';
import { CollectorError } from './errors';

const hasNul = (text: string): boolean => text.includes('\u0000');
/** NUL or any surrogate code unit (a valid pair too, which the exact checks then let through). */
const SUSPECT = /[\u0000\uD800-\uDFFF]/;
const suspect = (text: string): boolean => SUSPECT.test(text);

/** The JSON-pointer-like path of the first string or key holding U+0000 in `value`, or null. */
export function findNul(value: unknown, root: string): string | null {
  return findBadText(value, root, hasNul);
}

/** The JSON-pointer-like path of the first string or key holding a lone surrogate in `value`, or null. */
export function findLoneSurrogate(value: unknown, root: string): string | null {
  return findBadText(value, root, hasLoneSurrogate);
}

/** preValidation hook: refuse a request whose body, query or parameters hold a NUL or a lone surrogate (400 PAYLOAD_INVALID). */
export async function refuseBadText(request: FastifyRequest): Promise<void> {
  // Nearly every request holds neither; the exact checks below build a path for every value.
  if (!anyText(request.params, suspect) && !anyText(request.query, suspect) && !anyText(request.body, suspect)) return;
  const nul = findNul(request.params, 'params') ?? findNul(request.query, 'query') ?? findNul(request.body, 'body');
  if (nul !== null) {
    throw new CollectorError('PAYLOAD_INVALID', `${nul} contains a NUL character (\\u0000); no field may hold one.`, 400);
  }
  const surrogate = findLoneSurrogate(request.params, 'params') ?? findLoneSurrogate(request.query, 'query') ?? findLoneSurrogate(request.body, 'body');
  if (surrogate !== null) {
    throw new CollectorError('PAYLOAD_INVALID', `${surrogate} contains a lone UTF-16 surrogate (half of a pair, \\uD800-\\uDFFF alone); text must be valid Unicode.`, 400);
  }
}

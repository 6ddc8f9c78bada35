/**
 * IT API bearer tokens with scopes.
 *
 * Tokens are held only as SHA-256 digests and looked up by digest, so comparing a guess leaks no
 * timing about the stored secret. Missing or unknown token: 401 UNAUTHORIZED; known token without
 * the route's scope: 403 FORBIDDEN.
 */
import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ItScope, ItToken } from './config';
import { CollectorError } from './errors';

export class TokenRegistry {
  private readonly byDigest = new Map<string, { scopes: ReadonlySet<ItScope>; name: string }>();

  constructor(tokens: readonly ItToken[]) {
    tokens.forEach((token, index) => {
      this.byDigest.set(digest(token.token), { scopes: new Set(token.scopes), name: token.name ?? `token-${index + 1}` });
    });
  }

  /** Throws 401/403 unless the request carries a token with `scope`; returns the token's name. */
  authorize(request: FastifyRequest, scope: ItScope): string {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header) : null;
    if (!match?.[1]) throw new CollectorError('UNAUTHORIZED', 'An IT bearer token is required (Authorization: Bearer <token>).', 401);
    const entry = this.byDigest.get(digest(match[1]));
    if (!entry) throw new CollectorError('UNAUTHORIZED', 'The bearer token is not recognised.', 401);
    if (!entry.scopes.has(scope)) throw new CollectorError('FORBIDDEN', `The bearer token lacks the '${scope}' scope.`, 403);
    return entry.name;
  }
}

function digest(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The IT routes' guard: a bearer token with the route's scope, failed tokens counted and throttled per
 * address. The token's name (never the token) is kept on the request as `itActor` for the audit log.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ItScope } from '../config';
import { CollectorError } from '../errors';
import { refuseWhenBlocked } from '../limits';

declare module 'fastify' {
  interface FastifyRequest {
    /** The IT token's name once a scope check passed; '' before. */
    itActor: string;
  }
}

/** Decorate requests with `itActor` (once per app). */
export function decorateItActor(app: FastifyInstance): void {
  if (!app.hasRequestDecorator('itActor')) app.decorateRequest('itActor', '');
}

/** An onRequest hook refusing requests without a token holding `scope`. */
export function requireScope(app: FastifyInstance, scope: ItScope) {
  const services = app.collector;
  const { failedTokens } = services.limits;
  // Failed tokens are counted per address and throttled, so guessing costs an hour per failuresPerIp.
  return async (request: FastifyRequest) => {
    refuseWhenBlocked(failedTokens, request.ip, 'Too many failed IT-token attempts from this address');
    try {
      request.itActor = services.tokens.authorize(request, scope);
    } catch (error) {
      if (error instanceof CollectorError && error.statusCode === 401) failedTokens.add(request.ip);
      throw error;
    }
  };
}

/**
 * A NUL character is no valid value in any field of any protocol: PostgreSQL can neither store nor
 * compare one (a query naming one fails, as a 500, before any rule of Keyward's is asked). One
 * app-wide preValidation hook refuses it in the path, the query and the body of every route, as an
 * InvalidArgumentError naming the field; each protocol's error file gives it that protocol's shape
 * (native 400 INVALID_ARGUMENT, NG 400 FAILURE, CG 400, ZenML 422). A route that must see such a
 * value to judge it (POST /v1/verify answers a malformed token as `malformed`) opts out with
 * `config: { nulAllowed: true }`.
 */
import type { FastifyInstance } from 'fastify';
import { rejectNul } from '../domain/validation.js';

export interface NulRouteConfig {
  nulAllowed?: boolean;
}

export function installNulRule(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    // An unknown route stays the protocol's not-found, whatever its path holds.
    if (req.is404) return;
    if ((req.routeOptions.config as NulRouteConfig | undefined)?.nulAllowed !== true) rejectNul(req);
  });
}

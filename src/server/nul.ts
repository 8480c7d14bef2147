/**
 * A NUL character is no valid value in any field of any protocol: PostgreSQL can neither store nor
 * compare one (a query naming one fails, as a 500, before any rule of Keyward's is asked). Every
 * route gets a preValidation hook (added when the route is registered, see server/app.ts) that
 * refuses it in the path, the query and the body, as an InvalidArgumentError naming the field; each
 * protocol's error file gives it that protocol's shape (native 400 INVALID_ARGUMENT, NG 400 FAILURE,
 * CG 400, ZenML 422). A route that must see such a value to judge it (POST /v1/verify answers a
 * malformed token as `malformed`) opts out with `config: { nulAllowed: true }` and gets no hook.
 *
 * The hook walks only what can hold a NUL: the path and query only when the URL has a `%00` (a raw
 * NUL byte is refused by Node's HTTP parser before any route), the body only when there is one.
 * An unknown route has no hook: it stays the protocol's not-found, whatever its path holds.
 */
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { findNul, rejectNul } from '../domain/validation.js';

export interface NulRouteConfig {
  nulAllowed?: boolean;
}

type Hook = (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void;

function refuseNul(req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  const inUrl = req.url.includes('%00');
  if (!inUrl && req.body === undefined) return done();
  try {
    if (inUrl) rejectNul(req);
    else if (findNul(req.body) !== null) rejectNul({ body: req.body });
  } catch (e) {
    return done(e as Error);
  }
  done();
}

/** The NUL rule's hook for a route, or null when the route opted out. */
export function nulHookFor(route: Pick<RouteOptions, 'config'>): Hook | null {
  return (route.config as NulRouteConfig | undefined)?.nulAllowed === true ? null : refuseNul;
}

/**
 * How every protocol's JSON bodies are parsed: one parser for the whole app, so the rules below hold
 * on every route without any route asking for them.
 *
 * - An empty (or all-whitespace) body is no body, whatever the Content-Type says. Clients send
 *   `Content-Type: application/json` with nothing after it on calls that take no body (Harness's web
 *   UI on DELETE /ng/api/apikey/{id}, POST /ng/api/token/rotate/{id}); Harness answers those 200. A
 *   route that does need a body still says so, through its body schema.
 * - Nesting is bounded before JSON.parse runs, so a body of 10 KB of `[[[[...` is a 400 and never
 *   reaches a recursive walk that could overflow the stack.
 * - `__proto__` and `constructor.prototype` keys are refused, as Fastify's own parser does.
 * - A route whose config says `rawBody: true` also gets the exact bytes received, in `req.rawBody`
 *   (a signature over the body, as leak reports carry, is checked against those bytes; see
 *   src/protocols/native/leaks.ts). Same parser, same limits. The route says so through a hook of its
 *   own (`rawBodyHookFor`, added as the route is registered), so that the parser reads one flag of the
 *   request instead of building `req.routeOptions` (a new object on every access) for every body.
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Keep the exact body bytes in `req.rawBody`. */
    rawBody?: boolean;
  }
  interface FastifyRequest {
    rawBody?: Buffer;
  }
}

/** Set on a request of a `rawBody: true` route before its body is parsed. */
const KEEP_RAW = Symbol('keyward.keepRawBody');
type Marked = FastifyRequest & { [KEEP_RAW]?: true };

function keepRawBody(req: FastifyRequest, _reply: unknown, payload: unknown, done: (err: null, payload: unknown) => void): void {
  (req as Marked)[KEEP_RAW] = true;
  done(null, payload);
}

/** The route's preParsing hook that keeps its body's bytes, or null for a route that does not ask. */
export function rawBodyHookFor(route: Pick<RouteOptions, 'config'>): typeof keepRawBody | null {
  return route.config?.rawBody === true ? keepRawBody : null;
}

/** Deeper than any body a Keyward route accepts (the deepest, a GraphQL request's variables, is < 10). */
export const MAX_JSON_DEPTH = 64;

/** The deepest `[`/`{` nesting of a JSON text, ignoring brackets inside strings; stops counting past `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return false;
}

/** An error that every protocol's error mapper already answers as "that is not valid JSON" (a 400). */
function invalidJson(message: string): Error {
  return Object.assign(new Error(message), { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 });
}

export function installJsonBodyParser(app: FastifyInstance, maxDepth = MAX_JSON_DEPTH): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const bytes = body as Buffer;
    if ((req as Marked)[KEEP_RAW]) req.rawBody = bytes;
    const text = bytes.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    if (jsonDepthExceeds(text, maxDepth)) return done(invalidJson(`JSON nested deeper than ${maxDepth} levels`), undefined);
    return parseJson(req, text, done);
  });
}

/**
 * A route's fast path (docs/architecture.md, "Fast paths"): the plain form of a hot request answered
 * before Fastify routes it, from the raw request, with an answer made once and reused. A GET or POST
 * route opts in by putting `fastPath` in its `config`; the server (src/server/fastPaths.ts) calls it for
 * a request whose URL is exactly the route's (no query string), and gives it the client's address as the
 * route's own request would have it and, for a POST, the body's bytes (only a small JSON body, read whole:
 * anything else goes to the route). It returns the answer, or null for anything it does not answer alone
 * (a cache miss, a requirement to check, a body not in its plainest shape): then Fastify handles the
 * request as usual, with the same body, and the route's handler gives the same answer. The server adds
 * what every answer carries (the request id), counts it in the route's metrics and writes its log line,
 * so a fast path decides the answer and nothing else.
 */
import type { IncomingMessage } from 'node:http';

/** An answer written straight to the socket: status, headers as a flat name, value list (content-length included), body. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: readonly string[];
  readonly body: string;
}

/** `body`: a POST's body (null for a GET). */
export type FastPath = (req: IncomingMessage, ip: string, body: Buffer | null) => RawAnswer | null;

/** The raw form of an answer: made once per answer object by the caller, which keeps it. */
export function rawAnswer(status: number, headers: Readonly<Record<string, string>>, body: string): RawAnswer {
  const flat: string[] = [];
  for (const [name, value] of Object.entries(headers)) flat.push(name, value);
  flat.push('content-length', String(Buffer.byteLength(body)));
  return Object.freeze({ status, headers: Object.freeze(flat), body });
}

/**
 * `make`, remembered per key object: a route's raw answers are made once per (frozen, reused) answer
 * or verification result, and dropped with it.
 */
export function rawAnswersOf<K extends object>(make: (k: K) => RawAnswer): (k: K) => RawAnswer {
  const made = new WeakMap<K, RawAnswer>();
  return (k) => {
    let r = made.get(k);
    if (r === undefined) made.set(k, (r = make(k)));
    return r;
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    fastPath?: FastPath;
  }
}

/**
 * `@keyward/sdk/hono`: middleware for Hono 4. A request with a valid token goes on with
 * `c.get('keyward')` set; else 401/403 JSON.
 */
import type { MiddlewareHandler } from 'hono';
import { decide, tokenFrom, type MiddlewareOptions } from './middleware.js';
import type { Verified } from './types.js';

export type KeywardHonoOptions = MiddlewareOptions;

/** Hono's variables this middleware sets: `new Hono<KeywardEnv>()` types `c.get('keyward')`. */
export interface KeywardEnv {
  Variables: { keyward: Verified };
}

export function keywardHono(options: KeywardHonoOptions): MiddlewareHandler<KeywardEnv> {
  return async (c, next) => {
    const d = await decide(tokenFrom((n) => c.req.header(n)), options);
    if (!d.allowed) {
      for (const [k, v] of Object.entries(d.headers)) c.header(k, v);
      return c.json(d.body, d.status);
    }
    c.set('keyward', d.verified);
    await next();
  };
}

export default keywardHono;

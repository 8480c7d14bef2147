/**
 * `@keyward/sdk/express`: middleware for Express 5. A request with a valid token (holding the
 * required permission, when one is given) goes on with `req.keyward` set; else 401/403 JSON.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { decide, tokenFrom, type Decision, type MiddlewareOptions } from './middleware.js';
import type { Verified } from './types.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified token (set by @keyward/sdk/express). */
      keyward?: Verified;
    }
  }
}

export type KeywardExpressOptions = MiddlewareOptions;

export function keywardExpress(options: KeywardExpressOptions): RequestHandler {
  const apply = (req: Request, res: Response, next: NextFunction, d: Decision) => {
    if (d.allowed) {
      req.keyward = d.verified;
      next();
    } else res.status(d.status).set(d.headers).json(d.body);
  };
  return (req: Request, res: Response, next: NextFunction) => {
    const d = decide(tokenFrom((n) => req.headers[n]), options);
    if (d instanceof Promise) d.then((x) => apply(req, res, next, x), next);
    else apply(req, res, next, d);
  };
}

export default keywardExpress;

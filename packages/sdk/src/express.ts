/**
 * `@keyward/sdk/express`: middleware for Express 5. A request with a valid token (holding the
 * required permission, when one is given) goes on with `req.keyward` set; else 401/403 JSON.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { decide, tokenFrom, type MiddlewareOptions } from './middleware.js';
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
  return (req: Request, res: Response, next: NextFunction) => {
    decide(tokenFrom((n) => req.headers[n]), options).then((d) => {
      if (d.allowed) {
        req.keyward = d.verified;
        next();
        return;
      }
      res.status(d.status).set(d.headers).json(d.body);
    }, next);
  };
}

export default keywardExpress;

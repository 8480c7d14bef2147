/**
 * `@keyward/sdk/fastify`: a Fastify plugin (fastify-plugin, so it applies to the routes of the
 * context that registers it). Every request must carry a valid token; the verified answer is on
 * `request.keyward`. Register it inside an encapsulated context to protect only some routes.
 */
import fp from 'fastify-plugin';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { decide, tokenFrom, type Decision, type MiddlewareOptions } from './middleware.js';
import type { Verified } from './types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified token (set by @keyward/sdk/fastify). */
    keyward: Verified | null;
  }
}

export type KeywardFastifyOptions = MiddlewareOptions;

const plugin: FastifyPluginAsync<KeywardFastifyOptions> = async (app, options) => {
  if (!app.hasRequestDecorator('keyward')) app.decorateRequest('keyward', null);
  const apply = (req: FastifyRequest, reply: FastifyReply, d: Decision, done: () => void) => {
    if (d.allowed) {
      req.keyward = d.verified;
      done();
    } else reply.code(d.status).headers(d.headers).send(d.body);
  };
  // A callback hook: a cache hit goes on synchronously, without a promise per request.
  app.addHook('onRequest', (req, reply, done) => {
    const d = decide(tokenFrom((n) => req.headers[n]), options);
    if (d instanceof Promise) d.then((x) => apply(req, reply, x, done), done);
    else apply(req, reply, d, done);
  });
};

export const keywardFastify = fp(plugin, { fastify: '5.x', name: '@keyward/sdk/fastify' });
export default keywardFastify;

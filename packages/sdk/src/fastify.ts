/**
 * `@keyward/sdk/fastify`: a Fastify plugin (fastify-plugin, so it applies to the routes of the
 * context that registers it). Every request must carry a valid token; the verified answer is on
 * `request.keyward`. Register it inside an encapsulated context to protect only some routes.
 */
import fp from 'fastify-plugin';
import type { FastifyPluginAsync } from 'fastify';
import { decide, tokenFrom, type MiddlewareOptions } from './middleware.js';
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
  app.addHook('onRequest', async (req, reply) => {
    const d = await decide(tokenFrom((n) => req.headers[n]), options);
    if (d.allowed) {
      req.keyward = d.verified;
      return;
    }
    return reply.code(d.status).headers(d.headers).send(d.body);
  });
};

export const keywardFastify = fp(plugin, { fastify: '5.x', name: '@keyward/sdk/fastify' });
export default keywardFastify;

/**
 * ZenML's REST API for service accounts, API keys and sessions, under `/api/v1`, as ZenML's Python
 * client (RestZenStore) and the `zenml service-account` commands call it.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { plain, requestInvalid, sendZenml } from './errors.js';
import { resourceRoutes } from './resources.js';
import { sessionRoutes, type ZenmlOptions } from './session.js';
import { workspaceRoutes } from './workspaces.js';
import { documentedResponses, typed } from '../contract/index.js';

async function zenmlApi(app: FastifyInstance, opts: { services: Services; zenml: ZenmlOptions }): Promise<void> {
  // Older clients send the JSON body without a Content-Type header: parse any body as JSON. That
  // includes text/plain, which fetch() adds to a string body (fastify would otherwise keep it a string).
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, raw, done) => {
    const text = String(raw);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(requestInvalid('body: Expecting value: the body is not valid JSON'), undefined);
    }
  });
  // Login is form-encoded. A JSON document sent with a form content type (curl -d) is read as JSON.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, raw, done) => {
    const text = String(raw);
    if (/^\s*[{[]/.test(text)) {
      try {
        return done(null, JSON.parse(text));
      } catch {
        return done(requestInvalid('body: Expecting value: the body is not valid JSON'), undefined);
      }
    }
    done(null, Object.fromEntries(new URLSearchParams(text)));
  });
  app.setErrorHandler((err, req, reply) => sendZenml(err, req, reply));
  app.setNotFoundHandler((req, reply) => sendZenml(plain(404, 'Not Found'), req, reply));
  documentedResponses(app);
  sessionRoutes(typed(app), opts.services, opts.zenml);
  resourceRoutes(typed(app), opts.services);
  workspaceRoutes(typed(app), opts.services);
}

export async function zenmlProtocol(app: FastifyInstance, opts: { services: Services; zenml: ZenmlOptions }): Promise<void> {
  await app.register(zenmlApi, { prefix: '/api/v1', ...opts });
}

export type { ZenmlOptions };

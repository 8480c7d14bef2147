/** Assembles the Fastify app: plugins, the protocols, health, metrics and the OpenAPI document. */
import type { Writable } from 'node:stream';
import Fastify, { LogController, type FastifyInstance, type RouteOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Services } from '../services/index.js';
import { nativeProtocol } from '../protocols/native/index.js';
import { harnessNgProtocol } from '../protocols/harness-ng/index.js';
import { harnessCgProtocol } from '../protocols/harness-cg/index.js';
import { zenmlProtocol, type ZenmlOptions } from '../protocols/zenml/index.js';
import { nativeError, sendNativeError } from '../protocols/native/errors.js';
import { installMetrics, RequestMetrics } from './metrics.js';
import { lazyChildLogger, logCompletion, redactPaths, requestIdCounter, requestIdFrom, serializers } from './logging.js';
import { cachingSerializerFactory, installValidators, keywardValidatorCompiler } from './validation.js';
import { installConsole } from './console.js';
import { installJsonBodyParser, rawBodyHookFor } from './bodies.js';
import { nulHookFor } from './nul.js';
import { FastPaths } from './fastPaths.js';

/** One route as it was registered: the sweeps in test/ (empty bodies, fuzzing, isolation) walk these. */
export interface RouteEntry {
  method: string;
  url: string;
  schema: unknown;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route the app serves, in registration order (HEAD twins of GET routes left out). */
    routeTable: RouteEntry[];
  }
}

export interface AppOptions {
  services: Services;
  logLevel?: string;
  /** Where JSON logs go (default stdout). Tests pass a stream to read them. */
  logStream?: Writable;
  trustProxy?: boolean;
  version: string;
  zenml?: ZenmlOptions;
  /** The web console: session lifetime, and where its build is (default dist/web). */
  console?: { sessionTtlMs: number; webRoot?: string };
}

/** Adds `hook` to a route's own `name` hooks (a route may already have one or a list). */
function addRouteHook(route: RouteOptions, name: 'onResponse' | 'preValidation' | 'preParsing', hook: unknown): void {
  const r = route as unknown as Record<string, unknown>;
  const had = r[name];
  r[name] = had === undefined ? [hook] : [...[had].flat(), hook];
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { services } = opts;
  const validator = keywardValidatorCompiler();
  const freshId = requestIdCounter();
  const requestMetrics = new RequestMetrics();
  // Routes' fast paths answer before Fastify routes a request (src/server/fastPaths.ts).
  const fastPaths = new FastPaths(requestMetrics, freshId, opts.trustProxy ?? false);
  const app = Fastify({
    serverFactory: fastPaths.serverFactory,
    logger: {
      level: opts.logLevel ?? 'info',
      serializers,
      redact: { paths: redactPaths, censor: '[REDACTED]' },
      ...(opts.logStream ? { stream: opts.logStream } : {}),
    },
    // No per-request work for logs that are not written: the request's child logger is made on its
    // first log line, and the completion line (one per request, at info) is Keyward's own hook below.
    childLoggerFactory: lazyChildLogger as never,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => requestIdFrom(req.headers, freshId),
    trustProxy: opts.trustProxy ?? false,
    bodyLimit: 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
    return503OnClosing: true,
    // Every plugin context (including those that call addSchema) keeps Keyward's strict-body validator.
    // (typed as Ajv's own compile by @fastify/ajv-compiler; Fastify calls it as a route-schema compiler)
    schemaController: { compilersFactory: { buildValidator: (() => validator) as never, buildSerializer: cachingSerializerFactory() } },
  });
  installValidators(app, validator);
  installJsonBodyParser(app);
  // First, so that the routes outside the protocols (docs, OpenAPI, metrics, health, console pages) get it
  // too: a route keeps the error handler its context had when it was registered.
  app.setErrorHandler((err, req, reply) => sendNativeError(err, req, reply));

  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  // Hooks go on the routes they apply to, as each route is registered, rather than app-wide:
  // the NUL rule (unless the route opts out), keeping the raw body (where the route asks), the request
  // metrics, and the completion log line.
  const logsRequests = (app.log as unknown as { isLevelEnabled(level: string): boolean }).isLevelEnabled('info');
  if (logsRequests) fastPaths.log = app.log;
  app.addHook('preClose', (done) => {
    fastPaths.closing = true;
    done();
  });
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue; // Fastify's automatic twin of a GET route
      routeTable.push({ method, url: route.url, schema: route.schema });
    }
    const nul = nulHookFor(route);
    if (nul) addRouteHook(route, 'preValidation', nul);
    const raw = rawBodyHookFor(route);
    if (raw) addRouteHook(route, 'preParsing', raw);
    addRouteHook(route, 'onResponse', requestMetrics.hookFor(route.url));
    fastPaths.add(route);
    if (logsRequests) addRouteHook(route, 'onResponse', logCompletion);
  });
  // Not-found handlers (the app's and the protocols' own, under their prefixes) are no routes: they
  // get the same metrics (as route "unmatched") and log line through their options.
  const notFoundHooks = logsRequests ? [requestMetrics.hookFor('unmatched'), logCompletion] : [requestMetrics.hookFor('unmatched')];
  const setNotFoundHandler = app.setNotFoundHandler;
  app.setNotFoundHandler = function (this: FastifyInstance, optsOrHandler: unknown, handler?: unknown) {
    const [options, fn]: [Record<string, unknown>, unknown] = handler === undefined ? [{}, optsOrHandler] : [optsOrHandler as Record<string, unknown>, handler];
    const withHooks = { ...options, onResponse: [...notFoundHooks, ...[options.onResponse ?? []].flat()] };
    return (setNotFoundHandler as (o: unknown, h: unknown) => FastifyInstance).call(this, withHooks, fn);
  } as typeof app.setNotFoundHandler;

  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', String(req.id));
    done();
  });

  app.addSchema({
    $id: 'KeywardScope',
    type: 'object',
    properties: { accountId: { type: 'string' }, orgId: { type: ['string', 'null'] }, projectId: { type: ['string', 'null'] } },
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Keyward', version: opts.version, description: 'API keys and access tokens: issue, manage, verify.' },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true, response: { 200: { type: 'object', additionalProperties: true, description: 'This OpenAPI 3 document' } } } }, async () => app.swagger());

  installMetrics(app, requestMetrics, services.verification, services, fastPaths);

  const health = (status: string) => ({ type: 'object', required: ['status'], properties: { status: { type: 'string', enum: [status] }, reason: { type: 'string' } } });
  app.get('/healthz', { schema: { hide: true, response: { 200: health('ok') } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true, response: { 200: health('ready'), 503: health('unavailable') } } }, async (_req, reply) => {
    try {
      await Promise.race([
        services.ctx.store.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('database ping timed out')), 2000).unref()),
      ]);
      return { status: 'ready' };
    } catch {
      return reply.status(503).send({ status: 'unavailable', reason: 'database unreachable' });
    }
  });

  await app.register(nativeProtocol, { services, ...(opts.console ? { console: { sessionTtlMs: opts.console.sessionTtlMs } } : {}) });
  await app.register(harnessNgProtocol, { services });
  await app.register(harnessCgProtocol, { services });
  await app.register(zenmlProtocol, { services, zenml: opts.zenml ?? { serverVersion: '0.84.0', jwtExpireMinutes: null } });

  const consolePages = await installConsole(app, opts.console?.webRoot);
  app.setNotFoundHandler((req, reply) => consolePages.serve(req, reply) ? reply : reply.status(404).send(nativeError(req, 'NOT_FOUND', `Route ${req.method} ${req.url.split('?')[0]} not found`)));
  return app;
}

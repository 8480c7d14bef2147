/**
 * Serves the console (web/, built by Vite into dist/web) at `/`: hashed assets under /assets/ with
 * long caching, and index.html for every other GET that is not an API path (client-side routes).
 * The fallback never answers for an API prefix, so an unknown API route still gets its JSON 404.
 * A missing build gives a page that says how to build it, not a crash.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Paths the console never claims. */
export const API_PREFIXES = ['/v1', '/ng', '/gateway', '/authz', '/api', '/docs', '/openapi.json', '/metrics', '/healthz', '/readyz'];

/** The package root: the nearest folder above this module with a package.json (src/server or dist/server). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

export function defaultWebRoot(): string {
  return path.join(packageRoot(), 'dist', 'web');
}

export function isApiPath(url: string): boolean {
  const p = url.split('?')[0]!;
  return API_PREFIXES.some((prefix) => p === prefix || p.startsWith(`${prefix}/`) || (prefix.includes('.') && p.startsWith(prefix)));
}

/**
 * A request the SPA may answer: a browser asking for a page (Accept names text/html), not an API
 * path and not a file name. Other clients (curl, SDKs) keep getting the JSON 404 for unknown routes.
 */
export function isConsolePath(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const accept = req.headers.accept;
  if (typeof accept !== 'string' || !accept.includes('text/html')) return false;
  const p = req.url.split('?')[0]!;
  if (isApiPath(p)) return false;
  const last = p.split('/').pop() ?? '';
  return !last.includes('.');
}

// The console loads only its own scripts and styles and talks only to this origin.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer');
}

const MISSING = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Keyward</title></head>
<body><h1>The Keyward console is not built</h1>
<p>This Keyward has no console build in <code>dist/web</code>. Run <code>npm run build:web</code> (or <code>npm install</code>, which builds it), then restart.
The APIs work without it: see <a href="/docs">/docs</a>.</p></body></html>`;

export interface ConsoleHandle {
  /** Answers the request with the console page when it is a console path; false otherwise. */
  serve(req: FastifyRequest, reply: FastifyReply): boolean;
  built: boolean;
}

export async function installConsole(app: FastifyInstance, webRoot: string = defaultWebRoot()): Promise<ConsoleHandle> {
  const indexFile = path.join(webRoot, 'index.html');
  const built = existsSync(indexFile);
  if (!built) app.log.warn({ webRoot }, 'console not built: / explains how to build it');
  const index = built ? readFileSync(indexFile, 'utf8') : MISSING;
  const assets = path.join(webRoot, 'assets');
  if (built && existsSync(assets)) {
    await app.register(fastifyStatic, {
      root: assets,
      prefix: '/assets/',
      // File names carry a content hash: a changed file is a new name.
      immutable: true,
      maxAge: '365d',
      index: false,
      schemaHide: true,
      setHeaders: (res) => void res.header('x-content-type-options', 'nosniff'),
    });
  }
  for (const file of ['favicon.svg']) {
    const full = path.join(webRoot, file);
    if (!existsSync(full)) continue;
    const body = readFileSync(full);
    app.get(`/${file}`, { schema: { hide: true } }, async (_req, reply) => reply.header('content-type', 'image/svg+xml').header('cache-control', 'public, max-age=86400').send(body));
  }
  app.get('/', { schema: { hide: true } }, async (_req, reply) => pageHeaders(reply).status(built ? 200 : 503).send(index));
  return {
    built,
    serve(req, reply) {
      if (!isConsolePath(req)) return false;
      void pageHeaders(reply).status(built ? 200 : 503).send(index);
      return true;
    },
  };
}

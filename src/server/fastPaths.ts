/**
 * Routes' fast paths (src/protocols/contract/fastPath.ts): a GET route may answer the plain form of a
 * hot request from the raw request, before Fastify routes it. The server's request handler asks the
 * fast path of the exact URL first, and hands the request to Fastify when there is none or it answers
 * null. What Fastify would add to the answer, this adds too: the request id (`X-Request-Id`, the
 * client's when it sent a valid one), the route's request metrics and latency, and the completion log
 * line. While the server closes, every request goes to Fastify, which answers 503.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyBaseLogger, FastifyServerFactory, RouteOptions } from 'fastify';
import type { FastPath } from '../protocols/contract/fastPath.js';
import { logFastCompletion, requestIdFrom } from './logging.js';
import type { RequestMetrics } from './metrics.js';

interface Entry {
  answer: FastPath;
  observe: (method: string, status: number, seconds: number) => void;
}

const TRUST_ALL = () => true;

interface ServerSettings {
  http?: http.ServerOptions;
  keepAliveTimeout: number;
  requestTimeout: number;
  connectionTimeout: number;
  maxRequestsPerSocket: number;
}

export class FastPaths {
  private readonly byUrl = new Map<string, Entry>();
  /** Set once the app starts closing. */
  closing = false;
  /** The app's logger when it logs requests (level info or lower), else null. */
  log: FastifyBaseLogger | null = null;
  /** Answers given on a fast path, since start (a metric). */
  served = 0;

  constructor(
    private readonly metrics: RequestMetrics,
    private readonly freshId: () => string,
    /** As the app's `trustProxy`: the client address is the first of X-Forwarded-For. */
    private readonly trustProxy: boolean,
  ) {}

  /** From the app's onRoute hook: keeps the fast path a GET route declares in its config. */
  add(route: RouteOptions): void {
    const answer = route.config?.fastPath;
    if (answer === undefined) return;
    if (![route.method].flat().includes('GET')) return; // the HEAD twin Fastify adds, with the GET's config
    if (route.url.includes(':') || route.url.includes('*')) throw new Error(`a fast path needs a fixed URL: ${route.url}`);
    this.byUrl.set(route.url, { answer, observe: this.metrics.observerFor(route.url) });
  }

  /** Fastify's serverFactory: the HTTP server Fastify would make, with the fast paths in front of its handler. */
  readonly serverFactory: FastifyServerFactory = (handler, options) => {
    // Fastify hands over its options with its defaults filled in (fastify.js); typed loosely there.
    const o = options as unknown as ServerSettings;
    const server = http.createServer(o.http ?? {}, (req, res) => {
      if (!this.serve(req, res)) handler(req, res);
    });
    // What Fastify sets on the server it makes itself (fastify/lib/server.js).
    server.keepAliveTimeout = o.keepAliveTimeout;
    server.requestTimeout = o.requestTimeout;
    server.setTimeout(o.connectionTimeout);
    if (o.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = o.maxRequestsPerSocket;
    return server;
  };

  private serve(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'GET' || this.closing) return false;
    const entry = this.byUrl.get(req.url!);
    if (entry === undefined) return false;
    const start = performance.now();
    const ip = (this.trustProxy ? proxyAddr.all(req, TRUST_ALL).at(-1) : req.socket.remoteAddress) ?? '';
    let a;
    try {
      a = entry.answer(req, ip);
    } catch {
      a = null; // the route's handler meets the same failure and answers it in the protocol's shape
    }
    if (a === null) return false;
    const id = requestIdFrom(req.headers, this.freshId);
    const headers = a.headers.slice();
    headers.push('x-request-id', id);
    res.writeHead(a.status, headers);
    res.end(a.body);
    this.served++;
    const ms = performance.now() - start;
    entry.observe('GET', a.status, ms / 1000);
    if (this.log !== null) logFastCompletion(this.log, { method: 'GET', url: req.url!, id, ip }, a.status, ms);
    return true;
  }
}

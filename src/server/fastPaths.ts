/**
 * Routes' fast paths (src/protocols/contract/fastPath.ts): a GET or POST route may answer the plain form
 * of a hot request from the raw request, before Fastify routes it. The server's request handler asks the
 * fast path of the exact URL first, and hands the request to Fastify when there is none or it answers
 * null. What Fastify would add to the answer, this adds too: the request id (`X-Request-Id`, the
 * client's when it sent a valid one), the route's request metrics and latency, and the completion log
 * line. While the server closes, every request goes to Fastify, which answers 503.
 *
 * A POST's body is read here only when it is small JSON of a declared length (a token to verify);
 * anything else goes to Fastify untouched. When the fast path then declines, the bytes read are put
 * back at the front of the request stream (`unshift`, before its end is emitted) and Fastify reads the
 * same body as if no one had looked.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyBaseLogger, FastifyServerFactory, RouteOptions } from 'fastify';
import type { FastPath, RawAnswer } from '../protocols/contract/fastPath.js';
import { logFastCompletion, requestIdFrom } from './logging.js';
import type { RequestMetrics } from './metrics.js';

interface Entry {
  method: 'GET' | 'POST';
  answer: FastPath;
  observe: (method: string, status: number, seconds: number) => void;
}

/** The largest POST body a fast path reads (a 4,096-character token in JSON is well under it); larger goes to Fastify. */
export const FAST_BODY_LIMIT = 8 * 1024;

/** The JSON media types Keyward's parser takes (src/server/bodies.ts), in the spellings a fast path reads. */
function isPlainJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  if (contentType === 'application/json') return true;
  const lower = contentType.toLowerCase();
  return lower === 'application/json' || lower === 'application/json; charset=utf-8';
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const TRUST_ALL = () => true;

interface ServerSettings {
  http?: http.ServerOptions;
  keepAliveTimeout: number;
  requestTimeout: number;
  connectionTimeout: number;
  maxRequestsPerSocket: number;
}

export class FastPaths {
  /** By method, then by exact URL (two maps rather than one keyed by "METHOD url": no string built per request). */
  private readonly byUrl = { GET: new Map<string, Entry>(), POST: new Map<string, Entry>() };
  /**
   * Each answer's header list with a request id slot at its end, made once per answer: a request fills
   * the slot and writeHead copies the list into the header block before anything else runs, so the one
   * list serves every request (no copy of the list per answer).
   */
  private readonly withId = new WeakMap<RawAnswer, string[]>();
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

  /** From the app's onRoute hook: keeps the fast path a GET or POST route declares in its config. */
  add(route: RouteOptions): void {
    const answer = route.config?.fastPath;
    if (answer === undefined) return;
    const methods = [route.method].flat();
    // Not the HEAD twin Fastify adds to a GET route, with the GET's config.
    const method = methods.includes('GET') ? 'GET' : methods.includes('POST') ? 'POST' : null;
    if (method === null) return;
    if (route.url.includes(':') || route.url.includes('*')) throw new Error(`a fast path needs a fixed URL: ${route.url}`);
    this.byUrl[method].set(route.url, { method, answer, observe: this.metrics.observerFor(route.url) });
  }

  /** Fastify's serverFactory: the HTTP server Fastify would make, with the fast paths in front of its handler. */
  readonly serverFactory: FastifyServerFactory = (handler, options) => {
    // Fastify hands over its options with its defaults filled in (fastify.js); typed loosely there.
    const o = options as unknown as ServerSettings;
    const server = http.createServer(o.http ?? {}, (req, res) => {
      if (!this.serve(req, res, handler)) handler(req, res);
    });
    // What Fastify sets on the server it makes itself (fastify/lib/server.js).
    server.keepAliveTimeout = o.keepAliveTimeout;
    server.requestTimeout = o.requestTimeout;
    server.setTimeout(o.connectionTimeout);
    if (o.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = o.maxRequestsPerSocket;
    return server;
  };

  /** True when this took the request (answered it, or reads its body first); false: Fastify's now. */
  private serve(req: IncomingMessage, res: ServerResponse, handler: Handler): boolean {
    const method = req.method;
    if ((method !== 'GET' && method !== 'POST') || this.closing) return false;
    const entry = this.byUrl[method].get(req.url!);
    if (entry === undefined) return false;
    if (method === 'GET') return this.answer(entry, req, res, null, performance.now());
    const h = req.headers;
    const length = Number(h['content-length']);
    if (!(length > 0 && length <= FAST_BODY_LIMIT) || h['transfer-encoding'] !== undefined || !isPlainJson(h['content-type'])) return false;
    this.readBody(entry, req, res, handler, length);
    return true;
  }

  /**
   * Reads a POST's body of `length` bytes (Node's parser holds the client to its Content-Length), then
   * answers it on the fast path, or puts the bytes back and hands the request to Fastify. A request
   * that fails before its body is whole is Fastify's too, with what was read put back.
   */
  private readBody(entry: Entry, req: IncomingMessage, res: ServerResponse, handler: Handler, length: number): void {
    const start = performance.now();
    const chunks: Buffer[] = [];
    let got = 0;
    const finish = (whole: boolean): void => {
      req.removeListener('readable', onReadable);
      req.removeListener('end', onFailed);
      req.removeListener('error', onFailed);
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, got);
      if (whole && !this.closing && this.answer(entry, req, res, body, start)) return;
      if (got > 0 && !req.readableEnded) req.unshift(body);
      handler(req, res);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while (got < length && (chunk = req.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        got += chunk.length;
      }
      if (got >= length) finish(true);
    };
    const onFailed = (): void => finish(false);
    req.on('readable', onReadable);
    req.on('end', onFailed);
    req.on('error', onFailed);
  }

  /** Writes the fast path's answer and returns true, or returns false when it has none. */
  private answer(entry: Entry, req: IncomingMessage, res: ServerResponse, body: Buffer | null, start: number): boolean {
    const ip = (this.trustProxy ? proxyAddr.all(req, TRUST_ALL).at(-1) : req.socket.remoteAddress) ?? '';
    let a;
    try {
      a = entry.answer(req, ip, body);
    } catch {
      a = null; // the route's handler meets the same failure and answers it in the protocol's shape
    }
    if (a === null) return false;
    const id = requestIdFrom(req.headers, this.freshId);
    let headers = this.withId.get(a);
    if (headers === undefined) this.withId.set(a, (headers = [...a.headers, 'x-request-id', '']));
    headers[headers.length - 1] = id;
    res.writeHead(a.status, headers);
    res.end(a.body);
    this.served++;
    const ms = performance.now() - start;
    entry.observe(entry.method, a.status, ms / 1000);
    if (this.log !== null) logFastCompletion(this.log, { method: entry.method, url: req.url!, id, ip }, a.status, ms);
    return true;
  }
}

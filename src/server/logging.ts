/**
 * Request logging that cannot leak a secret: headers are never logged, and query values whose
 * name suggests a credential are replaced before the URL is written.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';

/** Query parameter names that hold a credential (whole names: `apiKeyType` or `includeOnlyActiveTokens` are not secrets). */
const SECRET_PARAM = /^(?:x[-_]?)?(?:api[-_]?key|key|token|access[-_]?token|refresh[-_]?token|id[-_]?token|secret|client[-_]?secret|password|passwd|pwd|auth|authorization|session|session[-_]?id|credentials?|code)$/i;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Anything shaped like one of Keyward's tokens, wherever a client put it (a path segment, a query value
 * under an innocent name): Harness NG `pat.`/`sat.` tokens (the secret is the last part), ZenML keys, and
 * long base64 runs such as CG keys (base64 of `<account>::<80 alphanumerics>`, well over 100 characters;
 * a `/` in one is percent-encoded in a path segment or query value).
 */
const TOKEN_SHAPES = /(?:pat|sat)\.[^/?&#.]*\.[0-9a-fA-F]{24}\.[^/?&#]+|ZENKEY_[^/?&#]+|[A-Za-z0-9+_%-]{100,}(?:=|%3D){0,2}/g;

function redactTokens(text: string): string {
  return text.replace(TOKEN_SHAPES, '[REDACTED]');
}

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return redactTokens(url);
  const params = new URLSearchParams(url.slice(q + 1));
  const out: string[] = [];
  for (const [k, v] of params) out.push(`${encodeURIComponent(k)}=${SECRET_PARAM.test(k) ? '[REDACTED]' : redactTokens(encodeURIComponent(v))}`);
  return `${redactTokens(url.slice(0, q))}?${out.join('&')}`;
}

/** Honours a well-formed X-Request-Id (Harness clients send X-requestId: the same header). */
export function requestIdFrom(headers: FastifyRequest['headers'], fresh: () => string): string {
  const h = headers['x-request-id'];
  const v = Array.isArray(h) ? h[0] : h;
  return typeof v === 'string' && REQUEST_ID.test(v) ? v : fresh();
}

/**
 * Fresh request ids: a per-process random prefix (80 bits, so ids from different nodes and restarts
 * do not collide) and a counter, instead of a random UUID per request, written in a UUID's shape
 * (8-4-4-4-12 hex digits: the prefix's 20, then the counter's 12), because Harness NG answers a fresh
 * UUID as `correlationId` when the client sends no `X-requestId` (docs/compat/harness-ng.md) and
 * the correlation id is the request id.
 */
export function requestIdCounter(): () => string {
  const hex = randomBytes(10).toString('hex');
  const prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-`;
  let n = 0;
  return () => prefix + (++n).toString(16).padStart(12, '0');
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
type LogFn = (...args: unknown[]) => void;

/**
 * A request's logger that makes its pino child (with the request id bound) only when something is
 * logged at an enabled level: at `warn`, a request that logs nothing costs no child at all.
 */
class LazyChildLogger {
  private made: FastifyBaseLogger | null = null;
  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Record<string, unknown>,
    private readonly opts: Record<string, unknown>,
  ) {}

  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.opts));
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return ((this.made ?? this.parent) as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled(level);
  }

  child(bindings: Record<string, unknown>, opts?: Record<string, unknown>): FastifyBaseLogger {
    return this.real.child(bindings, opts);
  }

  silent(): void {}
}
for (const level of LEVELS) {
  Object.defineProperty(LazyChildLogger.prototype, level, {
    value: function (this: LazyChildLogger, ...args: unknown[]) {
      if (this.isLevelEnabled(level)) (this as unknown as { real: Record<string, LogFn> }).real[level]!(...args);
    },
  });
}

/**
 * Fastify's childLoggerFactory: the request's child logger made lazily. A route with its own log
 * level gets its child at once (the level must hold from the first line).
 */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Record<string, unknown>, opts: Record<string, unknown>): FastifyBaseLogger {
  if (opts.level !== undefined) return logger.child(bindings, opts);
  return new LazyChildLogger(logger, bindings, opts) as unknown as FastifyBaseLogger;
}

/**
 * The one log line of a request, when it completes (Fastify's own two lines per request are off:
 * `disableRequestLogging`). Installed only when the level is `info` or lower.
 */
export function logCompletion(req: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.log.info({ req, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  done();
}

/** The same line for a request answered on a route's fast path (src/server/fastPaths.ts), which has no Fastify request. */
export function logFastCompletion(log: FastifyBaseLogger, req: { method: string; url: string; id: string; ip: string }, statusCode: number, responseTime: number): void {
  log.info({ reqId: req.id, req, res: { statusCode }, responseTime }, 'request completed');
}

export const serializers = {
  req(req: { method: string; url: string; id?: string; ip?: string }) {
    return { method: req.method, url: redactUrl(req.url), requestId: req.id, remoteAddress: req.ip };
  },
  res(res: { statusCode: number }) {
    return { statusCode: res.statusCode };
  },
};

/** Defence in depth: if a header object ever reaches a log line, its credentials are censored. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  '*.token',
  '*.password',
  '*.secret',
];

/**
 * Request logging that cannot leak a secret: headers are never logged, and query values whose
 * name suggests a credential are replaced before the URL is written.
 */
import type { FastifyRequest } from 'fastify';

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

/**
 * Request logging that cannot leak a secret: headers are never logged, and query values whose
 * name suggests a credential are replaced before the URL is written.
 */
import type { FastifyRequest } from 'fastify';

const SECRET_PARAM = /token|key|secret|password|passwd|auth|session|credential|code/i;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const out: string[] = [];
  for (const [k, v] of params) out.push(`${encodeURIComponent(k)}=${SECRET_PARAM.test(k) ? '[REDACTED]' : encodeURIComponent(v)}`);
  return `${url.slice(0, q)}?${out.join('&')}`;
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

/**
 * What the framework middleware (fastify.ts, express.ts, hono.ts) share: where the token is read
 * from and how a verification becomes an HTTP answer. Each adapter only translates.
 */
import { KeywardUnavailableError, type KeywardClient } from './client.js';
import type { Verified, VerifyOptions, VerifyResult } from './types.js';

export interface MiddlewareOptions extends VerifyOptions {
  /** The client that verifies (one per process, so its cache is shared). */
  client: KeywardClient;
}

/** The presented token: `X-Api-Key`, else `Authorization: Bearer`; null when neither is there. */
export function tokenFrom(header: (name: string) => string | string[] | null | undefined): string | null {
  const first = (v: string | string[] | null | undefined) => (Array.isArray(v) ? v[0] : v) ?? null;
  const apiKey = first(header('x-api-key'));
  if (apiKey) return apiKey;
  const auth = first(header('authorization'));
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth) : null;
  return m ? m[1]!.trim() : null;
}

export type Decision =
  | { allowed: true; verified: Verified }
  | { allowed: false; status: 401 | 403 | 503; body: { error: string; reason: string }; headers: Record<string, string> };

const UNAVAILABLE: Decision = { allowed: false, status: 503, body: { error: 'unavailable', reason: 'keyward_unreachable' }, headers: { 'retry-after': '1' } };

/**
 * 401 for no valid token, 403 for a missing permission or scope, 503 when Keyward cannot answer.
 * Synchronous when the client's cache answers (so a hit adds no promise to the request), else a promise.
 */
export function decide(token: string | null, options: MiddlewareOptions): Decision | Promise<Decision> {
  const now = options.client.verifyCached(token, options);
  if (now !== undefined) return decision(now);
  return options.client.verify(token, options).then(decision, (e: unknown) => {
    if (e instanceof KeywardUnavailableError) return UNAVAILABLE;
    throw e;
  });
}

function decision(r: VerifyResult): Decision {
  if (r.valid) return { allowed: true, verified: r };
  if (r.reason === 'permission_denied' || r.reason === 'out_of_scope') return { allowed: false, status: 403, body: { error: 'forbidden', reason: r.reason }, headers: {} };
  const challenge = r.reason === 'no_token' ? 'Bearer' : 'Bearer error="invalid_token"';
  return { allowed: false, status: 401, body: { error: 'unauthorized', reason: r.reason }, headers: { 'www-authenticate': challenge } };
}

/**
 * What the framework middleware (fastify.ts, express.ts, hono.ts) share: where the token is read
 * from and how a verification becomes an HTTP answer. Each adapter only translates.
 */
import { KeywardUnavailableError, type KeywardClient } from './client.js';
import type { Verified, VerifyOptions } from './types.js';

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

/** 401 for no valid token, 403 for a missing permission or scope, 503 when Keyward cannot answer. */
export async function decide(token: string | null, options: MiddlewareOptions): Promise<Decision> {
  let r;
  try {
    r = await options.client.verify(token, options);
  } catch (e) {
    if (!(e instanceof KeywardUnavailableError)) throw e;
    return { allowed: false, status: 503, body: { error: 'unavailable', reason: 'keyward_unreachable' }, headers: { 'retry-after': '1' } };
  }
  if (r.valid) return { allowed: true, verified: r };
  if (r.reason === 'permission_denied' || r.reason === 'out_of_scope') return { allowed: false, status: 403, body: { error: 'forbidden', reason: r.reason }, headers: {} };
  const challenge = r.reason === 'no_token' ? 'Bearer' : 'Bearer error="invalid_token"';
  return { allowed: false, status: 401, body: { error: 'unauthorized', reason: r.reason }, headers: { 'www-authenticate': challenge } };
}

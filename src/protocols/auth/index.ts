/**
 * Authentication, the one way into every protocol (docs/architecture.md). Every Keyward API takes a
 * token from `X-Api-Key` (any case) or `Authorization: Bearer`, and checks it through the one
 * verification service. The console's session cookie is accepted in their place, but only together
 * with the `X-Keyward-Console: 1` header: a cross-site page cannot set that header without a CORS
 * preflight Keyward never grants, so the cookie alone (which a browser attaches by itself)
 * authenticates nothing.
 *
 * This folder is shared plumbing, not a protocol: the protocols import it, and it reaches data only
 * through services. It needs no hook: a request that presents no token pays nothing for the console
 * session, which is read only when `authenticate` finds no token.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { Caller } from '../../services/context.js';
import type { Services } from '../../services/index.js';
import { actorOf } from '../../domain/verification.js';
import type { Verified, VerifyMeta, VerifyResult } from '../../services/verification.js';

/** What these helpers read of a request: its headers (a Fastify request's, or a raw one's on a fast path). */
type WithHeaders = { readonly headers: IncomingHttpHeaders };

/**
 * The one record of who is calling from where: the client address and user-agent, as verification and
 * usage record them. `ip`: the request's address as Fastify gives it (trust-proxy aware); a fast path
 * (protocols/contract/fastPath.ts) is handed the same.
 */
export function clientOf(req: WithHeaders & { readonly ip: string }): VerifyMeta {
  const ua = req.headers['user-agent'];
  return { ip: req.ip, userAgent: typeof ua === 'string' ? ua : null };
}

/** The `Authorization: Bearer` credential, or null. */
export function bearerToken(req: WithHeaders): string | null {
  const auth = req.headers.authorization;
  if (typeof auth !== 'string') return null;
  const m = /^Bearer\s+(.+)$/i.exec(auth);
  return m ? m[1]!.trim() : null;
}

/** The presented credential (`X-Api-Key`, else `Authorization: Bearer`), or null when the request carries none. */
export function presentedToken(req: WithHeaders): string | null {
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey;
  return bearerToken(req);
}

/** The caller a verified credential acts as, for the services. */
export function callerOf(v: Verified, req: FastifyRequest): Caller {
  return { actor: actorOf(v), requestId: String(req.id) };
}

export const CONSOLE_COOKIE = 'keyward_session';
export const CONSOLE_HEADER = 'x-keyward-console';

/** The value of cookie `name`, or null. */
export function readCookie(req: FastifyRequest, name: string): string | null {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim();
      return v === '' ? null : v;
    }
  }
  return null;
}

/** The console session JWT, when the request carries both the cookie and the console header. */
export function consoleSessionJwt(req: FastifyRequest): string | null {
  if (req.headers[CONSOLE_HEADER] !== '1') return null;
  return readCookie(req, CONSOLE_COOKIE);
}

/** A request's console session, resolved at most once per request however often it authenticates. */
const consoleSessions = new WeakMap<FastifyRequest, Promise<VerifyResult>>();

function consoleSession(services: Services, req: FastifyRequest): Promise<VerifyResult> | null {
  let pending = consoleSessions.get(req);
  if (pending === undefined) {
    const jwt = consoleSessionJwt(req);
    if (jwt === null) return null;
    pending = services.consoleSessions.resolve(jwt, clientOf(req)).then((r) => r.verified);
    consoleSessions.set(req, pending);
  }
  return pending;
}

/**
 * Verifies the request's credential: a presented token, else a console session. A request without
 * either is rejected as "malformed".
 */
export async function authenticate(services: Services, req: FastifyRequest): Promise<VerifyResult> {
  const token = presentedToken(req);
  if (token === null) {
    return consoleSession(services, req) ?? { valid: false, reason: 'malformed' };
  }
  return services.verification.verify(token, clientOf(req));
}

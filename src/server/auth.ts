/**
 * Authentication of API callers: every Keyward API takes a token from `X-Api-Key` (any case) or
 * `Authorization: Bearer`, and checks it through the one verification service.
 */
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../domain/model.js';
import type { Caller } from '../services/context.js';
import type { VerificationService, Verified, VerifyResult } from '../services/verification.js';

/** The presented credential, or null when the request carries none. */
export function presentedToken(req: FastifyRequest): string | null {
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey;
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    if (m) return m[1]!.trim();
  }
  return null;
}

export function actorOf(v: Verified): Actor {
  const via = { apiKeyId: v.apiKeyId, tokenId: v.tokenId };
  if (v.principal.type === 'USER') {
    return { type: 'USER', id: v.principal.id, accountId: v.accountId, isOperator: v.principal.isOperator, via };
  }
  return { type: 'SERVICE_ACCOUNT', id: v.principal.id, identifier: v.principal.identifier, scope: v.principal.scope, via };
}

export function callerOf(v: Verified, req: FastifyRequest): Caller {
  return { actor: actorOf(v), requestId: String(req.id) };
}

/** Verifies the request's credential. A request without one is rejected as "malformed". */
export async function authenticate(verification: VerificationService, req: FastifyRequest): Promise<VerifyResult> {
  const token = presentedToken(req);
  if (token === null) return { valid: false, reason: 'malformed' };
  const ua = req.headers['user-agent'];
  return verification.verify(token, { ip: req.ip, userAgent: typeof ua === 'string' ? ua : null });
}

/**
 * ZenML request authentication (spec zenml.md section 6): the session JWT from the cookie, else
 * from `Authorization: Bearer`. A session made with an API key is re-checked on every request
 * (key and service account must exist and be active) through the verification cache. A Keyward
 * token in the bearer header is accepted too, so admins can manage ZenML service accounts with it.
 */
import type { FastifyRequest } from 'fastify';
import { looksLikeJwt } from '../../domain/jwt.js';
import type { Actor } from '../../domain/model.js';
import type { Services } from '../../services/index.js';
import type { Caller } from '../../services/context.js';
import { actorOf, type VerifyFailureReason } from '../../services/verification.js';
import { getUser } from '../../store/users.js';
import { credentialsNotValid, plain } from './errors.js';
import { uuidToUserId } from './models.js';

export interface ZenmlCaller {
  caller: Caller;
  accountId: string;
  /** The API key the session was made with, when it was. */
  apiKeyId: string | null;
}

export function cookieName(serverId: string): string {
  return `zenml-server-${serverId}`;
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return null;
}

/** ZenML's message for each way an API key can fail. */
export function keyFailure(reason: VerifyFailureReason, keyId: string, saId: string | null): string {
  switch (reason) {
    case 'malformed':
      return 'error decoding API key';
    case 'unknown':
    case 'deleted':
      return `error retrieving API key ${keyId}`;
    case 'principal_inactive':
      return `service account ${saId ?? ''} associated with API key ${keyId} is not active`;
    case 'key_inactive':
      return `API key ${keyId} associated with service account ${saId ?? ''} is not active`;
    default:
      return `could not verify key value for API key ${keyId}`;
  }
}

export async function zenmlCaller(services: Services, req: FastifyRequest): Promise<ZenmlCaller> {
  const serverId = await services.sessions.serverId();
  const auth = req.headers.authorization;
  const bearer = typeof auth === 'string' && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '').trim() : null;
  const token = readCookie(req.headers.cookie, cookieName(serverId)) ?? bearer ?? (typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : null);
  if (!token) throw plain(401, 'Not authenticated');

  if (looksLikeJwt(token)) {
    const claims = await services.sessions.verify(token);
    if (!claims) throw credentialsNotValid('invalid authentication token');
    const keyId = typeof claims.api_key_id === 'string' ? claims.api_key_id : null;
    if (keyId) {
      const v = await services.verification.keySession(keyId);
      if (!v.valid) throw credentialsNotValid(keyFailure(v.reason, keyId, claims.sub));
      if (v.principal.id !== claims.sub) throw credentialsNotValid(`error retrieving API key ${keyId}`);
      services.usage.recordKeyLogin(keyId, services.ctx.clock.now());
      return { caller: { actor: actorOf(v), requestId: String(req.id) }, accountId: v.accountId, apiKeyId: keyId };
    }
    const user = await getUser(services.ctx.store.db, uuidToUserId(claims.sub));
    if (!user || !user.active) throw credentialsNotValid('the user associated with this session does not exist or is not active');
    const actor: Actor = { type: 'USER', id: user.id, accountId: user.accountId, isOperator: user.isOperator, via: { apiKeyId: null, tokenId: null } };
    return { caller: { actor, requestId: String(req.id) }, accountId: user.accountId, apiKeyId: null };
  }

  const ua = req.headers['user-agent'];
  const v = await services.verification.verify(token, { ip: req.ip, userAgent: typeof ua === 'string' ? ua : null });
  if (!v.valid) throw credentialsNotValid('invalid credentials');
  return { caller: { actor: actorOf(v), requestId: String(req.id) }, accountId: v.accountId, apiKeyId: v.format === 'zenml' ? v.apiKeyId : null };
}

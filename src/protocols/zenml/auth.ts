/**
 * ZenML request authentication (docs/compat/zenml.md): the session JWT from the cookie, else from
 * `Authorization: Bearer`, read and verified through the shared authentication module
 * (protocols/auth). A session made with an API key is re-checked on every request
 * (key and service account must exist and be active) through the verification cache. A Keyward
 * token in the bearer header is accepted too, so admins can manage ZenML service accounts with it.
 */
import type { FastifyRequest } from 'fastify';
import { looksLikeJwt } from '../../domain/jwt.js';
import type { Services } from '../../services/index.js';
import type { Caller } from '../../services/context.js';
import type { VerifyFailureReason } from '../../services/verification.js';
import { bearerToken, callerOf, clientOf, presentedToken, readCookie } from '../auth/index.js';
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

/** The session cookie, percent-decoded as ZenML's server reads it (a value that does not decode is taken as it is). */
function sessionCookie(req: FastifyRequest, serverId: string): string | null {
  const raw = readCookie(req, cookieName(serverId));
  if (raw === null) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
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
  const token = sessionCookie(req, serverId) ?? bearerToken(req) ?? presentedToken(req);
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
      return { caller: callerOf(v, req), accountId: v.accountId, apiKeyId: keyId };
    }
    const actor = await services.zenml.sessionUser(uuidToUserId(claims.sub));
    if (!actor || actor.type !== 'USER') throw credentialsNotValid('the user associated with this session does not exist or is not active');
    return { caller: { actor, requestId: String(req.id) }, accountId: actor.accountId, apiKeyId: null };
  }

  const v = await services.verification.verify(token, clientOf(req));
  if (!v.valid) throw credentialsNotValid('invalid credentials');
  return { caller: callerOf(v, req), accountId: v.accountId, apiKeyId: v.format === 'zenml' ? v.apiKeyId : null };
}

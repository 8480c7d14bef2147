/**
 * Request plumbing for Harness CG: the key in `X-Api-Key` (or `Authorization: Bearer`), the account
 * in `?accountId=` (the Go SDK adds it to every GraphQL call; scripts add it to every REST call).
 * A key only ever acts in its own account: naming another one is the same refusal as a bad key.
 */
import type { FastifyRequest } from 'fastify';
import { authenticate, callerOf } from '../auth/index.js';
import type { Caller } from '../../services/context.js';
import type { Services } from '../../services/index.js';
import type { Verified } from '../../services/verification.js';

export interface CgContext {
  caller: Caller;
  verified: Verified;
  accountId: string;
}

/** What every GraphQL resolver receives. */
export interface GqlContext {
  services: Services;
  cg: CgContext;
}

export function queryAccount(req: FastifyRequest): string | undefined {
  const v = (req.query as Record<string, unknown> | undefined)?.accountId;
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s !== '' ? s : undefined;
}

/** The caller, or null when the key is missing, bad, or of another account than `?accountId=`. */
export async function cgAuth(services: Services, req: FastifyRequest): Promise<CgContext | null> {
  const v = await authenticate(services, req);
  if (!v.valid) return null;
  const named = queryAccount(req);
  if (named !== undefined && named !== v.accountId) return null;
  return { caller: callerOf(v, req), verified: v, accountId: v.accountId };
}

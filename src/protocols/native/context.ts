import type { FastifyRequest } from 'fastify';
import { UnauthenticatedError } from '../../domain/errors.js';
import type { Services } from '../../services/index.js';
import type { Caller } from '../../services/context.js';
import { authenticate, callerOf } from '../auth/index.js';
import type { Verified } from '../../services/verification.js';
import { makeScope } from '../../domain/scope.js';
import type { ApiKeyType } from '../../domain/tokens.js';

/** The authenticated caller of a native request, or a 401. */
export async function nativeCaller(services: Services, req: FastifyRequest): Promise<{ caller: Caller; verified: Verified }> {
  const v = await authenticate(services, req);
  if (!v.valid) throw new UnauthenticatedError('A valid token is required in X-Api-Key or Authorization: Bearer', v.reason);
  return { caller: callerOf(v, req), verified: v };
}

export const secured: Array<Record<string, string[]>> = [{ apiKey: [] }, { bearer: [] }];

export const pageQuerySchema = {
  pageIndex: { type: 'integer', minimum: 0, default: 0 },
  pageSize: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
} as const;

export const errorResponse = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        fields: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
      },
    },
    requestId: { type: 'string' },
  },
} as const;

/** The error answers of a native route: `{error, requestId}` (errors.ts) for each status it gives. */
export const nativeErrors = <S extends number>(...statuses: S[]) => Object.fromEntries(statuses.map((s) => [s, errorResponse])) as Record<S, typeof errorResponse>;

/** `/v1/accounts/:accountId/...`: the account in the path. */
export const accountParams = { type: 'object', required: ['accountId'], properties: { accountId: { type: 'string', maxLength: 64 } } } as const;

/** A page of a list as the native API answers it: the items, the total, and the page that was asked for. */
export const pageSchema = (items: Record<string, unknown>) =>
  ({ type: 'object', properties: { items: { type: 'array', items }, total: { type: 'integer' }, pageIndex: { type: 'integer' }, pageSize: { type: 'integer' } } }) as const;
export function pageAnswer<T>(page: { items: T[]; total: number }, q: { pageIndex: number; pageSize: number }) {
  return { items: page.items, total: page.total, pageIndex: q.pageIndex, pageSize: q.pageSize };
}

/** The query that names an API key's tokens (its scope, owner and key), as the token reads take it. */
export const keyTokensQuery = {
  orgIdentifier: { type: 'string', maxLength: 128 },
  projectIdentifier: { type: 'string', maxLength: 128 },
  apiKeyType: { type: 'string', enum: ['USER', 'SERVICE_ACCOUNT'] },
  parentIdentifier: { type: 'string', maxLength: 128 },
  apiKeyIdentifier: { type: 'string', maxLength: 128 },
} as const;
export function keyTokensFilter(accountId: string, q: { orgIdentifier?: string; projectIdentifier?: string; apiKeyType: ApiKeyType; parentIdentifier?: string; apiKeyIdentifier?: string }) {
  return { owner: { scope: makeScope(accountId, q.orgIdentifier, q.projectIdentifier), type: q.apiKeyType, parentIdentifier: q.parentIdentifier }, apiKeyIdentifier: q.apiKeyIdentifier };
}

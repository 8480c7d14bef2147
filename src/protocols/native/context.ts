import type { FastifyRequest } from 'fastify';
import { UnauthenticatedError } from '../../domain/errors.js';
import type { Services } from '../../services/index.js';
import type { Caller } from '../../services/context.js';
import { authenticate, callerOf } from '../auth/index.js';
import type { Verified } from '../../services/verification.js';

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

/**
 * The one place where Keyward's domain errors become Harness NextGen's wire shapes (docs/compat/harness-ng.md):
 * SUCCESS with data; FAILURE with errors[] for validation; ERROR with responseMessages[] otherwise;
 * NG_ACCESS_DENIED with failedPermissionChecks; Dropwizard's shape for unparseable JSON.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isKeywardError, UnavailableError, type FailedPermissionCheck, type FieldViolation } from '../../domain/errors.js';
import { presentedToken } from '../auth/index.js';
import { NUL_RULE } from '../../domain/validation.js';

/** Harness's CorrelationFilter takes `X-requestId` (not `X-Request-Id`, which becomes req.id); else the request id. */
export function correlationId(req: FastifyRequest): string {
  const h = req.headers['x-requestid'];
  const v = Array.isArray(h) ? h[0] : h;
  return typeof v === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(v) ? v : String(req.id);
}

export function success<T>(req: FastifyRequest, data: T) {
  return { status: 'SUCCESS', data, metaData: null, correlationId: correlationId(req) };
}

/** A Harness error to be sent as-is; route code throws it where Harness's answer differs from the default mapping. */
export class NgError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message ?? 'error'));
  }
}

export function failureBody(req: FastifyRequest, code: string, message: string, errors: Array<{ fieldId: string; error: string }> | null) {
  return { status: 'FAILURE', code, message, correlationId: correlationId(req), errors };
}

export function errorBody(req: FastifyRequest | null, code: string, message: string) {
  return {
    status: 'ERROR',
    code,
    message,
    correlationId: req ? correlationId(req) : null,
    detailedMessage: null,
    responseMessages: [{ code, level: 'ERROR', message, exception: null, failureTypes: [] }],
    metadata: null,
  };
}

export const ngFailure = (req: FastifyRequest, violations: FieldViolation[], code = 'INVALID_REQUEST') =>
  new NgError(400, failureBody(req, code, violations.map((v) => `${v.field}: ${v.message}`).join(', '), violations.map((v) => ({ fieldId: v.field, error: v.message }))));

export const ngInvalidRequest = (req: FastifyRequest, message: string) => new NgError(400, errorBody(req, 'INVALID_REQUEST', `Invalid request: ${message}`));
export const ngInvalidArgument = (req: FastifyRequest, message: string) => new NgError(400, errorBody(req, 'INVALID_ARGUMENT', `Invalid argument(s): ${message}`));
/** JAX-RS NotFound, which Harness maps to 400 (unknown route, unconvertible query parameter). */
export const ngResourceNotFound = (req: FastifyRequest, message = 'HTTP 404 Not Found') =>
  new NgError(400, failureBody(req, 'RESOURCE_NOT_FOUND_EXCEPTION', message, null));
export const ngInvalidToken = (req: FastifyRequest) => new NgError(401, errorBody(req, 'INVALID_TOKEN', 'Token is not valid.'));

function accessDenied(message: string, checks: FailedPermissionCheck[]) {
  return {
    status: 'ERROR',
    code: 'NG_ACCESS_DENIED',
    message,
    correlationId: null,
    detailedMessage: null,
    responseMessages: null,
    metadata: null,
    failedPermissionChecks: checks.map((c) => ({
      permission: c.permission,
      resourceType: c.resourceType,
      resourceIdentifier: c.resourceIdentifier,
      resourceScope: { accountIdentifier: c.scope.accountId, orgIdentifier: c.scope.orgId, projectIdentifier: c.scope.projectId },
    })),
  };
}

/** Maps any error to [HTTP status, body]. */
export function toNg(err: unknown, req: FastifyRequest): [number, unknown] {
  if (err instanceof NgError) return [err.httpStatus, err.body];
  if (isKeywardError(err)) {
    switch (err.kind) {
      case 'invalid_argument': {
        const e = err as import('../../domain/errors.js').InvalidArgumentError;
        // The app-wide NUL rule (src/server/nul.ts) runs before the handler authenticates; Harness's
        // auth filter runs before anything reads the request, so with no credential it is still a 401.
        if (e.violations.some((v) => v.message === NUL_RULE) && presentedToken(req) === null) return [401, errorBody(req, 'INVALID_TOKEN', 'Token is not valid.')];
        if (e.reason === 'field' && e.violations.length > 0) return [400, ngFailure(req, e.violations).body];
        if (e.reason === 'scope_missing') return [400, errorBody(req, 'INVALID_ARGUMENT', `Invalid argument(s): ${e.message}`)];
        return [400, errorBody(req, 'INVALID_REQUEST', `Invalid request: ${e.message}`)];
      }
      case 'conflict':
        return [400, errorBody(req, 'DUPLICATE_FIELD', err.message)];
      case 'limit_exceeded':
        return [400, errorBody(req, 'INVALID_REQUEST', `Invalid request: ${err.message}`)];
      case 'precondition_failed':
        return [400, errorBody(req, 'INVALID_REQUEST', `Invalid request: ${err.message}`)];
      case 'not_found':
        // Harness answered 500 (Preconditions.checkState) for most missing entities; Keyward answers 404 as its newer servers do.
        return [404, errorBody(req, 'ENTITY_NOT_FOUND', err.message)];
      case 'unauthenticated':
        return [401, errorBody(req, 'INVALID_TOKEN', 'Token is not valid.')];
      case 'permission_denied': {
        const e = err as import('../../domain/errors.js').PermissionDeniedError;
        return [403, accessDenied(e.message, e.failedChecks)];
      }
      case 'unavailable':
        // Harness's clients (go-retryablehttp) retry a 503; `sendNg` adds Retry-After.
        return [503, errorBody(req, 'SERVICE_UNAVAILABLE', err.message)];
    }
  }
  const fe = err as FastifyError;
  // Harness's auth filter runs before the body is read: with no credential, a body the parser refused is still a 401.
  if (typeof fe.code === 'string' && fe.code.startsWith('FST_ERR_CTP_') && presentedToken(req) === null) return [401, errorBody(req, 'INVALID_TOKEN', 'Token is not valid.')];
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe instanceof SyntaxError) {
    return [400, { code: 400, message: 'Unable to process JSON' }];
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return [415, { code: 415, message: 'HTTP 415 Unsupported Media Type' }];
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return [413, { code: 413, message: 'Request entity too large' }];
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return [400, errorBody(req, 'INVALID_REQUEST', `Invalid request: ${fe.message}`)];
  }
  req.log.error({ err }, 'unhandled error');
  return [500, errorBody(req, 'UNKNOWN_ERROR', 'Oops, something went wrong on our end. Please contact your Keyward administrator.')];
}

export function sendNg(err: unknown, req: FastifyRequest, reply: FastifyReply) {
  const [status, body] = toNg(err, req);
  if (err instanceof UnavailableError) reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.status(status).send(body);
}

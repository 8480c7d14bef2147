/**
 * The one place where Keyward's domain errors become ZenML's shapes (docs/compat/zenml.md):
 * `{"detail": ["<ExceptionClass>", "<message>"]}`, with Python's repr() quoting for KeyError; a
 * bare `["ValueError", "..."]` array for malformed requests; a string `detail` for plain HTTP errors.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isKeywardError, UnavailableError, type LimitExceededError } from '../../domain/errors.js';

/** Python's repr() of a str: single quotes unless the text has ' and no ". */
export function pyRepr(s: string): string {
  const useDouble = s.includes("'") && !s.includes('"');
  const q = useDouble ? '"' : "'";
  const body = s.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), `\\${q}`).replace(/\n/g, '\\n');
  return `${q}${body}${q}`;
}

/** An error with ZenML's exact status and body; thrown where the default mapping does not fit. */
export class ZenmlError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'object' && body && 'detail' in body ? JSON.stringify((body as { detail: unknown }).detail) : 'error');
  }
}

export const detail = (status: number, cls: string, message: string) => new ZenmlError(status, { detail: [cls, message] });
export const plain = (status: number, message: string) => new ZenmlError(status, { detail: message });
/** FastAPI's request-validation handler: a bare array, no `detail` key. */
export const requestInvalid = (message: string) => new ZenmlError(422, ['ValueError', message]);
export const credentialsNotValid = (message: string) => detail(401, 'CredentialsNotValid', `Authentication error: ${message}`);

/** "Only admin users can perform `<action>` without RBAC enabled." for a caller without the permission. */
export function adminOnly(action: string): ZenmlError {
  return detail(403, 'IllegalOperationError', `Only admin users can perform \`${action}\` without RBAC enabled.`);
}

export function toZenml(err: unknown, req: FastifyRequest): [number, unknown] {
  if (err instanceof ZenmlError) return [err.httpStatus, err.body];
  if (isKeywardError(err)) {
    switch (err.kind) {
      case 'not_found':
        return [404, { detail: ['KeyError', pyRepr(err.message)] }];
      case 'conflict':
        return [409, { detail: ['EntityExistsError', err.message] }];
      case 'invalid_argument':
        // On these routes only request-body rules raise it (lengths, required name, retain period):
        // in ZenML those are pydantic request-validation errors, a bare array.
        return [422, ['ValueError', err.message]];
      case 'limit_exceeded':
        return [403, { detail: ['IllegalOperationError', `${err.message} (the limit is ${(err as LimitExceededError).limit})`] }];
      case 'precondition_failed':
        return [403, { detail: ['IllegalOperationError', err.message] }];
      case 'unauthenticated':
        return [401, { detail: ['CredentialsNotValid', `Authentication error: ${err.message}`] }];
      case 'permission_denied':
        return [403, { detail: ['IllegalOperationError', err.message] }];
      case 'unavailable':
        // ZenML's client raises the class named here (RuntimeError) with the message; `sendZenml` adds Retry-After.
        return [503, { detail: ['RuntimeError', err.message] }];
    }
  }
  const fe = err as FastifyError;
  if (fe.validation || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe instanceof SyntaxError || fe.statusCode === 422) {
    return [422, ['ValueError', fe.message]];
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return [fe.statusCode, { detail: fe.message }];
  req.log.error({ err }, 'unhandled error');
  return [500, { detail: ['RuntimeError', 'Internal server error'] }];
}

export function sendZenml(err: unknown, req: FastifyRequest, reply: FastifyReply) {
  const [status, body] = toZenml(err, req);
  if (err instanceof UnavailableError) reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.status(status).send(body);
}

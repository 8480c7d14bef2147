/**
 * The one place where domain errors become the native API's shape:
 * `{"error":{"code","message","fields"?},"requestId"}`.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isKeywardError, UnavailableError, type KeywardError } from '../../domain/errors.js';

const STATUS: Record<KeywardError['kind'], [number, string]> = {
  not_found: [404, 'NOT_FOUND'],
  conflict: [409, 'CONFLICT'],
  invalid_argument: [400, 'INVALID_ARGUMENT'],
  unauthenticated: [401, 'UNAUTHENTICATED'],
  permission_denied: [403, 'PERMISSION_DENIED'],
  limit_exceeded: [400, 'LIMIT_EXCEEDED'],
  precondition_failed: [412, 'FAILED_PRECONDITION'],
  unavailable: [503, 'UNAVAILABLE'],
};

export interface NativeErrorBody {
  error: { code: string; message: string; fields?: Array<{ field: string; message: string }> };
  requestId: string;
}

export function nativeError(req: FastifyRequest, code: string, message: string, fields?: Array<{ field: string; message: string }>): NativeErrorBody {
  return { error: { code, message, ...(fields && fields.length > 0 ? { fields } : {}) }, requestId: String(req.id) };
}

/** Turns Ajv's validation errors into fields named the way the caller named them. */
function validationFields(err: FastifyError): Array<{ field: string; message: string }> {
  return (err.validation ?? []).map((v) => {
    const params = v.params as { missingProperty?: string; additionalProperty?: string };
    const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const field = params.missingProperty
      ? [path, params.missingProperty].filter(Boolean).join('.')
      : params.additionalProperty
        ? [path, params.additionalProperty].filter(Boolean).join('.')
        : path || (err.validationContext ?? 'body');
    const message = params.additionalProperty ? 'is not a known field' : (v.message ?? 'is invalid');
    return { field, message };
  });
}

export function sendNativeError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isKeywardError(err)) {
    const [status, code] = STATUS[err.kind];
    if (err instanceof UnavailableError) reply.header('retry-after', String(err.retryAfterSeconds));
    const fields = 'violations' in err ? (err as { violations: Array<{ field: string; message: string }> }).violations : undefined;
    return reply.status(status).send(nativeError(req, code, err.message, fields));
  }
  const fe = err as FastifyError;
  if (fe.validation) {
    // An empty body arrives as no body (src/server/bodies.ts); say so rather than "body must be object".
    if (fe.validationContext === 'body' && req.body === undefined) {
      return reply.status(400).send(nativeError(req, 'INVALID_ARGUMENT', 'The request body is empty; send a JSON object', [{ field: 'body', message: 'is empty' }]));
    }
    const fields = validationFields(fe);
    const message = fields.map((f) => `${f.field}: ${f.message}`).join(', ');
    return reply.status(400).send(nativeError(req, 'INVALID_ARGUMENT', message, fields));
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = fe.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : fe.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_ARGUMENT';
    return reply.status(fe.statusCode).send(nativeError(req, code, fe.message));
  }
  req.log.error({ err }, 'unhandled error');
  return reply.status(500).send(nativeError(req, 'INTERNAL', 'Internal server error'));
}

export function installNativeErrors(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => sendNativeError(err, req, reply));
}

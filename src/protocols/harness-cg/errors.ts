/**
 * The one place where Keyward's domain errors become Harness CG's wire shapes (docs/compat/harness-cg.md): GraphQL errors as graphql-java writes them (`message`, `locations`, `path`,
 * `extensions.classification`; `errors` before `data`, and only when there are errors), and the CG
 * REST envelope `{"metaData":..,"resource":..,"responseMessages":[..]}` with Harness's error codes.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import { isKeywardError, NotFoundError, UnavailableError, type KeywardError } from '../../domain/errors.js';

// ---- GraphQL -------------------------------------------------------------------------------------

export type Classification = 'InvalidSyntax' | 'ValidationError' | 'DataFetchingException' | 'ExecutionAborted';

export interface GqlError {
  message: string;
  locations?: Array<{ line: number; column: number }>;
  path?: Array<string | number>;
  extensions: { classification: Classification; code?: string };
}

/** A refusal before execution (auth, body, size): sent with its own HTTP status. */
export class CgGraphQLHttpError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly body: unknown,
  ) {
    super('graphql http error');
  }
}

/** Harness's answer to a missing or bad key (GraphQLUtils / GraphQLConstants.INVALID_API_KEY). */
export const invalidApiKey = () => new CgGraphQLHttpError(401, { errors: [{ message: 'Invalid Api Key' }] });

export function gqlRequestError(status: number, message: string, classification: Classification = 'ValidationError') {
  return new CgGraphQLHttpError(status, { errors: [{ message, extensions: { classification } }] });
}

/** A domain error raised before a GraphQL request is executed (the app-wide NUL rule): refused over HTTP, never a 500. */
export function gqlRefusal(e: KeywardError): CgGraphQLHttpError {
  if (e.kind === 'unauthenticated') return invalidApiKey();
  return gqlRequestError(e.kind === 'invalid_argument' ? 400 : 403, e.message);
}

/** A domain error's code in Harness's ErrorCode vocabulary. */
function harnessCode(e: KeywardError): string {
  switch (e.kind) {
    case 'not_found':
      return 'RESOURCE_NOT_FOUND';
    case 'conflict':
      return 'DUPLICATE_FIELD';
    case 'permission_denied':
      return 'ACCESS_DENIED';
    case 'unauthenticated':
      return 'INVALID_API_KEY';
    case 'invalid_argument':
      return 'INVALID_ARGUMENT';
    case 'unavailable':
      return 'SERVICE_UNAVAILABLE';
    default:
      return 'INVALID_REQUEST';
  }
}

/**
 * What Harness's data fetchers say for a refusal: access denied says no more than that, and a
 * missing user group or user is said in Harness's words, the only ones the Go SDK takes for "gone"
 * (`harness/helpers/errors.go`: USER_GROUP_NOT_FOUND "No User Group exists", USER_NOT_FOUND "User
 * does not exist"; harness-core's data fetchers throw InvalidRequestException, hence the prefix).
 */
function cgMessage(e: KeywardError): string {
  if (e.kind === 'permission_denied') return 'User not authorized.';
  if (e instanceof NotFoundError && e.resourceType === 'usergroup') return 'Invalid request: No User Group exists';
  if (e instanceof NotFoundError && e.resourceType === 'user') return 'Invalid request: User does not exist';
  return e.message;
}

/**
 * The database could not be reached while answering: the whole request is refused with 503 and
 * Retry-After (a partial `data` would look like an empty result), in graphql-java's error shape.
 */
export function gqlUnavailable(errors: readonly unknown[]): UnavailableError | null {
  for (const e of errors) {
    const original = (e as { originalError?: unknown } | null)?.originalError ?? e;
    if (original instanceof UnavailableError) return original;
  }
  return null;
}

export function sendGqlUnavailable(reply: FastifyReply, e: UnavailableError) {
  reply.header('retry-after', String(e.retryAfterSeconds));
  return reply.status(503).send({ errors: [{ message: e.message, extensions: { classification: 'ExecutionAborted', code: 'SERVICE_UNAVAILABLE' } }] });
}

export function formatGqlError(err: GraphQLError, classification: Classification): GqlError {
  const original = err.originalError;
  const out: GqlError = { message: err.message, extensions: { classification } };
  if (isKeywardError(original)) {
    out.message = cgMessage(original);
    out.extensions.code = harnessCode(original);
  } else if (original && !(original instanceof GraphQLError) && classification === 'DataFetchingException') {
    // An unexpected failure: never show its internals.
    out.message = 'Internal server error';
  }
  if (err.locations) out.locations = err.locations.map((l) => ({ line: l.line, column: l.column }));
  if (err.path) out.path = [...err.path];
  // graphql-java's key order: message, locations, path, extensions.
  return {
    message: out.message,
    ...(out.locations ? { locations: out.locations } : {}),
    ...(out.path ? { path: out.path } : {}),
    extensions: out.extensions,
  };
}

// ---- CG REST -------------------------------------------------------------------------------------

export function restResponse<T>(resource: T) {
  return { metaData: {}, resource, responseMessages: [] as unknown[] };
}

export class CgRestError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function restBody(code: string, message: string) {
  return { metaData: null, resource: null, responseMessages: [{ code, level: 'ERROR', message, exception: null, failureTypes: [] }] };
}

export function toCgRest(err: unknown, req: FastifyRequest): [number, unknown] {
  if (err instanceof CgRestError) return [err.httpStatus, restBody(err.code, err.message)];
  if (isKeywardError(err)) {
    const code = harnessCode(err);
    switch (err.kind) {
      case 'not_found':
        return [404, restBody(code, err.message)];
      case 'permission_denied':
        return [403, restBody(code, cgMessage(err))];
      case 'unauthenticated':
        return [401, restBody(code, 'Invalid Api Key')];
      case 'unavailable':
        // `sendCgRest` adds Retry-After.
        return [503, restBody(code, err.message)];
      default:
        return [400, restBody(code, err.message)];
    }
  }
  const fe = err as FastifyError;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return [413, restBody('INVALID_REQUEST', 'Request entity too large')];
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return [415, restBody('INVALID_REQUEST', 'Unsupported media type')];
  if (fe instanceof SyntaxError || (typeof fe.code === 'string' && fe.code.startsWith('FST_ERR_CTP_'))) return [400, restBody('INVALID_REQUEST', 'Unable to process JSON')];
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return [400, restBody('INVALID_REQUEST', fe.message)];
  req.log.error({ err }, 'unhandled error');
  return [500, restBody('UNKNOWN_ERROR', 'Internal server error')];
}

export function sendCgRest(err: unknown, req: FastifyRequest, reply: FastifyReply) {
  const [status, body] = toCgRest(err, req);
  if (err instanceof UnavailableError) reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.status(status).send(body);
}

/** POST /v1/verify and GET /v1/whoami (GET /v1/verify, the forward-auth shape, is in forwardAuth.ts). */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { VERIFY_REASONS, type VerifyResult } from '../../services/verification.js';
import { nativeCaller, nativeErrors } from './context.js';
import { clientOf } from '../auth/index.js';
import type { ContractApp } from '../contract/index.js';
import { rawAnswer, rawAnswersOf, type FastPath } from '../contract/fastPath.js';

const principalSchema = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: ['USER', 'SERVICE_ACCOUNT'] },
    id: { type: 'string' },
    identifier: { type: 'string' },
    name: { type: 'string' },
    email: { type: 'string' },
    scope: { $ref: 'KeywardScope#' },
  },
} as const;

const verifiedSchema = {
  type: 'object',
  properties: {
    valid: { type: 'boolean' },
    reason: { type: 'string', enum: [...VERIFY_REASONS] },
    principal: principalSchema,
    accountId: { type: 'string' },
    scope: { $ref: 'KeywardScope#' },
    tokenId: { type: 'string' },
    apiKeyId: { type: 'string' },
    apiKeyIdentifier: { type: 'string' },
    apiKeyType: { type: 'string' },
    format: { type: 'string' },
    permissions: { type: 'array', items: { type: 'string' } },
    validFrom: { type: 'integer' },
    expiresAt: { type: ['integer', 'null'] },
    stale: { type: 'boolean', description: 'Present (true) only when the answer came from the cache while the database could not be reached.' },
  },
} as const;

/** Set on an answer served stale (stale-if-error), with the JSON field `stale: true`. */
export const STALE_HEADER = 'keyward-stale';

function render(v: VerifyResult) {
  if (!v.valid) return v.stale ? { valid: false, reason: v.reason, stale: true } : { valid: false, reason: v.reason };
  const out = {
    valid: true,
    principal: { type: v.principal.type, id: v.principal.id, identifier: v.principal.identifier, name: v.principal.name, email: v.principal.email, scope: v.principal.scope },
    accountId: v.accountId,
    scope: v.scope,
    tokenId: v.tokenId,
    apiKeyId: v.apiKeyId,
    apiKeyIdentifier: v.apiKeyIdentifier,
    apiKeyType: v.apiKeyType,
    format: v.format,
    permissions: v.permissions,
    validFrom: v.validFrom,
    expiresAt: v.expiresAt,
  };
  return v.stale ? { ...out, stale: true } : out;
}

/**
 * The answer's JSON, made once per cached result: a cache hit returns the same frozen result object,
 * so its body is a string already (the same bytes the response schema's serializer would write).
 */
const bodies = new WeakMap<VerifyResult, string>();
function body(v: VerifyResult): string {
  let json = bodies.get(v);
  if (json === undefined) {
    json = JSON.stringify(render(v));
    bodies.set(v, json);
  }
  return json;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The same answers in the raw form the fast path writes, made once per cached result. */
const rawOf = rawAnswersOf((v: VerifyResult) => rawAnswer(200, v.stale ? { 'content-type': JSON_TYPE, [STALE_HEADER]: 'true' } : { 'content-type': JSON_TYPE }, body(v)));

/** Longest token the body schema takes, in UTF-16 units: a string this long has at most as many code points. */
const MAX_TOKEN = 4096;

/**
 * The token of a body in the plainest shape the route takes, `{"token": "<1 to 4,096 characters>"}` and
 * nothing else; null for anything else (the route's parser and schema judge it, in the protocol's shape).
 */
function plainToken(body: Buffer): string | null {
  let o: unknown;
  try {
    o = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return null;
  let only = false;
  for (const k in o) {
    if (k !== 'token' || only) return null;
    only = true;
  }
  const token = (o as { token?: unknown }).token;
  return typeof token === 'string' && token.length >= 1 && token.length <= MAX_TOKEN ? token : null;
}

/**
 * POST /v1/verify's fast path (protocols/contract/fastPath.ts): the plain body with a cached token,
 * answered without Fastify's routing; a cache miss or any other body is left to the route, which
 * answers the same.
 */
function verifyFastPath(services: Services): FastPath {
  return (req, ip, body) => {
    const token = body === null ? null : plainToken(body);
    if (token === null) return null;
    const v = services.verification.verifyCached(token, clientOf({ headers: req.headers, ip }));
    return v === undefined ? null : rawOf(v);
  };
}

export function verifyRoutes(app: ContractApp, services: Services): void {
  app.post(
    '/v1/verify',
    {
      // Any string is a token to judge: one with a NUL character is simply "malformed".
      config: { nulAllowed: true, fastPath: verifyFastPath(services) },
      schema: {
        tags: ['verification'],
        summary: 'Verify a token',
        description:
          'Answers 200 whether or not the token is valid: `valid` says which, and `reason` says why not. The call needs no credential of its own; it reveals nothing to a caller who does not hold the token. While the database cannot be reached, an answer the node had cached may be served for a bounded time with `stale: true` and the `Keyward-Stale: true` header; without one the answer is 503 with Retry-After.',
        body: {
          type: 'object',
          required: ['token'],
          properties: { token: { type: 'string', minLength: 1, maxLength: 4096 } },
        },
        response: { 200: verifiedSchema, ...nativeErrors(400, 503) },
      },
    },
    async (req, reply) => {
      const { token } = req.body;
      const v = await services.verification.verify(token, clientOf(req));
      if (v.stale) reply.header(STALE_HEADER, 'true');
      return reply.type(JSON_TYPE).send(body(v));
    },
  );

  app.get(
    '/v1/whoami',
    {
      schema: {
        tags: ['verification'],
        summary: 'The principal behind the presented token',
        security: [{ apiKey: [] }, { bearer: [] }],
        response: { 200: verifiedSchema, ...nativeErrors(401, 503) },
      },
    },
    async (req, reply) => {
      const v = (await nativeCaller(services, req)).verified;
      if (v.stale) reply.header(STALE_HEADER, 'true');
      return render(v);
    },
  );
}

/**
 * GET /v1/verify: the lean verify that reverse proxies' forward-auth calls make (nginx `auth_request`,
 * Traefik `forwardAuth`, Caddy `forward_auth`, Envoy `ext_authz` in HTTP mode). The token comes in the
 * request's own headers (`X-Api-Key` or `Authorization: Bearer`), which are the client's when the proxy
 * forwards them; there is no body. 200 means allowed, 401 no valid token, 403 a missing permission or
 * a scope outside the key's. The facts go in headers too, so a proxy can hand them to its upstream.
 *
 * Per request: read the headers, verify (a cache hit is no I/O), and send an answer made once per
 * cached verification result (its body and headers), unless a permission or scope is required. The
 * plain call (no requirement, a cache hit) is answered on the route's fast path, before Fastify routes it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError } from '../../domain/errors.js';
import type { Scope } from '../../domain/scope.js';
import type { Services } from '../../services/index.js';
import type { Grant } from '../../services/access.js';
import { VERIFY_REASONS, type Verified, type VerifyResult } from '../../services/verification.js';
import { clientOf, presentedToken } from '../auth/index.js';
import { errorResponse, secured } from './context.js';
import { STALE_HEADER } from './verify.js';
import type { ContractApp } from '../contract/index.js';
import { rawAnswer, rawAnswersOf, type FastPath } from '../contract/fastPath.js';

/** The reason given when the request carries no token at all. */
const NO_TOKEN = 'no_token';

export const FORWARD_AUTH_HEADERS = {
  principalType: 'x-keyward-principal-type',
  principalId: 'x-keyward-principal-id',
  principalIdentifier: 'x-keyward-principal-identifier',
  accountId: 'x-keyward-account-id',
  expiresAt: 'x-keyward-expires-at',
  reason: 'x-keyward-reason',
} as const;

/** Request headers a proxy may set per location instead of the query parameters. */
const REQUIRE = {
  permission: 'x-keyward-require-permission',
  account: 'x-keyward-require-account',
  org: 'x-keyward-require-org',
  project: 'x-keyward-require-project',
} as const;

// Empty means "not required", so a proxy can fill one URL from a variable that is empty in some locations.
const NAME = '^[0-9A-Za-z_$.:-]{0,128}$';
const requirementProps = (names: { permission: string; account: string; org: string; project: string }) => ({
  [names.permission]: { type: 'string', pattern: NAME, description: 'A permission the token must hold (at the required scope, else at its key\'s scope); without it, 403.' },
  [names.account]: { type: 'string', pattern: NAME, description: 'The account the token must act in (default: its own).' },
  [names.org]: { type: 'string', pattern: NAME, description: 'The organization the token must act in.' },
  [names.project]: { type: 'string', pattern: NAME, description: 'The project the token must act in (needs the organization).' },
});

const principalHeaders = {
  [FORWARD_AUTH_HEADERS.principalType]: { type: 'string', description: 'USER, SERVICE_ACCOUNT or API_KEY (a Harness CG key).' },
  [FORWARD_AUTH_HEADERS.principalId]: { type: 'string', description: "The principal's id (user id, service account UUID, CG key id)." },
  [FORWARD_AUTH_HEADERS.principalIdentifier]: { type: 'string', description: "The principal's identifier (a service account's identifier; else its id)." },
  [FORWARD_AUTH_HEADERS.accountId]: { type: 'string' },
  [FORWARD_AUTH_HEADERS.expiresAt]: { type: 'string', description: 'When the token expires, in milliseconds since the epoch; empty when it does not.' },
} as const;

const STALE_FIELD = {
  type: 'boolean',
  description: 'Present (true) only when the answer came from the cache while the database could not be reached (with the `Keyward-Stale: true` header).',
} as const;

const compactPrincipal = {
  type: 'object',
  properties: { type: { type: 'string', enum: ['USER', 'SERVICE_ACCOUNT', 'API_KEY'] }, id: { type: 'string' }, identifier: { type: 'string' } },
} as const;

const allowedSchema = {
  description: 'The token is valid (and holds what was required).',
  type: 'object',
  headers: principalHeaders,
  properties: {
    valid: { type: 'boolean', enum: [true] },
    principal: compactPrincipal,
    accountId: { type: 'string' },
    expiresAt: { type: ['integer', 'null'] },
    stale: STALE_FIELD,
  },
} as const;

const rejectedSchema = {
  description: 'No valid token: `reason` says why (`no_token` when none was presented).',
  type: 'object',
  headers: {
    'www-authenticate': { type: 'string' },
    [FORWARD_AUTH_HEADERS.reason]: { type: 'string' },
  },
  properties: { valid: { type: 'boolean', enum: [false] }, reason: { type: 'string', enum: [...VERIFY_REASONS, NO_TOKEN] }, stale: STALE_FIELD },
} as const;

const deniedSchema = {
  description: 'A valid token without the required permission (`permission_denied`), or whose key\'s scope does not contain the required scope (`out_of_scope`).',
  type: 'object',
  headers: { ...principalHeaders, [FORWARD_AUTH_HEADERS.reason]: { type: 'string' } },
  properties: {
    ...allowedSchema.properties,
    reason: { type: 'string', enum: ['permission_denied', 'out_of_scope'] },
    permission: { type: ['string', 'null'] },
    scope: { $ref: 'KeywardScope#' },
  },
} as const;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function principalFacts(v: Verified): Record<string, string> {
  return {
    'content-type': JSON_TYPE,
    'cache-control': 'no-store',
    [FORWARD_AUTH_HEADERS.principalType]: v.principal.type,
    [FORWARD_AUTH_HEADERS.principalId]: v.principal.id,
    [FORWARD_AUTH_HEADERS.principalIdentifier]: v.principal.identifier,
    [FORWARD_AUTH_HEADERS.accountId]: v.accountId,
    // Always present (empty when the token does not expire), so a proxy that copies Keyward's headers
    // over the client's replaces a client-sent one.
    [FORWARD_AUTH_HEADERS.expiresAt]: v.expiresAt === null ? '' : String(v.expiresAt),
    // Answered from the cache while the database could not be reached (stale-if-error), as POST /v1/verify says it.
    ...(v.stale ? { [STALE_HEADER]: 'true' } : {}),
  };
}

function compact(v: Verified) {
  const out = { valid: true, principal: { type: v.principal.type, id: v.principal.id, identifier: v.principal.identifier }, accountId: v.accountId, expiresAt: v.expiresAt };
  return v.stale ? { ...out, stale: true } : out;
}

function rejection(reason: string, stale = false): Answer {
  const a: Answer = {
    status: 401,
    headers: {
      'content-type': JSON_TYPE,
      'cache-control': 'no-store',
      // RFC 6750 section 3: no error code when the request carried no credential.
      'www-authenticate': reason === NO_TOKEN ? 'Bearer realm="keyward"' : 'Bearer realm="keyward", error="invalid_token"',
      [FORWARD_AUTH_HEADERS.reason]: reason,
    },
    body: JSON.stringify(stale ? { valid: false, reason, stale: true } : { valid: false, reason }),
  };
  if (stale) a.headers[STALE_HEADER] = 'true';
  return a;
}

const NO_TOKEN_ANSWER = rejection(NO_TOKEN);

/**
 * The answer for a verification result, made once: a cache hit returns the same frozen result
 * object (and a rejection is one shared object per reason), so this is a map lookup.
 */
const answers = new WeakMap<VerifyResult, Answer>();
function answerFor(v: VerifyResult): Answer {
  let a = answers.get(v);
  if (a === undefined) {
    a = v.valid ? { status: 200, headers: principalFacts(v), body: JSON.stringify(compact(v)) } : rejection(v.reason, v.stale === true);
    answers.set(v, a);
  }
  return a;
}

function send(reply: FastifyReply, a: Answer): FastifyReply {
  return reply.code(a.status).headers(a.headers).send(a.body);
}

/** The same answers in the raw form a fast path writes, made once per answer. */
const rawOf = rawAnswersOf((a: Answer) => rawAnswer(a.status, a.headers, a.body));

/**
 * GET /v1/verify's fast path (protocols/contract/fastPath.ts): the plain call a proxy makes for every
 * request it forwards, with no requirement, answered from the cache without Fastify's routing. A cache
 * miss, or any requirement header, is left to the route's handler (the URL has no query here: the
 * server hands over only the exact path), which answers the same.
 */
function verifyFastPath(services: Services): FastPath {
  return (req, ip) => {
    const h = req.headers;
    if (h[REQUIRE.permission] !== undefined || h[REQUIRE.account] !== undefined || h[REQUIRE.org] !== undefined || h[REQUIRE.project] !== undefined) return null;
    const token = presentedToken(req);
    if (token === null) return rawOf(NO_TOKEN_ANSWER);
    const v = services.verification.verifyCached(token, clientOf({ headers: h, ip }));
    return v === undefined ? null : rawOf(answerFor(v));
  };
}

interface Requirement {
  permission: string | null;
  scope: Scope | null;
}

type Names = { permission: string; account: string; org: string; project: string };
const QUERY: Names = { permission: 'permission', account: 'accountIdentifier', org: 'orgIdentifier', project: 'projectIdentifier' };

function pick(source: Record<string, unknown>, names: Names): Record<keyof Names, string | null> | null {
  const get = (n: string) => {
    const x = source[n];
    return typeof x === 'string' && x !== '' ? x : null;
  };
  const r = { permission: get(names.permission), account: get(names.account), org: get(names.org), project: get(names.project) };
  return r.permission === null && r.account === null && r.org === null && r.project === null ? null : r;
}

/**
 * What the request requires: from the query when it names anything (the proxy builds that URL, so
 * the client cannot), else from the X-Keyward-Require-* headers. Null when nothing is required.
 */
function requirement(req: FastifyRequest, v: Verified, useQuery: boolean): Requirement | null {
  const fromQuery = useQuery ? pick(req.query as Record<string, unknown>, QUERY) : null;
  const r = fromQuery ?? pick(req.headers as Record<string, unknown>, REQUIRE);
  if (r === null) return null;
  const via = fromQuery ? QUERY : REQUIRE;
  if (r.project !== null && r.org === null) throw InvalidArgumentError.field(via.project, `needs ${via.org} too`);
  const scoped = r.account !== null || r.org !== null;
  return {
    permission: r.permission,
    scope: scoped ? { accountId: r.account ?? v.accountId, orgId: r.org, projectId: r.project } : null,
  };
}

function denied(v: Verified, grant: Exclude<Grant, 'granted'>, req: Requirement): Answer {
  const headers = { ...answerFor(v).headers, [FORWARD_AUTH_HEADERS.reason]: grant };
  const body = { ...compact(v), reason: grant, permission: req.permission, scope: req.scope ?? v.scope };
  return { status: 403, headers, body: JSON.stringify(body) };
}

/**
 * Skips the app-wide NUL refusal (src/server/nul.ts) on this hot path: a header cannot
 * carry NUL, and the requirement's patterns refuse it in the query (400).
 */
const NUL_ALLOWED = { nulAllowed: true };
declare module 'fastify' {
  interface FastifyContextConfig {
    nulAllowed?: boolean;
  }
}

const ENVOY_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export function forwardAuthRoutes(app: ContractApp, services: Services): void {
  /** `useQuery`: false under /v1/verify/*, where the query is the client's own (Envoy appends its path). */
  const handler = (useQuery: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const token = presentedToken(req);
    if (token === null) return send(reply, NO_TOKEN_ANSWER);
    const v = await services.verification.verify(token, clientOf(req));
    if (!v.valid) return send(reply, answerFor(v));
    const need = requirement(req, v, useQuery);
    if (need === null) return send(reply, answerFor(v));
    const grant = await services.access.grants(v, need.permission, need.scope);
    return send(reply, grant === 'granted' ? answerFor(v) : denied(v, grant, need));
  };

  const headers = { type: 'object', properties: requirementProps(REQUIRE) };
  const response = { 200: allowedSchema, 400: errorResponse, 401: rejectedSchema, 403: deniedSchema };

  app.get(
    '/v1/verify',
    {
      config: { ...NUL_ALLOWED, fastPath: verifyFastPath(services) },
      schema: {
        tags: ['verification'],
        summary: 'Verify the request\'s token, for a reverse proxy\'s forward-auth call',
        description:
          'The token in `X-Api-Key` or `Authorization: Bearer` (the client\'s own headers, forwarded by the proxy); no body. ' +
          '200 with the principal in the body and in `X-Keyward-*` headers; 401 when there is no valid token; 403 when a required ' +
          'permission is missing or the required scope is outside the key\'s. A requirement comes from the query, or, when the ' +
          'query names none, from the `X-Keyward-Require-*` headers. The same check answers any method on `/v1/verify/*` ' +
          '(Envoy\'s ext_authz HTTP service appends the original path and keeps the original method), taking requirements ' +
          'from the headers only, since the query there is the client\'s. ' +
          'POST /v1/verify gives the full answer. See docs/integrations.md.',
        security: secured,
        querystring: { type: 'object', properties: requirementProps(QUERY) },
        headers,
        response,
      },
    },
    handler(true),
  );

  app.route({
    method: [...ENVOY_METHODS],
    url: '/v1/verify/*',
    exposeHeadRoute: false,
    config: NUL_ALLOWED,
    // The contract of GET /v1/verify (which the OpenAPI document lists), but requirements come from the
    // headers only: the query here is the client's, appended by Envoy with its path.
    schema: { hide: true, headers, response },
    handler: handler(false),
  });
}

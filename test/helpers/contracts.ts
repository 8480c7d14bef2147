/**
 * Route contracts, checked (docs/architecture.md, "Route contracts"): every route a client may call
 * declares its request parts and its answers, /openapi.json documents it, and real answers agree with
 * the documents. test/server/contracts.test.ts runs these over the app's own route table.
 */
import Ajv from 'ajv';
import type { RouteEntry } from '../../src/server/app.js';

/** Routes that are no API: swagger-ui's own pages, and the console's page and files (browser pages). */
export const NOT_API: Array<{ test: (r: RouteEntry) => boolean; why: string }> = [
  { test: (r) => r.url === '/docs' || r.url.startsWith('/docs/'), why: 'the API reference page (@fastify/swagger-ui)' },
  { test: (r) => r.url === '/' || r.url === '/favicon.svg' || r.url.startsWith('/assets/'), why: 'the console\'s page and files (src/server/console.ts)' },
];

/** Routes that take a POST, PUT or PATCH but read no body (so declare none). */
export const READS_NO_BODY = new Set([
  'POST /ng/api/token/rotate/:identifier',
  'POST /gateway/ng/api/token/rotate/:identifier',
  'PUT /ng/api/user-groups/:identifier/member/:userIdentifier',
  'PUT /gateway/ng/api/user-groups/:identifier/member/:userIdentifier',
  'POST /api/v1/logout',
  'POST /v1/verify/*',
  'PUT /v1/verify/*',
  'PATCH /v1/verify/*',
  'POST /v1/accounts/:accountId/webhooks/:endpointId/rotate-secret',
  'POST /v1/accounts/:accountId/webhooks/:endpointId/deliveries/:deliveryId/replay',
]);

/** Operational routes, left out of the API document on purpose (test/server/openapi.test.ts). */
export const UNDOCUMENTED = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json', '/v1/verify/*']);

type Schema = Record<string, unknown> & { hide?: boolean; params?: { properties?: Record<string, unknown> }; body?: unknown; response?: Record<string, unknown> };

const HOW =
  'Declare it in the route\'s `schema` (docs/architecture.md, "Route contracts"): `params: paramsOf(...)`, `querystring: queryOf({...})`, ' +
  'a `body` (a wire protocol: `wireBody(...)`), and `response: { 200: ..., 4xx: ... }` in the protocol\'s shape ' +
  '(harness-ng: ngResponses(dto), zenml: zenmlResponses(model), harness-cg: cgRest/cgGraphql, native: JSON schemas with errorResponse).';

/** What every API route lacks of its contract: one line per missing part, saying what to add. */
export function missingContracts(routes: RouteEntry[]): string[] {
  const out: string[] = [];
  for (const r of routes) {
    if (r.method === 'OPTIONS' && !r.url.startsWith('/v1/verify/')) continue;
    if (NOT_API.some((n) => n.test(r))) continue;
    const id = `${r.method} ${r.url}`;
    const s = (r.schema ?? {}) as Schema;
    const response = s.response ?? {};
    if (Object.keys(response).length === 0) out.push(`${id}: no response schema. ${HOW}`);
    const params = [...r.url.matchAll(/:([A-Za-z_]\w*)/g)].map((m) => m[1]!);
    const declared = Object.keys(s.params?.properties ?? {});
    const undeclared = params.filter((p) => !declared.includes(p));
    if (undeclared.length > 0) out.push(`${id}: path parameter(s) ${undeclared.join(', ')} not in schema.params. ${HOW}`);
    if (['POST', 'PUT', 'PATCH'].includes(r.method) && s.body === undefined && !READS_NO_BODY.has(id)) {
      out.push(`${id}: no body schema (if the route reads no body, add it to READS_NO_BODY in test/helpers/contracts.ts). ${HOW}`);
    }
  }
  return out;
}

/** What /openapi.json lacks: an API route missing, or documented without a response schema. */
export function undocumented(routes: RouteEntry[], doc: { paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>> }): string[] {
  const out: string[] = [];
  for (const r of routes) {
    if (r.method === 'OPTIONS' || r.method === 'HEAD' || NOT_API.some((n) => n.test(r)) || UNDOCUMENTED.has(r.url)) continue;
    const path = r.url.replace(/:([A-Za-z_]\w*)/g, '{$1}');
    const op = doc.paths[path]?.[r.method.toLowerCase()];
    if (!op) {
      out.push(`${r.method} ${r.url}: not in /openapi.json (is its schema \`hide: true\`?)`);
      continue;
    }
    const answers = Object.entries(op.responses ?? {});
    if (answers.length === 0) out.push(`${r.method} ${r.url}: /openapi.json documents no answer`);
    for (const [code, answer] of answers) {
      if (code !== '204' && !Object.values(answer.content ?? {}).some((c) => c.schema !== undefined)) out.push(`${r.method} ${r.url}: /openapi.json has no schema for answer ${code}`);
    }
  }
  return out;
}

/** The route a concrete request went to: the pattern that matches with the fewest parameters. */
export function routeOf(routes: RouteEntry[], method: string, path: string): RouteEntry | undefined {
  const candidates = routes.filter((r) => r.method === method && patternOf(r.url).test(path));
  return candidates.sort((a, b) => weight(a.url) - weight(b.url))[0];
}
const patternOf = (url: string) => new RegExp(`^${url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]\w*/g, '[^/]+').replace(/\*/g, '.*')}/?$`);
const weight = (url: string) => (url.match(/:/g)?.length ?? 0) + (url.includes('*') ? 100 : 0);

export interface Answer {
  method: string;
  path: string;
  status: number;
  contentType: string;
  body: unknown;
}

/** Validates real answers against their routes' documented response schemas; one line per disagreement. */
export function disagreements(routes: RouteEntry[], shared: unknown[], answers: Answer[]): string[] {
  const ajv = new Ajv.default({ strict: false, allErrors: true });
  for (const s of shared) ajv.addSchema(s as object);
  const out: string[] = [];
  const compiled = new Map<unknown, ReturnType<typeof ajv.compile>>();
  for (const a of answers) {
    const route = routeOf(routes, a.method, a.path);
    const id = `${a.method} ${a.path} -> ${a.status}`;
    if (!route) {
      out.push(`${id}: no route`);
      continue;
    }
    const response = ((route.schema ?? {}) as Schema).response ?? {};
    const schema = response[String(a.status)] ?? response[`${String(a.status)[0]}xx`] ?? response.default;
    if (schema === undefined) {
      out.push(`${id}: ${route.method} ${route.url} does not document status ${a.status}`);
      continue;
    }
    if (!a.contentType.includes('json')) continue; // a text answer (metrics) or an empty one
    let validate = compiled.get(schema);
    if (!validate) compiled.set(schema, (validate = ajv.compile(schema as object)));
    if (!validate(a.body)) out.push(`${id}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(a.body).slice(0, 300)}`);
  }
  return out;
}

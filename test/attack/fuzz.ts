/**
 * The route-table fuzzer: deterministic (seeded), bounded, and built from the app's own route table,
 * so a route added later is fuzzed without anyone listing it. Used by test/attack/fuzz.test.ts (a few
 * thousand requests per database in `npm test`) and by bench/attack.ts (100,000 per database).
 *
 * It depends on nothing but fetch: give it a base URL, the route table and what the fixture made.
 */

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same requests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzRoute {
  method: string;
  url: string;
  schema?: unknown;
}

/** Real names the fixture made, so that a share of requests gets past "not found" into the services and the store. */
export interface FuzzFixture {
  accountId: string;
  userId: string;
  /** Values a path parameter may take besides the hostile ones (identifiers, ids, names). */
  ids: string[];
  /** Credentials: the admin's, and null for none. */
  tokens: Array<string | null>;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  label: string;
}

export interface FuzzResult {
  requests: number;
  serverErrors: Array<{ label: string; status: number; text: string }>;
  hangs: string[];
  /** Status counts, for the report. */
  statuses: Record<string, number>;
}

const MB = 'x'.repeat(1_000_000);

/** Path segments that try to escape, confuse the router or overflow a parameter. */
const HOSTILE_SEGMENTS = [
  '..',
  '%2e%2e',
  '%2E%2E%2F%2E%2E',
  '.%2e',
  'a%2Fb',
  '%2F',
  '%5C..%5C',
  '%00',
  'a%00b',
  '%01%02%1F%7F',
  '%0d%0aX-Injected:%201',
  '%ff%fe',
  '%c0%ae%c0%ae',
  '%',
  '%zz',
  'x'.repeat(511),
  'x'.repeat(513),
  'x'.repeat(5000),
  '%E2%80%AE',
  '%F0%9F%92%A9',
  'null',
  'undefined',
  '-1',
  '0',
  '1e309',
  "'%20OR%201=1--",
  '%22%3E%3Cscript%3E',
  '__proto__',
  'constructor',
  '*',
  'ZENKEY_',
];

/** Values for numeric and pagination parameters: huge, non-finite, negative, not numbers at all. */
const HOSTILE_NUMBERS = [
  '1e309',
  '-1e309',
  '99999999999999999999',
  '9007199254740993',
  '-9007199254740993',
  '2147483648',
  '1e15',
  'NaN',
  'Infinity',
  '-Infinity',
  '-1',
  '-0',
  '0',
  '1.5',
  '0x10',
  '1_000',
  '',
  ' ',
  '١٢',
  'abc',
  '%00',
  '1%002',
];

const PAGINATION = ['pageIndex', 'pageSize', 'page', 'size', 'offset', 'limit', 'from', 'to', 'retain_period_minutes', 'rotateTimestamp'];
const QUERY_NAMES = [
  'accountIdentifier',
  'accountId',
  'account',
  'orgIdentifier',
  'projectIdentifier',
  'apiKeyType',
  'parentIdentifier',
  'apiKeyIdentifier',
  'searchTerm',
  'search',
  'name',
  'identifiers',
  'sortOrders',
  'sort_by',
  'logical_operator',
  'active',
  'cursor',
  'actor',
  'action',
  'hydrate',
  'filterType',
];
const BODY_NAMES = [
  'identifier',
  'name',
  'description',
  'tags',
  'apiKeyType',
  'parentIdentifier',
  'apiKeyIdentifier',
  'accountIdentifier',
  'orgIdentifier',
  'projectIdentifier',
  'validFrom',
  'validTo',
  'scheduledExpireTime',
  'defaultTimeToExpireToken',
  'email',
  'password',
  'currentPassword',
  'token',
  'active',
  'userGroupIds',
  'users',
  'query',
  'variables',
  'operationName',
  'organization',
  'project',
  'roleIdentifier',
  'resourceGroupIdentifier',
  'principal',
  'retain_period_minutes',
  'admin',
  'id',
  'isOperator',
  'username',
  'grant_type',
];

/** encodeURIComponent, except that a lone surrogate becomes its (invalid UTF-8) bytes instead of throwing. */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '')) + '%ED%A0%80';
  }
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

/** A string meant to hurt: NUL and control characters, long, odd Unicode, injection-shaped. */
function hostileString(rand: () => number): string {
  switch (Math.floor(rand() * 12)) {
    case 0:
      return 'a\u0000b';
    case 1:
      return '\u0000';
    case 2:
      return '\u0001\u0002\u001f\u007f\u0085';
    case 3:
      return 'x'.repeat(1 + Math.floor(rand() * 4000));
    case 4:
      return '\ud800'; // a lone surrogate
    case 5:
      return "'; drop table tokens; --";
    case 6:
      return '../../etc/passwd';
    case 7:
      return '{{7*7}}${7*7}<script>';
    case 8:
      return '';
    case 9:
      return '   ';
    case 10:
      return '\u202e\ufeff\u200b';
    default:
      return `fz_${Math.floor(rand() * 1e9)}`;
  }
}

/** A JSON value of any type, sometimes a hostile one. */
function hostileValue(rand: () => number, depth = 0): unknown {
  switch (Math.floor(rand() * 16)) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return pick(rand, [1e308, -1e308, 2 ** 64, -(2 ** 63), 9007199254740993, 0.1, -1, 0, 1e-320]);
    case 3:
      return Math.floor(rand() * 1e6);
    case 4:
    case 5:
    case 6:
      return hostileString(rand);
    case 7:
      return depth > 3 ? [] : [hostileValue(rand, depth + 1), hostileValue(rand, depth + 1)];
    case 8:
      return depth > 3 ? {} : { [pick(rand, BODY_NAMES)]: hostileValue(rand, depth + 1), ['k\u0000']: 1 };
    case 9:
      return {};
    case 10:
      return [];
    case 11:
      return { __proto__x: 1, constructor: { prototype: 1 } };
    default:
      return hostileString(rand);
  }
}

/** A body's raw text: JSON objects with hostile fields mostly, and every malformed shape besides. */
function hostileBody(rand: () => number, fixture: FuzzFixture): { text: string; type: string } | undefined {
  const r = rand();
  if (r < 0.08) return undefined;
  if (r < 0.13) return { text: '{"a":', type: 'application/json' };
  if (r < 0.16) return { text: '['.repeat(60) + ']'.repeat(60), type: 'application/json' };
  if (r < 0.19) return { text: '['.repeat(5000) + ']'.repeat(5000), type: 'application/json' };
  if (r < 0.21) return { text: '{"a":'.repeat(3000) + '1' + '}'.repeat(3000), type: 'application/json' };
  if (r < 0.23) return { text: JSON.stringify({ name: MB }), type: 'application/json' };
  if (r < 0.25) return { text: 'x'.repeat(1_100_000), type: 'application/json' };
  if (r < 0.28) return { text: '{"name":"a\\u0000b","identifier":"a\\u0000"}', type: 'application/json' };
  if (r < 0.3) return { text: '{"__proto__":{"admin":true}}', type: 'application/json' };
  if (r < 0.32) return { text: 'name=a&identifier=b', type: 'application/x-www-form-urlencoded' };
  if (r < 0.34) return { text: '<xml/>', type: 'application/xml' };
  if (r < 0.36) return { text: '\u0000\u0001', type: 'text/plain' };
  if (r < 0.38) return { text: pick(rand, ['1', '"s"', 'null', 'true', '[]', '1e309', '-0']), type: 'application/json' };
  const o: Record<string, unknown> = {};
  const n = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) {
    const name = pick(rand, BODY_NAMES);
    const rr = rand();
    // A plausible value half the time, so requests get past the first check to the ones behind it.
    if (rr < 0.25) o[name] = `fz${Math.floor(rand() * 1e6)}`;
    else if (rr < 0.35) o[name] = pick(rand, [fixture.accountId, fixture.userId, ...fixture.ids]);
    else o[name] = hostileValue(rand);
  }
  if (rand() < 0.3) o.accountIdentifier = fixture.accountId;
  if (rand() < 0.2) o.apiKeyType = pick(rand, ['USER', 'SERVICE_ACCOUNT', 'user', 'X']);
  return { text: JSON.stringify(o), type: pick(rand, ['application/json', 'application/json; charset=utf-8', 'text/plain']) };
}

/**
 * What a request concentrates on. Every route gets every mode in turn, so each attack reaches each
 * route even in a short run: `numbers` (every pagination and numeric parameter hostile, real ids
 * elsewhere, with credentials), `nul` (a NUL or control character in one place), `paths` (hostile
 * path segments), and `random` (anything).
 */
export const MODES = ['numbers', 'nul', 'paths', 'random', 'numbers', 'nul', 'random'] as const;
export type FuzzMode = (typeof MODES)[number];

/** One request for a route: parameters, query and body drawn from the seeded PRNG. */
export function fuzzRequest(route: FuzzRoute, rand: () => number, fixture: FuzzFixture, mode: FuzzMode = 'random'): FuzzRequest | null {
  if (route.url.includes('*')) return null;
  if (mode === 'numbers') return numbersRequest(route, rand, fixture);
  if (mode === 'nul') return nulRequest(route, rand, fixture);
  const segments: string[] = [];
  const path = route.url.replace(/:([A-Za-z_]+)/g, (_m, name: string) => {
    const r = mode === 'paths' ? 1 : rand();
    let v: string;
    if (/account/i.test(name) && r < 0.6) v = fixture.accountId;
    else if (r < 0.45) v = enc(pick(rand, [fixture.userId, ...fixture.ids]));
    else v = pick(rand, HOSTILE_SEGMENTS);
    segments.push(`${name}=${v.slice(0, 24)}`);
    return v;
  });
  const q: string[] = [];
  if (rand() < 0.8) q.push(`accountIdentifier=${fixture.accountId}`);
  if (rand() < 0.3) q.push(`accountId=${fixture.accountId}`);
  const nq = Math.floor(rand() * 5);
  for (let i = 0; i < nq; i++) {
    if (rand() < 0.5) q.push(`${pick(rand, PAGINATION)}=${encodeURIComponent(pick(rand, HOSTILE_NUMBERS)).replace(/%2500/g, '%00')}`);
    else {
      const name = pick(rand, QUERY_NAMES);
      const rr = rand();
      const v = rr < 0.3 ? pick(rand, [fixture.accountId, fixture.userId, 'USER', 'SERVICE_ACCOUNT', ...fixture.ids]) : rr < 0.4 ? pick(rand, HOSTILE_SEGMENTS) : enc(hostileString(rand).slice(0, 3000));
      q.push(`${name}=${v}`);
    }
  }
  // Schema-declared query parameters get numbers and strings that do not fit them.
  const qs = (route.schema as { querystring?: { properties?: Record<string, unknown> } } | undefined)?.querystring?.properties;
  if (qs) for (const name of Object.keys(qs)) if (rand() < 0.3) q.push(`${name}=${encodeURIComponent(pick(rand, HOSTILE_NUMBERS))}`);
  if (rand() < 0.05) q.push('a=%00&b=%zz&c');
  const token = pick(rand, fixture.tokens);
  const headers: Record<string, string> = {};
  if (token) headers[rand() < 0.8 ? 'x-api-key' : 'authorization'] = rand() < 0.8 ? token : `Bearer ${token}`;
  const hasBody = route.method !== 'GET' && route.method !== 'HEAD';
  const body = hasBody ? hostileBody(rand, fixture) : undefined;
  if (body) headers['content-type'] = body.type;
  const full = `${path}${q.length > 0 ? `?${q.join('&')}` : ''}`;
  const label = `${route.method} ${route.url} [${segments.join(', ')}] q=${q.join('&').slice(0, 160)} auth=${token ? 'admin' : 'none'} body=${body ? body.text.slice(0, 120) : '-'}`;
  return { method: route.method, path: full, headers, ...(body ? { body: body.text } : {}), label };
}

/** A path with real values for its parameters (the account where one is named, fixture ids elsewhere). */
function realPath(route: FuzzRoute, rand: () => number, fixture: FuzzFixture): string {
  return route.url.replace(/:([A-Za-z_]+)/g, (_m, name: string) => (/account/i.test(name) ? fixture.accountId : enc(pick(rand, [fixture.userId, ...fixture.ids]))));
}

const baseQuery = (fixture: FuzzFixture) => [`accountIdentifier=${fixture.accountId}`, `accountId=${fixture.accountId}`];

/** Every pagination and schema-declared query parameter given one hostile number, with credentials. */
function numbersRequest(route: FuzzRoute, rand: () => number, fixture: FuzzFixture): FuzzRequest {
  const qs = (route.schema as { querystring?: { properties?: Record<string, unknown> } } | undefined)?.querystring?.properties ?? {};
  const declared = Object.keys(qs).filter((n) => !/account/i.test(n));
  // The route's own declared parameters first: they reach its schema's coercion and then the store.
  const name = declared.length > 0 && rand() < 0.7 ? pick(rand, declared) : pick(rand, PAGINATION);
  const value = rand() < 0.5 ? pick(rand, ['1e309', '99999999999999999999', '9007199254740993', '-1e309', '1e300']) : pick(rand, HOSTILE_NUMBERS);
  const q = [...baseQuery(fixture), `apiKeyType=SERVICE_ACCOUNT`, `parentIdentifier=${enc(fixture.ids[0] ?? '')}`, `apiKeyIdentifier=${enc(fixture.ids[1] ?? '')}`, `${name}=${value === '%00' || value === '1%002' ? value : enc(value)}`];
  const headers: Record<string, string> = { 'x-api-key': fixture.tokens.find((t) => t !== null) ?? '' };
  const hasBody = route.method !== 'GET';
  let body: string | undefined;
  if (hasBody) {
    headers['content-type'] = 'application/json';
    const num = pick(rand, [1e308, -1e308, 2 ** 64, -(2 ** 63), 9007199254740993, 1.5, -1, 1e21]);
    body = JSON.stringify({ [pick(rand, ['validFrom', 'validTo', 'defaultTimeToExpireToken', 'scheduledExpireTime', 'retain_period_minutes', 'rotateTimestamp', 'pageIndex'])]: num, identifier: 'fz_num', name: 'fz_num', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: fixture.ids[0], apiKeyIdentifier: fixture.ids[1], accountIdentifier: fixture.accountId });
  }
  const path = `${realPath(route, rand, fixture)}?${q.join('&')}`;
  return { method: route.method, path, headers, ...(body !== undefined ? { body } : {}), label: `numbers ${route.method} ${route.url} ${name}=${value} body=${body ?? '-'}` };
}

/** A NUL (or another control character) in the path, the query or the body, with credentials or without. */
function nulRequest(route: FuzzRoute, rand: () => number, fixture: FuzzFixture): FuzzRequest {
  const where = pick(rand, ['path', 'query', 'body', 'body'] as const);
  const bad = pick(rand, ['a\u0000b', '\u0000', 'x\u0001\u001f']);
  const params = route.url.match(/:[A-Za-z_]+/g) ?? [];
  let path = realPath(route, rand, fixture);
  if (where === 'path' && params.length > 0) {
    const target = pick(rand, params);
    path = route.url.replace(/:([A-Za-z_]+)/g, (m, name: string) => (m === target ? pick(rand, ['%00', 'a%00b', '%01']) : /account/i.test(name) ? fixture.accountId : enc(pick(rand, [fixture.userId, ...fixture.ids]))));
  }
  const q = [...baseQuery(fixture)];
  if (where === 'query') q.push(`${pick(rand, [...QUERY_NAMES, ...PAGINATION])}=${pick(rand, ['a%00b', '%00', '%01%1f'])}`);
  const token = pick(rand, fixture.tokens);
  const headers: Record<string, string> = token ? { 'x-api-key': token } : {};
  let body: string | undefined;
  if (route.method !== 'GET' && (where === 'body' || rand() < 0.5)) {
    headers['content-type'] = 'application/json';
    const field = pick(rand, BODY_NAMES);
    body = `{"name":"${where === 'body' ? bad : 'fz_nul'}","identifier":"fz_nul","${field}":"${bad}","accountIdentifier":"${fixture.accountId}","userGroupIds":[],"query":"{ __typename }","organization":{"identifier":"x${bad}","name":"n"}}`;
  }
  return { method: route.method, path: `${path}?${q.join('&')}`, headers, ...(body !== undefined ? { body } : {}), label: `nul(${where}) ${route.method} ${route.url} ${path} auth=${token ? 'admin' : 'none'} body=${body ?? '-'}` };
}

/** Sends one request with a deadline; a request that outlives it is a hang. */
async function send(baseUrl: string, r: FuzzRequest, timeoutMs: number): Promise<{ status: number; text: string } | 'hang'> {
  try {
    const res = await fetch(baseUrl + r.path, {
      method: r.method,
      headers: r.headers,
      ...(r.body !== undefined ? { body: r.body } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    // An event stream (GET /v1/accounts/{id}/invalidations) that opened has answered: it stays open by design.
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await res.body?.cancel();
      return { status: res.status, text: '' };
    }
    const text = await res.text();
    return { status: res.status, text };
  } catch (e) {
    const err = e as { name?: string; cause?: { code?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'hang';
    // The server closed the connection on a request it could not read: not a 5xx, not a hang; count it as a status 0.
    return { status: 0, text: String((e as Error).message) };
  }
}

export interface FuzzOptions {
  baseUrl: string;
  routes: FuzzRoute[];
  fixture: FuzzFixture;
  seed: number;
  /** How many requests in all (spread over the routes round-robin). */
  requests: number;
  concurrency?: number;
  timeoutMs?: number;
  /** Makes a fresh fixture; called every `refreshEvery` requests (default 5,000) when given. */
  refresh?: () => Promise<FuzzFixture>;
  refreshEvery?: number;
}

/**
 * Fuzzes every route round-robin until `requests` were sent; returns every 5xx and hang. Requests are
 * drawn one at a time in a fixed order from the seeded PRNG (so the same seed sends the same
 * requests), and not held in memory beforehand. The fuzzer deletes what it can reach, so a long run
 * renews its fixture every `refreshEvery` requests (`refresh` makes a new one).
 */
export async function fuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const rand = prng(opts.seed);
  const routes = opts.routes.filter((r) => !r.url.includes('*') && r.method !== 'OPTIONS');
  const result: FuzzResult = { requests: 0, serverErrors: [], hangs: [], statuses: {} };
  let fixture = opts.fixture;
  let drawn = 0;
  let slot = 0;
  const draw = (): FuzzRequest => {
    for (;;) {
      const i = slot++;
      const mode = MODES[Math.floor(i / routes.length) % MODES.length]!;
      const req = fuzzRequest(routes[i % routes.length]!, rand, fixture, mode);
      if (req) return req;
    }
  };
  const batch = opts.refresh ? Math.max(1, opts.refreshEvery ?? 5000) : opts.requests;
  while (drawn < opts.requests) {
    if (drawn > 0 && opts.refresh) fixture = await opts.refresh();
    const end = Math.min(opts.requests, drawn + batch);
    const worker = async () => {
      while (drawn < end) {
        drawn++;
        const r = draw();
        const a = await send(opts.baseUrl, r, opts.timeoutMs ?? 10_000);
        result.requests++;
        if (a === 'hang') {
          result.hangs.push(r.label);
          continue;
        }
        result.statuses[a.status] = (result.statuses[a.status] ?? 0) + 1;
        if (a.status >= 500) result.serverErrors.push({ label: r.label, status: a.status, text: a.text.slice(0, 300) });
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
  }
  return result;
}

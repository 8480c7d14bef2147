/**
 * Shared machinery for the Harness NextGen conformance tests: the wire shapes of
 * docs/compat/harness-ng.md as data (field names in declaration order, nulls present, value types), a matcher that compares a
 * body against such a shape (including the order of keys), and a replayer for fixtures written as
 * data (request, expected status, expected body shape, spec citation).
 */
import http from 'node:http';
import { expect } from 'vitest';
import type { HttpResponse, TestKeyward } from '../../helpers/keyward.js';

/** Plain prefix (SPLIT, the UI, curl scripts) and the Go SDK's default base path (docs/compat/harness-ng.md). */
export const NG = '/ng/api';
export const GW = '/gateway/ng/api';

/** startKeyward's clock: 2026-01-15T12:00:00Z. Every fixture's times are relative to it. */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** Harness's default token lifetime, ApiKey.DEFAULT_TTL_FOR_TOKEN (docs/compat/harness-ng.md). */
export const DEFAULT_TTL = 30 * DAY;

export type Vars = Record<string, string | number>;

// ---- matchers -------------------------------------------------------------------------------------

const MATCHER = Symbol('matcher');
export interface Matcher {
  readonly [MATCHER]: string;
  test(v: unknown, vars: Vars): boolean;
}
const matcher = (describe: string, test: (v: unknown, vars: Vars) => boolean): Matcher => ({ [MATCHER]: describe, test });
export const isMatcher = (v: unknown): v is Matcher => typeof v === 'object' && v !== null && MATCHER in v;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Value-type markers for the parts of a body a fixture cannot know in advance. */
export const T = {
  string: matcher('a string', (v) => typeof v === 'string'),
  nonEmpty: matcher('a non-empty string', (v) => typeof v === 'string' && v.length > 0),
  int: matcher('an integer (epoch ms or count)', (v) => typeof v === 'number' && Number.isSafeInteger(v)),
  bool: matcher('a boolean', (v) => typeof v === 'boolean'),
  uuid: matcher('a UUID', (v) => typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)),
  /** `pat.<accountId>.<24 hex>.<20 alphanumerics>` of the fixture's account (docs/compat/harness-ng.md). */
  patToken: matcher('a pat.<acc>.<24 hex>.<20 alnum> token', (v, vars) => typeof v === 'string' && new RegExp(`^pat\\.${escape(String(vars.acc))}\\.[0-9a-f]{24}\\.[A-Za-z0-9]{20}$`).test(v)),
  satToken: matcher('a sat.<acc>.<24 hex>.<20 alnum> token', (v, vars) => typeof v === 'string' && new RegExp(`^sat\\.${escape(String(vars.acc))}\\.[0-9a-f]{24}\\.[A-Za-z0-9]{20}$`).test(v)),
  /** The identifier a rotated token is renamed to (docs/compat/harness-ng.md, Rotation). */
  rotatedIdentifier: matcher('rotated_<15 letters>', (v) => typeof v === 'string' && /^rotated_[A-Za-z]{15}$/.test(v)),
  match: (re: RegExp) => matcher(`a string matching ${re}`, (v) => typeof v === 'string' && re.test(v)),
  startsWith: (prefix: string) => matcher(`a string starting with ${JSON.stringify(prefix)}`, (v, vars) => typeof v === 'string' && v.startsWith(subst(prefix, vars))),
  oneOf: (...values: unknown[]) => matcher(`one of ${JSON.stringify(values)}`, (v) => values.includes(v)),
  any: matcher('anything', () => true),
};

/** `{{name}}` in a string is replaced by the variable's value. */
export function subst<V>(value: V, vars: Vars): V {
  if (typeof value === 'string') {
    return value.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      if (!(name in vars)) throw new Error(`fixture variable {{${name}}} is not set`);
      return String(vars[name]);
    }) as V;
  }
  if (Array.isArray(value)) return value.map((x) => subst(x, vars)) as V;
  if (value !== null && typeof value === 'object' && !isMatcher(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, subst(v, vars)])) as V;
  }
  return value;
}

/**
 * Compares a body with a shape: objects must have exactly the shape's keys in the shape's order
 * (Jackson writes fields in declaration order, nulls included); matchers check types; strings are
 * templates; everything else is compared as is.
 */
export function expectShape(actual: unknown, shape: unknown, vars: Vars = {}, where = '$'): void {
  if (isMatcher(shape)) {
    expect(shape.test(actual, vars), `${where}: expected ${shape[MATCHER]}, got ${JSON.stringify(actual)}`).toBe(true);
    return;
  }
  if (shape === null) {
    expect(actual, `${where} must be present and null`).toBeNull();
    return;
  }
  if (Array.isArray(shape)) {
    expect(Array.isArray(actual), `${where}: expected an array, got ${JSON.stringify(actual)}`).toBe(true);
    const arr = actual as unknown[];
    expect(arr.length, `${where}.length (got ${JSON.stringify(actual)})`).toBe(shape.length);
    shape.forEach((s, i) => expectShape(arr[i], s, vars, `${where}[${i}]`));
    return;
  }
  if (typeof shape === 'object') {
    expect(actual !== null && typeof actual === 'object' && !Array.isArray(actual), `${where}: expected an object, got ${JSON.stringify(actual)}`).toBe(true);
    const obj = actual as Record<string, unknown>;
    expect(Object.keys(obj), `${where}: field names and order`).toEqual(Object.keys(shape));
    for (const [k, s] of Object.entries(shape)) expectShape(obj[k], s, vars, `${where}.${k}`);
    return;
  }
  if (typeof shape === 'string') {
    expect(actual, where).toBe(subst(shape, vars));
    return;
  }
  expect(actual, where).toBe(shape);
}

// ---- the wire shapes (docs/compat/harness-ng.md) -------------------------------------------------------------

/** Field order of every DTO, as Harness declares it (docs/compat/harness-ng.md "Field order follows declaration order"). */
export const ORDER = {
  /** ResponseDTO */
  success: ['status', 'data', 'metaData', 'correlationId'],
  /** FailureDTO */
  failure: ['status', 'code', 'message', 'correlationId', 'errors'],
  /** ErrorDTO */
  error: ['status', 'code', 'message', 'correlationId', 'detailedMessage', 'responseMessages', 'metadata'],
  /** ResponseMessage */
  responseMessage: ['code', 'level', 'message', 'exception', 'failureTypes'],
  /** AccessDeniedErrorDTO: the ErrorDTO plus failedPermissionChecks */
  accessDenied: ['status', 'code', 'message', 'correlationId', 'detailedMessage', 'responseMessages', 'metadata', 'failedPermissionChecks'],
  permissionCheck: ['permission', 'resourceType', 'resourceIdentifier', 'resourceScope'],
  resourceScope: ['accountIdentifier', 'orgIdentifier', 'projectIdentifier'],
  validationError: ['fieldId', 'error'],
  /** ApiKeyDTO */
  ApiKey: ['identifier', 'name', 'description', 'tags', 'apiKeyType', 'parentIdentifier', 'defaultTimeToExpireToken', 'accountIdentifier', 'projectIdentifier', 'orgIdentifier'],
  /** ApiKeyAggregateDTO */
  ApiKeyAggregate: ['apiKey', 'createdAt', 'lastModifiedAt', 'tokensCount'],
  /** TokenDTO */
  Token: [
    'identifier', 'name', 'validFrom', 'validTo', 'scheduledExpireTime', 'valid', 'accountIdentifier', 'projectIdentifier', 'orgIdentifier',
    'apiKeyIdentifier', 'parentIdentifier', 'apiKeyType', 'description', 'tags', 'email', 'username', 'encodedPassword',
  ],
  /** TokenAggregateDTO */
  TokenAggregate: ['token', 'expiryAt', 'createdAt', 'lastModifiedAt'],
  /** ServiceAccountDTO */
  ServiceAccount: ['identifier', 'name', 'email', 'description', 'tags', 'accountIdentifier', 'orgIdentifier', 'projectIdentifier'],
  /** ServiceAccountAggregateDTO */
  ServiceAccountAggregate: ['serviceAccount', 'createdAt', 'lastModifiedAt', 'tokensCount', 'roleAssignmentsMetadataDTO'],
  RoleAssignmentMetadata: ['identifier', 'roleIdentifier', 'roleName', 'resourceGroupIdentifier', 'resourceGroupName', 'managedRole', 'managedRoleAssignment'],
  /** Pagination: PageResponse */
  PageResponse: ['totalPages', 'totalItems', 'pageItemCount', 'pageSize', 'content', 'pageIndex', 'empty', 'pageToken'],
} as const;

type Fields = Record<string, unknown>;

function build(order: readonly string[], defaults: Fields, over: Fields): Fields {
  for (const k of Object.keys(over)) if (!order.includes(k)) throw new Error(`fixture error: ${k} is not one of ${order.join(', ')}`);
  const out: Fields = {};
  for (const k of order) out[k] = k in over ? over[k] : defaults[k];
  return out;
}

/** Shape builders: the defaults are what Harness answers when a field was never set. */
export const S = {
  success: (data: unknown) => build(ORDER.success, { status: 'SUCCESS', data, metaData: null, correlationId: T.nonEmpty }, {}),
  failure: (code: string, message: unknown, errors: Array<{ fieldId: string; error: unknown }> | null | Matcher = T.any) =>
    build(ORDER.failure, { status: 'FAILURE', code, message, correlationId: T.nonEmpty, errors: Array.isArray(errors) ? errors.map((e) => build(ORDER.validationError, {}, e)) : errors }, {}),
  error: (code: string, message: unknown) =>
    build(ORDER.error, {
      status: 'ERROR',
      code,
      message,
      correlationId: T.nonEmpty,
      detailedMessage: null,
      responseMessages: [build(ORDER.responseMessage, { code, level: 'ERROR', message, exception: null, failureTypes: [] }, {})],
      metadata: null,
    }, {}),
  accessDenied: (message: unknown, checks: Array<{ permission: string; resourceType: string; resourceIdentifier: string | null; scope?: Fields }>) =>
    build(ORDER.accessDenied, {
      status: 'ERROR',
      code: 'NG_ACCESS_DENIED',
      message,
      correlationId: null,
      detailedMessage: null,
      responseMessages: null,
      metadata: null,
      failedPermissionChecks: checks.map((c) =>
        build(ORDER.permissionCheck, {
          permission: c.permission,
          resourceType: c.resourceType,
          resourceIdentifier: c.resourceIdentifier,
          resourceScope: build(ORDER.resourceScope, { accountIdentifier: '{{acc}}', orgIdentifier: null, projectIdentifier: null }, c.scope ?? {}),
        }, {}),
      ),
    }, {}),
  /** 401 from the authentication filter (docs/compat/harness-ng.md "Token validation"). */
  invalidToken: () => S.error('INVALID_TOKEN', 'Token is not valid.'),
  /** JAX-RS NotFound mapped to 400 (docs/compat/harness-ng.md table). */
  resourceNotFound: (message: unknown = 'HTTP 404 Not Found') => S.failure('RESOURCE_NOT_FOUND_EXCEPTION', message),

  apiKey: (o: Fields) =>
    build(ORDER.ApiKey, {
      description: null,
      tags: {},
      defaultTimeToExpireToken: DEFAULT_TTL,
      accountIdentifier: '{{acc}}',
      projectIdentifier: null,
      orgIdentifier: null,
    }, o),
  apiKeyAggregate: (apiKey: Fields, o: Fields = {}) => build(ORDER.ApiKeyAggregate, { apiKey, createdAt: T.int, lastModifiedAt: T.int, tokensCount: 0 }, o),
  token: (o: Fields) =>
    build(ORDER.Token, {
      validFrom: T.int,
      validTo: T.int,
      scheduledExpireTime: null,
      valid: true,
      accountIdentifier: '{{acc}}',
      projectIdentifier: null,
      orgIdentifier: null,
      description: null,
      tags: {},
      email: null,
      username: null,
      encodedPassword: null,
    }, o),
  /** expiryAt = scheduledExpireTime ?? validTo (docs/compat/harness-ng.md TokenAggregate). */
  tokenAggregate: (token: Fields, o: Fields = {}) =>
    build(ORDER.TokenAggregate, { token, expiryAt: token.scheduledExpireTime ?? token.validTo, createdAt: T.int, lastModifiedAt: T.int }, o),
  serviceAccount: (o: Fields) =>
    build(ORDER.ServiceAccount, { description: null, tags: {}, accountIdentifier: '{{acc}}', orgIdentifier: null, projectIdentifier: null }, o),
  serviceAccountAggregate: (sa: Fields, o: Fields = {}) =>
    build(ORDER.ServiceAccountAggregate, { serviceAccount: sa, createdAt: T.int, lastModifiedAt: T.int, tokensCount: 0, roleAssignmentsMetadataDTO: [] }, o),
  roleAssignmentMetadata: (o: Fields) => build(ORDER.RoleAssignmentMetadata, { identifier: T.nonEmpty, resourceGroupIdentifier: T.nonEmpty, resourceGroupName: T.nonEmpty }, o),
  page: (content: unknown[], o: { pageIndex?: number; pageSize?: number; totalItems?: number } = {}) => {
    const pageSize = o.pageSize ?? 50;
    const totalItems = o.totalItems ?? content.length;
    return build(ORDER.PageResponse, {
      totalPages: Math.ceil(totalItems / pageSize),
      totalItems,
      pageItemCount: content.length,
      pageSize,
      content,
      pageIndex: o.pageIndex ?? 0,
      empty: content.length === 0,
      pageToken: null,
    }, {});
  },
};

// ---- assertions on responses ---------------------------------------------------------------------

export function expectJson(res: HttpResponse): void {
  // The Go SDK decodes a body only when its Content-Type contains application/json (docs/compat/harness-ng.md Media types).
  expect(res.headers.get('content-type') ?? '', `content-type of ${res.text}`).toContain('application/json');
}

export function expectBody(res: HttpResponse, status: number, shape: unknown, vars: Vars = {}): void {
  expect(res.status, res.text).toBe(status);
  expectJson(res);
  expectShape(res.body, shape, vars);
}

/** 200 SUCCESS with data of the given shape. */
export function expectSuccess(res: HttpResponse, data: unknown, vars: Vars = {}): void {
  expectBody(res, 200, S.success(data), vars);
}

/** An ERROR body (docs/compat/harness-ng.md ErrorDTO) with the given HTTP status, code and message. */
export function expectError(res: HttpResponse, status: number, code: string, message: unknown, vars: Vars = {}): void {
  expectBody(res, status, S.error(code, message), vars);
}

export function expectFailure(res: HttpResponse, code: string, message: unknown, errors?: Array<{ fieldId: string; error: unknown }> | null, vars: Vars = {}): void {
  expectBody(res, 400, S.failure(code, message, errors === undefined ? T.any : errors), vars);
}

export function expectInvalidToken(res: HttpResponse): void {
  expectBody(res, 401, S.invalidToken());
}

// ---- client headers -------------------------------------------------------------------------------

/** What the Go SDK sends (docs/compat/harness-ng.md): `x-api-key` with no prefix, JSON in and out, its user agent. */
export function sdkHeaders(token: string, hasBody: boolean): Record<string, string> {
  return {
    'x-api-key': token,
    Accept: 'application/json',
    'User-Agent': 'Swagger-Codegen/1.0.0/go',
    ...(hasBody ? { 'Content-Type': 'application/json' } : {}),
  };
}

/** Go's url.Values.Encode sorts parameters by name; the SDK's query strings come out that way. */
export function goQuery(q: Record<string, unknown> | undefined): Record<string, string | string[]> | undefined {
  if (!q) return undefined;
  const out: Record<string, string | string[]> = {};
  for (const key of Object.keys(q).sort()) {
    const v = q[key];
    if (v === undefined) continue;
    out[key] = Array.isArray(v) ? v.map(String) : String(v);
  }
  return out;
}

/** One call as the Go SDK makes it (headers, sorted query, JSON body), for tests that are not fixture replays. */
export function sdkCall(k: TestKeyward, method: string, path: string, opts: { token?: string; query?: Record<string, unknown>; body?: unknown } = {}): Promise<HttpResponse> {
  const hasBody = opts.body !== undefined;
  return k.http.request(method, path, {
    token: null,
    headers: sdkHeaders(opts.token ?? k.admin.token, hasBody),
    query: goQuery(opts.query),
    ...(hasBody ? { rawBody: JSON.stringify(opts.body) } : {}),
  });
}

// ---- fixtures as data -----------------------------------------------------------------------------

export interface FixtureRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to the client's base path (GW for the SDK and Terraform, NG otherwise). */
  path: string;
  query?: Record<string, string | number | Array<string | number>>;
  body?: unknown;
  /** Sent as is with Content-Type: application/json (for malformed JSON). */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface Exchange {
  /** The client call being replayed, e.g. "TokenApi.CreateToken". */
  call: string;
  /** Where the spec describes this exchange. */
  cite: string;
  /** Moves the test clock before the request. */
  advanceClock?: number;
  request: FixtureRequest;
  status: number;
  /** The whole response body's shape. */
  body: unknown;
  /** Saves parts of the body as variables: name -> dotted path ("data", "data.content.0.token.identifier"). */
  capture?: Record<string, string>;
  /** After the exchange, these tokens must (not) pass POST /v1/verify. */
  verify?: Array<{ token: string; valid: boolean }>;
}

function at(body: unknown, path: string): unknown {
  let cur: unknown = body;
  for (const part of path.split('.')) cur = (cur as Record<string, unknown> | null)?.[part];
  return cur;
}

export async function verifyToken(k: TestKeyward, token: string): Promise<{ valid: boolean; reason?: string }> {
  const res = await k.anon.post('/v1/verify', { token });
  expect(res.status, res.text).toBe(200);
  return res.body as { valid: boolean; reason?: string };
}

/** Sends one fixture's request as the given client would, and checks the answer against the fixture. */
export async function replay(k: TestKeyward, base: string, token: string, ex: Exchange, vars: Vars, style: 'sdk' | 'script' = 'sdk'): Promise<HttpResponse> {
  if (ex.advanceClock) k.clock.advance(ex.advanceClock);
  const req = subst(ex.request, vars);
  const hasBody = req.body !== undefined || req.rawBody !== undefined;
  const headers = style === 'sdk' ? sdkHeaders(token, hasBody) : { 'x-api-key': token, ...(hasBody ? { 'Content-Type': 'application/json' } : {}) };
  const res = await k.http.request(req.method, `${base}${req.path}`, {
    token: null,
    headers: { ...headers, ...req.headers },
    query: style === 'sdk' ? goQuery(req.query) : req.query,
    ...(hasBody ? { rawBody: req.rawBody ?? JSON.stringify(req.body) } : {}),
  });
  const label = `${ex.call} (${ex.cite}): ${req.method} ${req.path}`;
  expect(res.status, `${label} -> ${res.text}`).toBe(ex.status);
  expect(res.headers.get('content-type') ?? '', label).toContain('application/json');
  try {
    expectShape(res.body, ex.body, vars);
  } catch (e) {
    throw new Error(`${label}\n${(e as Error).message}\nbody: ${res.text}`);
  }
  for (const [name, path] of Object.entries(ex.capture ?? {})) {
    const v = at(res.body, path);
    expect(typeof v === 'string' || typeof v === 'number', `${label}: capture ${name} from ${path}`).toBe(true);
    vars[name] = v as string | number;
  }
  for (const v of ex.verify ?? []) {
    const r = await verifyToken(k, subst(v.token, vars));
    expect(r.valid, `${label}: /v1/verify of ${v.token} -> ${JSON.stringify(r)}`).toBe(v.valid);
  }
  return res;
}

// ---- raw HTTP, for header names exactly as written -----------------------------------------------

/** fetch lower-cases header names; node:http sends them as given, which is what the header-case tests need. */
export function rawRequest(baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: any; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, baseUrl);
    const req = http.request({ method, hostname: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

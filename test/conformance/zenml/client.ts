/**
 * ZenML's Python client (RestZenStore over `requests`), replayed byte for byte over node:http, so
 * that the conformance tests send what a real `zenml` installation sends (docs/compat/zenml.md):
 * - query values are Python `str()`s (`True`/`False`), encoded with urllib's quote_plus;
 * - list calls always carry `hydrate`, `sort_by`, `logical_operator`, `page` and `size`;
 * - JSON bodies go out as `data=<json string>`: NO Content-Type header (older clients), or with
 *   `application/json` (newer clients' `json=`), or as fetch sends a string (`text/plain`);
 * - login is `application/x-www-form-urlencoded`;
 * - a body-less POST/PUT/DELETE still carries `Content-Length: 0`, as requests does.
 */
import http from 'node:http';
import { expect } from 'vitest';
import type { TestKeyward } from '../../helpers/keyward.js';

export const API = '/api/v1';

/** startKeyward's clock: 2026-01-15T12:00:00Z. */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

/** ZenML's naive UTC datetimes: no offset, microseconds (docs/compat/zenml.md). */
export const NAIVE_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type BodyMode = 'data' | 'json' | 'fetch';

export interface ZenResponse<T = any> {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: T;
}

export type Params = Record<string, string | number | boolean | null | undefined>;

/** Python's str() of a query value: booleans are `True`/`False`. */
export function pyStr(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

/** urllib.parse.quote_plus: unreserved `A-Za-z0-9_.-~` kept, space as `+`, the rest %XX (UTF-8). */
export function quotePlus(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9_.\-~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** requests' encoding of `params=` (None values are dropped, as requests does). */
export function queryString(params: Params | undefined): string {
  if (!params) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    parts.push(`${quotePlus(k)}=${quotePlus(pyStr(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

export interface ListOptions {
  hydrate?: boolean;
  sort_by?: string;
  logical_operator?: 'and' | 'or' | string;
  page?: number;
  size?: number;
}

/** The params of RestZenStore._list_paginated_resources: the fixed ones first, then the filters. */
export function listParams(filters: Params = {}, o: ListOptions = {}): Params {
  return {
    hydrate: o.hydrate ?? false,
    sort_by: o.sort_by ?? 'created',
    logical_operator: o.logical_operator ?? 'and',
    page: o.page ?? 1,
    size: o.size ?? 20,
    ...filters,
  };
}

export interface Auth {
  bearer?: string;
  cookie?: string;
}

/** One HTTP exchange over node:http, with exactly the headers given. */
export function rawRequest(
  baseUrl: string,
  method: string,
  pathAndQuery: string,
  opts: { headers?: Record<string, string>; body?: string } = {},
): Promise<ZenResponse> {
  const url = new URL(pathAndQuery, baseUrl);
  const headers: Record<string, string> = {
    'user-agent': 'python-requests/2.32.3',
    accept: '*/*',
    connection: 'keep-alive',
    ...opts.headers,
  };
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  else if (method !== 'GET' && method !== 'HEAD') headers['content-length'] = '0';
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        if ((res.headers['content-type'] ?? '').includes('json') && text !== '') body = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** A ZenML client session against one server: an auth (admin token, JWT bearer or cookie) and a body mode. */
export class ZenClient {
  constructor(
    readonly baseUrl: string,
    readonly auth: Auth = {},
    readonly mode: BodyMode = 'data',
  ) {}

  with(auth: Auth, mode: BodyMode = this.mode): ZenClient {
    return new ZenClient(this.baseUrl, auth, mode);
  }

  withMode(mode: BodyMode): ZenClient {
    return new ZenClient(this.baseUrl, this.auth, mode);
  }

  private authHeaders(): Record<string, string> {
    const h: Record<string, string> = {};
    if (this.auth.bearer !== undefined) h.authorization = `Bearer ${this.auth.bearer}`;
    if (this.auth.cookie !== undefined) h.cookie = this.auth.cookie;
    return h;
  }

  async request<T = any>(method: string, path: string, opts: { params?: Params; json?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<ZenResponse<T>> {
    const target = `${API}${path}${queryString(opts.params)}`;
    const headers = { ...this.authHeaders(), ...opts.headers };
    const body = opts.raw !== undefined ? opts.raw : opts.json !== undefined ? JSON.stringify(opts.json) : undefined;
    if (body !== undefined && this.mode === 'json') headers['content-type'] ??= 'application/json';
    if (this.mode === 'fetch') {
      // What fetch does with a string body: it adds `text/plain;charset=UTF-8`.
      const res = await fetch(new URL(target, this.baseUrl), { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      const h: http.IncomingHttpHeaders = {};
      res.headers.forEach((v, k) => (h[k] = v));
      return { status: res.status, headers: h, text, body: ((res.headers.get('content-type') ?? '').includes('json') && text !== '' ? JSON.parse(text) : text) as T };
    }
    return rawRequest(this.baseUrl, method, target, { headers, ...(body !== undefined ? { body } : {}) }) as Promise<ZenResponse<T>>;
  }

  /** RestZenStore.get: `hydrate` is always sent. */
  get<T = any>(path: string, params: Params = { hydrate: true }) {
    return this.request<T>('GET', path, { params });
  }
  list<T = any>(path: string, filters: Params = {}, o: ListOptions = {}) {
    return this.request<T>('GET', path, { params: listParams(filters, o) });
  }
  post<T = any>(path: string, json?: unknown) {
    return this.request<T>('POST', path, json === undefined ? {} : { json });
  }
  put<T = any>(path: string, json?: unknown) {
    return this.request<T>('PUT', path, json === undefined ? {} : { json });
  }
  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path);
  }
}

// ---- stories --------------------------------------------------------------------------------------

/** The client as the bootstrap admin: its Keyward token as `Authorization: Bearer`. */
export function adminClient(k: TestKeyward, mode: BodyMode = 'data'): ZenClient {
  return new ZenClient(k.url, { bearer: k.admin.token }, mode);
}

/** `POST /api/v1/login`, form-encoded, as RestZenStore does for an API key. */
export function loginRequest(baseUrl: string, form: Record<string, string>): Promise<ZenResponse> {
  const body = Object.entries(form)
    .map(([k, v]) => `${quotePlus(k)}=${quotePlus(v)}`)
    .join('&');
  return rawRequest(baseUrl, 'POST', `${API}/login`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
}

export interface Session {
  jwt: string;
  /** `zenml-server-<id>=<jwt>`, from Set-Cookie. */
  cookie: string;
  client: ZenClient;
}

/** Logs in with an API key and expects success. */
export async function login(baseUrl: string, apiKey: string): Promise<Session> {
  const res = await loginRequest(baseUrl, { grant_type: 'zenml-api-key', password: apiKey });
  expect(res.status, res.text).toBe(200);
  const jwt = res.body.access_token as string;
  const setCookie = [res.headers['set-cookie'] ?? []].flat()[0] ?? '';
  const cookie = setCookie.split(';')[0]!;
  return { jwt, cookie, client: new ZenClient(baseUrl, { bearer: jwt }) };
}

export async function createServiceAccount(c: ZenClient, name: string, description: string | null = null): Promise<any> {
  const res = await c.post('/service_accounts', { name, description, active: true });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

export async function createApiKey(c: ZenClient, saId: string, name: string, description: string | null = null): Promise<any> {
  const res = await c.post(`/service_accounts/${saId}/api_keys`, { name, description });
  expect(res.status, res.text).toBe(200);
  expect(res.body.body.key).toMatch(/^ZENKEY_/);
  return res.body;
}

/** A service account with one key, as `zenml service-account create NAME` makes (docs/compat/zenml.md). */
export async function accountWithKey(c: ZenClient, name: string): Promise<{ sa: any; key: any; secret: string }> {
  const sa = await createServiceAccount(c, name);
  const key = await createApiKey(c, sa.id, 'default', 'Default API key.');
  return { sa, key, secret: key.body.key as string };
}

/** The JSON inside a ZENKEY_ value. */
export function decodeKey(value: string): { id: string; key: string } {
  return JSON.parse(Buffer.from(value.replace(/^ZENKEY_/, ''), 'base64').toString('utf8')) as { id: string; key: string };
}

/** `GET /current-user` as the session: 200 with the principal, or the error. */
export function whoami(c: ZenClient) {
  return c.get('/current-user', {});
}

/** Expects ZenML's `{"detail": ["<cls>", <message>]}`. */
export function expectDetail(res: ZenResponse, status: number, cls: string, message?: string | RegExp): void {
  expect(res.status, res.text).toBe(status);
  expect(Array.isArray(res.body?.detail), res.text).toBe(true);
  expect(res.body.detail[0]).toBe(cls);
  expect(res.body.detail).toHaveLength(2);
  if (typeof message === 'string') expect(res.body.detail[1]).toBe(message);
  else if (message) expect(res.body.detail[1]).toMatch(message);
}

/** 401 CredentialsNotValid with an "Authentication error: ..." message (docs/compat/zenml.md). */
export function expectCredentialsNotValid(res: ZenResponse, message?: string | RegExp): void {
  expectDetail(res, 401, 'CredentialsNotValid', message ?? /^Authentication error: /);
  expect(res.body.detail[1]).toMatch(/^Authentication error: /);
}

/** Python's repr() of a 404 message that contains `'`: wrapped in double quotes (spec 7, TEXC). */
export const keyErrorRepr = (message: string) => `"${message}"`;
export const saNotFound = (x: string) => keyErrorRepr(`No service account with the '${x}' name or ID was found`);
export const keyNotFound = (x: string, saId: string) => keyErrorRepr(`An API key with ID or name '${x}' is not configured for service account with ID '${saId}'.`);

/** The ids of a page's items. */
export const ids = (page: { items: Array<{ id: string }> }) => page.items.map((i) => i.id);

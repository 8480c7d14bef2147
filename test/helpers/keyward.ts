/**
 * Builds a whole Keyward (store, services, server) in one call, on SQLite or PostgreSQL, with an
 * injected clock, listening on a real port; returns a client that speaks to it over real HTTP.
 * Most tests read as a story on top of this.
 */
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/domain/clock.js';
import { loadConfig, type Config } from '../../src/server/config.js';
import { createKeyward, type Keyward } from '../../src/server/keyward.js';
import type { Provisioned } from '../../src/services/provisioning.js';
import { openTestStore, type DbKind, type TestStore } from './databases.js';

export interface HttpResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as-is, without JSON encoding (with its own content-type header). */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Sent as X-Api-Key. */
  token?: string | null;
  query?: Record<string, string | number | boolean | Array<string | number | boolean> | undefined>;
}

export class HttpClient {
  constructor(
    readonly baseUrl: string,
    private readonly defaultToken: string | null = null,
  ) {}

  withToken(token: string | null): HttpClient {
    return new HttpClient(this.baseUrl, token);
  }

  url(path: string, query?: RequestOptions['query']): string {
    const u = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(item));
    }
    return u.toString();
  }

  async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? this.defaultToken : opts.token;
    if (token) headers['x-api-key'] = token;
    let body: string | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.url(path, opts.query), { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get<T = any>(path: string, opts?: RequestOptions) {
    return this.request<T>('GET', path, opts);
  }
  post<T = any>(path: string, body?: unknown, opts: RequestOptions = {}) {
    return this.request<T>('POST', path, { ...opts, body });
  }
  put<T = any>(path: string, body?: unknown, opts: RequestOptions = {}) {
    return this.request<T>('PUT', path, { ...opts, body });
  }
  patch<T = any>(path: string, body?: unknown, opts: RequestOptions = {}) {
    return this.request<T>('PATCH', path, { ...opts, body });
  }
  delete<T = any>(path: string, opts?: RequestOptions) {
    return this.request<T>('DELETE', path, opts);
  }
}

export interface TestKeyward {
  kind: DbKind;
  keyward: Keyward;
  clock: ManualClock;
  url: string;
  /** Authenticated as the bootstrap admin. */
  http: HttpClient;
  /** No credential. */
  anon: HttpClient;
  admin: { token: string; accountId: string; userId: string; email: string };
  bootstrap: Provisioned;
  testStore: TestStore;
  /** Every log line the server wrote. */
  logs: string[];
  close(): Promise<void>;
}

export interface StartOptions {
  config?: Partial<Config>;
  clock?: ManualClock;
}

export async function startKeyward(kind: DbKind, opts: StartOptions = {}): Promise<TestKeyward> {
  const clock = opts.clock ?? new ManualClock(Date.UTC(2026, 0, 15, 12, 0, 0));
  const testStore = await openTestStore(kind, { migrate: false });
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter((l: string) => l !== ''));
      cb();
    },
  });
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', logLevel: 'info', usageFlushMs: 60_000, ...opts.config });
  const keyward = await createKeyward({ config, clock, store: testStore.store, logStream, announce: () => undefined });
  const url = await keyward.listen();
  const b = keyward.bootstrapped;
  if (!b) throw new Error('expected a bootstrap on a fresh database');
  return {
    kind,
    keyward,
    clock,
    url,
    http: new HttpClient(url, b.token),
    anon: new HttpClient(url, null),
    admin: { token: b.token, accountId: b.account.id, userId: b.admin.id, email: b.admin.email },
    bootstrap: b,
    testStore,
    logs,
    async close() {
      await keyward.close();
      await testStore.cleanup();
    },
  };
}

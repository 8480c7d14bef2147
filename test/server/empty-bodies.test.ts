/**
 * An empty body is no body, whatever the Content-Type says, on every route of every protocol
 * (src/server/bodies.ts). Harness's web UI sends `Content-Type: application/json` with nothing after
 * it on DELETE /ng/api/apikey/{id}, DELETE /ng/api/token/{id}, POST /ng/api/token/rotate/{id} and
 * DELETE /ng/api/organizations/{id}; Harness answers 200.
 *
 * The sweep walks the app's own route table: each route answers an empty JSON body exactly as it
 * answers no body at all, so a route added later is covered without anyone listing it here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from '../../src/server/bodies.js';
import { findNul } from '../../src/domain/validation.js';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';

/** A concrete path for a route: every parameter becomes an id that names nothing. */
function concretePath(url: string): string | null {
  if (url.includes('*')) return null; // static files
  return url.replace(/:[A-Za-z_]+/g, 'no-such-id-000');
}

describeEachDb('empty request bodies', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind);
  });
  afterAll(async () => k.close());

  it('every route answers an empty JSON body as it answers no body', async () => {
    const routes = k.keyward.app.routeTable.filter((r) => r.method !== 'GET' && r.method !== 'OPTIONS');
    expect(routes.length).toBeGreaterThan(40);
    const differences: string[] = [];
    for (const route of routes) {
      const path = concretePath(route.url);
      if (path === null) continue;
      const query = { accountIdentifier: k.admin.accountId, accountId: k.admin.accountId };
      const bare = await k.http.request(route.method, path, { query });
      const empty = await k.http.request(route.method, path, { query, rawBody: '', headers: { 'content-type': 'application/json' } });
      const blank = await k.http.request(route.method, path, { query, rawBody: ' \n', headers: { 'content-type': 'application/json; charset=utf-8' } });
      for (const [label, r] of [['empty', empty], ['whitespace', blank]] as const) {
        if (r.status !== bare.status || r.status >= 500) differences.push(`${route.method} ${route.url}: no body ${bare.status}, ${label} JSON body ${r.status} ${r.text.slice(0, 120)}`);
      }
    }
    expect(differences).toEqual([]);
  });

  describe("Harness's web UI calls with Content-Type: application/json and no body", () => {
    const json = { rawBody: '', headers: { 'content-type': 'application/json' } };
    let keyId: string;
    let tokenId: string;

    beforeAll(async () => {
      const q = { accountIdentifier: k.admin.accountId };
      keyId = `ui_key_${kind}`;
      const key = await k.http.post('/ng/api/apikey', { identifier: keyId, name: keyId, apiKeyType: 'USER', parentIdentifier: k.admin.userId, accountIdentifier: k.admin.accountId }, { query: q });
      expect(key.status, key.text).toBe(200);
      const token = await k.http.post('/ng/api/token', { identifier: 'ui_tok', name: 'ui_tok', apiKeyType: 'USER', parentIdentifier: k.admin.userId, apiKeyIdentifier: keyId, accountIdentifier: k.admin.accountId }, { query: q });
      expect(token.status, token.text).toBe(200);
      tokenId = 'ui_tok';
    });

    const tokenQuery = () => ({ accountIdentifier: k.admin.accountId, apiKeyType: 'USER', parentIdentifier: k.admin.userId, apiKeyIdentifier: keyId });

    it('POST /ng/api/token/rotate/{id} rotates', async () => {
      const r = await k.http.request('POST', `/ng/api/token/rotate/${tokenId}`, { ...json, query: tokenQuery() });
      expect(r.status, r.text).toBe(200);
      expect(r.body.data).toMatch(/^pat\./);
    });

    it('DELETE /ng/api/token/{id} deletes', async () => {
      const r = await k.http.request('DELETE', `/ng/api/token/${tokenId}`, { ...json, query: tokenQuery() });
      expect(r.status, r.text).toBe(200);
      expect(r.body.data).toBe(true);
    });

    it('DELETE /ng/api/apikey/{id} deletes', async () => {
      const q = { accountIdentifier: k.admin.accountId, apiKeyType: 'USER', parentIdentifier: k.admin.userId };
      const r = await k.http.request('DELETE', `/ng/api/apikey/${keyId}`, { ...json, query: q });
      expect(r.status, r.text).toBe(200);
      expect(r.body.data).toBe(true);
    });

    it('DELETE /ng/api/organizations/{id} deletes', async () => {
      const q = { accountIdentifier: k.admin.accountId };
      const made = await k.http.post('/ng/api/organizations', { organization: { identifier: 'ui_org', name: 'ui org' } }, { query: q });
      expect(made.status, made.text).toBe(200);
      const r = await k.http.request('DELETE', '/ng/api/organizations/ui_org', { ...json, query: q });
      expect(r.status, r.text).toBe(200);
      expect(r.body.data).toBe(true);
    });

    it('a route that needs a body still refuses an empty one in its own shape', async () => {
      const r = await k.http.request('POST', '/ng/api/apikey', { ...json, query: { accountIdentifier: k.admin.accountId } });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ status: 'FAILURE', code: 'INVALID_REQUEST' });
    });
  });

  it('a body nested thousands deep is a 400 on routes before authentication, never a 500', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    for (const path of ['/v1/sessions', '/api/v1/login', '/v1/verify', '/ng/api/apikey', '/api/graphql']) {
      const r = await k.anon.request('POST', path, { rawBody: deep, headers: { 'content-type': 'application/json' } });
      expect(r.status, `${path}: ${r.text}`).toBeGreaterThanOrEqual(400);
      expect(r.status, `${path}: ${r.text}`).toBeLessThan(500);
    }
  });
});

describe('JSON nesting and NUL checks', () => {
  it('counts nesting outside strings only', () => {
    expect(jsonDepthExceeds('[[[]]]', 3)).toBe(false);
    expect(jsonDepthExceeds('[[[[]]]]', 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":"[[[[[[\\"[["}', 1)).toBe(false);
    expect(jsonDepthExceeds('[{},{},{},{}]', 2)).toBe(false);
  });

  it('finds a NUL however deep it is, without recursion', () => {
    let v: unknown = 'a\u0000';
    for (let i = 0; i < 100_000; i++) v = [v];
    expect(findNul({ x: v })).toBe('x');
    expect(findNul({ a: { b: ['ok', { c: 'n\u0000' }] } })).toBe('a.b.c');
    expect(findNul({ ['k\u0000']: 1 })).toBe('k\u0000');
    expect(findNul({ a: ['x', 'y'] })).toBeNull();
  });
});

/**
 * Correlation ids: a client's X-Request-Id is echoed and logged; a fresh one is made when absent or
 * ill-formed: a per-process random prefix and a counter (src/server/logging.ts), unique across nodes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';
import { expectNativeError } from '../helpers/nativeApi.js';

/** A UUID's shape: 20 hex digits of per-process prefix, then a 12-digit counter. */
const FRESH = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describeEachDb('request ids', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind);
  });
  afterAll(async () => k?.close());

  const linesWith = (id: string) => k.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === id);

  it('echoes the client\'s X-Request-Id in the response header and logs it', async () => {
    const id = 'client-req.42:abc_DEF-1';
    const res = await k.http.get('/v1/whoami', { headers: { 'X-Request-Id': id } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(id);
    const lines = linesWith(id);
    // One line per request, on completion, with the request and the answer.
    expect(lines.map((l) => l.msg)).toEqual(['request completed']);
    expect(lines[0]).toMatchObject({ req: { method: 'GET', url: '/v1/whoami', requestId: id }, res: { statusCode: 200 } });
  });

  it('puts the id in an error body\'s requestId', async () => {
    const id = 'client-err-7';
    const res = await k.anon.get('/v1/whoami', { headers: { 'x-request-id': id } });
    expectNativeError(res, 401);
    expect(res.body.requestId).toBe(id);
    const notFound = await k.anon.get('/v1/nowhere', { headers: { 'x-request-id': 'client-404' } });
    expectNativeError(notFound, 404);
    expect(notFound.body.requestId).toBe('client-404');
    const bad = await k.http.post(`/v1/accounts/${k.admin.accountId}/users`, { email: 7 }, { headers: { 'x-request-id': 'client-400' } });
    expectNativeError(bad, 400, { field: 'email' });
    expect(bad.body.requestId).toBe('client-400');
    expect(linesWith('client-400').length).toBeGreaterThan(0);
  });

  it('records the id on the audit event of a mutation', async () => {
    const res = await k.http.post(`/v1/accounts/${k.admin.accountId}/users`, { email: 'traced@example.com' }, { headers: { 'x-request-id': 'client-audit-1' } });
    expect(res.status).toBe(201);
    const events = await k.http.get(`/v1/accounts/${k.admin.accountId}/audit`, { query: { action: 'user.create' } });
    expect(events.body.items.find((e: { resourceId: string }) => e.resourceId === res.body.id)?.requestId).toBe('client-audit-1');
  });

  it('makes a fresh id for every request that brings none', async () => {
    const a = await k.anon.get('/healthz');
    const b = await k.anon.get('/healthz');
    const ia = a.headers.get('x-request-id')!;
    const ib = b.headers.get('x-request-id')!;
    expect(ia).toMatch(FRESH);
    expect(ib).toMatch(FRESH);
    expect(ia).not.toBe(ib);
    // Same process: same prefix, another count; another process (a second node, a restart): another prefix.
    expect(ia.slice(0, 24)).toBe(ib.slice(0, 24));
    const other = await startKeyward(kind);
    try {
      const ic = (await other.anon.get('/healthz')).headers.get('x-request-id')!;
      expect(ic).toMatch(FRESH);
      expect(ic.slice(0, 24)).not.toBe(ia.slice(0, 24));
    } finally {
      await other.close();
    }
    expect(linesWith(ia).length).toBeGreaterThan(0);
    const err = await k.anon.post('/v1/verify', {});
    expect(err.body.requestId).toMatch(FRESH);
    expect(err.body.requestId).toBe(err.headers.get('x-request-id'));
  });

  it('replaces an ill-formed or over-long id instead of echoing or logging it', async () => {
    for (const id of ['has spaces in it', 'x'.repeat(129), '{"inject":1}', 'line"break']) {
      const res = await k.anon.get('/healthz', { headers: { 'x-request-id': id } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toMatch(FRESH);
      expect(k.logs.some((l) => l.includes(id) || l.includes(JSON.stringify(id).slice(1, -1)))).toBe(false);
    }
  });
});

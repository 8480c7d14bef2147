/** /metrics: requests by route pattern and status, latency, and verifications by outcome. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';
import { userWithToken } from '../helpers/nativeApi.js';

/** The value of one sample, 0 when absent. Labels must match exactly (all of them). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[l[1]!] = l[2]!;
    if (Object.keys(got).length !== Object.keys(labels).length) continue;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

describeEachDb('metrics', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind);
  });
  afterAll(async () => k?.close());

  async function metrics(): Promise<string> {
    const res = await k.anon.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text;
  }

  it('counts requests by route pattern, method and status, and observes their latency', async () => {
    const before = await metrics();
    const verify = { route: '/v1/verify', method: 'POST', status: '200' };
    const v0 = sample(before, 'keyward_http_requests_total', verify);
    const h0 = sample(before, 'keyward_http_request_duration_seconds_count', { route: '/v1/verify', method: 'POST' });
    for (let i = 0; i < 3; i++) expect((await k.anon.post('/v1/verify', { token: k.admin.token })).status).toBe(200);
    expect((await k.anon.post('/v1/verify', {})).status).toBe(400);
    expect((await k.anon.get('/v1/whoami')).status).toBe(401);
    expect((await k.http.get(`/v1/accounts/${k.admin.accountId}/users/${k.admin.userId}`)).status).toBe(200);

    const after = await metrics();
    expect(sample(after, 'keyward_http_requests_total', verify)).toBe(v0 + 3);
    expect(sample(after, 'keyward_http_requests_total', { ...verify, status: '400' })).toBe(sample(before, 'keyward_http_requests_total', { ...verify, status: '400' }) + 1);
    expect(sample(after, 'keyward_http_requests_total', { route: '/v1/whoami', method: 'GET', status: '401' })).toBeGreaterThanOrEqual(1);
    // The route is the pattern, never the URL: no id becomes a label value.
    expect(sample(after, 'keyward_http_requests_total', { route: '/v1/accounts/:accountId/users/:userId', method: 'GET', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(after).not.toContain(k.admin.userId);
    expect(after).not.toContain(k.admin.accountId);

    expect(sample(after, 'keyward_http_request_duration_seconds_count', { route: '/v1/verify', method: 'POST' })).toBe(h0 + 4);
    expect(sample(after, 'keyward_http_request_duration_seconds_bucket', { route: '/v1/verify', method: 'POST', le: '+Inf' })).toBe(h0 + 4);
    expect(sample(after, 'keyward_http_request_duration_seconds_sum', { route: '/v1/verify', method: 'POST' })).toBeGreaterThan(0);
    expect(after).toMatch(/# TYPE keyward_http_request_duration_seconds histogram/);
    expect(after).toMatch(/# TYPE keyward_http_requests_total counter/);
  });

  it('counts an unknown route without turning its URL into a label', async () => {
    expect((await k.anon.get('/no/such/route/secret-looking-segment')).status).toBe(404);
    const text = await metrics();
    expect(text).not.toContain('secret-looking-segment');
    const unknown = text.split('\n').filter((l) => l.startsWith('keyward_http_requests_total{') && l.includes('status="404"'));
    expect(unknown.length).toBeGreaterThan(0);
  });

  it('counts verifications by outcome, valid and each rejection', async () => {
    const u = await userWithToken(k, k.admin.accountId, 'metered@example.com');
    const before = await metrics();
    const count = (t: string, outcome: string) => sample(t, 'keyward_verifications_total', { outcome });

    await k.anon.post('/v1/verify', { token: k.admin.token });
    await k.anon.post('/v1/verify', { token: u.token });
    await k.anon.post('/v1/verify', { token: 'nonsense' });
    await k.anon.post('/v1/verify', { token: 'nonsense-2' });
    await k.anon.post('/v1/verify', { token: u.token.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x')) });
    await k.anon.post('/v1/verify', { token: `pat.${k.admin.accountId}.${'f'.repeat(24)}.${'Q'.repeat(20)}` });
    // Authentication of an API call is a verification too.
    await k.anon.get('/v1/whoami', { token: u.token });

    const after = await metrics();
    expect(count(after, 'valid') - count(before, 'valid')).toBe(3);
    expect(count(after, 'malformed') - count(before, 'malformed')).toBe(2);
    expect(count(after, 'wrong_secret') - count(before, 'wrong_secret')).toBe(1);
    expect(count(after, 'unknown') - count(before, 'unknown')).toBe(1);
    expect(after).toMatch(/# TYPE keyward_verifications_total counter/);
  });

  it('exposes process metrics under the keyward_ prefix', async () => {
    const text = await metrics();
    expect(text).toMatch(/^keyward_process_/m);
  });
});

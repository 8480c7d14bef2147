/**
 * Routes' fast paths (src/server/fastPaths.ts, src/protocols/contract/fastPath.ts): the plain
 * GET /v1/verify with a cached token is answered before Fastify routes it. Everything a client,
 * a proxy or an operator sees must be what the route's handler gives: the same status, body and
 * headers, the request id, the request metrics and verification outcomes, the log line, and the
 * token's last use (with the proxy's client address when Keyward trusts it).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type HttpResponse, type TestKeyward } from '../helpers/keyward.js';
import { issueUserToken } from '../helpers/nativeApi.js';

function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.keys(got).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

/** The headers an answer's meaning is in (the per-request and per-connection ones left out). */
function meaningful(res: HttpResponse): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (!['date', 'x-request-id', 'connection', 'keep-alive'].includes(k)) out[k] = v;
  });
  return out;
}

describeEachDb('fast paths', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind, { config: { trustProxy: true } });
  });
  afterAll(async () => k?.close());

  const fastAnswers = async () => sample((await k.anon.get('/metrics')).text, 'keyward_http_fast_path_answers');

  it('answers the plain call with a cached token before routing, exactly as the route does', async () => {
    const { token } = await issueUserToken(k, k.admin.accountId, k.admin.userId);
    const wrong = `${token.slice(0, -1)}${token.endsWith('a') ? 'b' : 'a'}`;
    for (const [headers, status] of [[{ 'x-api-key': token }, 200], [{ authorization: `Bearer ${token}` }, 200], [{ 'x-api-key': wrong }, 401], [{}, 401]] as const) {
      // The first call reads the store (a miss is the route's); with a query the URL is not the exact path: the route answers.
      await k.anon.get('/v1/verify', { headers });
      const before = await fastAnswers();
      const routed = await k.anon.get('/v1/verify?probe=1', { headers });
      expect(await fastAnswers()).toBe(before);
      const fast = await k.anon.get('/v1/verify', { headers });
      expect(await fastAnswers()).toBe(before + 1);
      expect(fast.status).toBe(status);
      expect([fast.status, fast.text, meaningful(fast)]).toEqual([routed.status, routed.text, meaningful(routed)]);
    }
  });

  it('leaves requirements, other methods and other paths to the route', async () => {
    const { token } = await issueUserToken(k, k.admin.accountId, k.admin.userId);
    await k.anon.get('/v1/verify', { token });
    const before = await fastAnswers();
    const needs = await k.anon.get('/v1/verify', { token, headers: { 'x-keyward-require-permission': 'core_account_edit' } });
    expect(needs.status).toBe(200); // the admin holds it: checked by the route
    const denied = await k.anon.get('/v1/verify', { token, headers: { 'x-keyward-require-account': 'someone-else' } });
    expect(denied.status).toBe(403);
    expect((await k.anon.request('HEAD', '/v1/verify', { token })).status).toBe(200);
    expect((await k.anon.get('/v1/verify/upstream/path', { token })).status).toBe(200);
    expect(await fastAnswers()).toBe(before);
  });

  it('gives the request id, counts the request and the outcome, logs the line, and records the use', async () => {
    const { token, tokenId } = await issueUserToken(k, k.admin.accountId, k.admin.userId);
    await k.anon.get('/v1/verify', { token });
    const m0 = (await k.anon.get('/metrics')).text;
    const labels = { route: '/v1/verify', method: 'GET', status: '200' };
    const id = '0b4cf2d6-6a55-4d0c-9a5e-3f1b2c4d5e6f';
    const fast = await k.anon.get('/v1/verify', { token, headers: { 'x-request-id': id, 'x-forwarded-for': '203.0.113.9, 10.0.0.1', 'user-agent': 'proxy/1.0' } });
    expect(fast.headers.get('x-request-id')).toBe(id);
    // The use, from the client's address as the trusted proxy gave it.
    expect(k.keyward.services.usage.peek(tokenId)).toMatchObject({ ip: '203.0.113.9', userAgent: 'proxy/1.0' });
    const fresh = await k.anon.get('/v1/verify', { token });
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const m1 = (await k.anon.get('/metrics')).text;
    expect(sample(m1, 'keyward_http_fast_path_answers') - sample(m0, 'keyward_http_fast_path_answers')).toBe(2);
    expect(sample(m1, 'keyward_http_requests_total', labels) - sample(m0, 'keyward_http_requests_total', labels)).toBe(2);
    const latency = { route: '/v1/verify', method: 'GET' };
    expect(sample(m1, 'keyward_http_request_duration_seconds_count', latency) - sample(m0, 'keyward_http_request_duration_seconds_count', latency)).toBe(2);
    expect(sample(m1, 'keyward_verifications_total', { outcome: 'valid' }) - sample(m0, 'keyward_verifications_total', { outcome: 'valid' })).toBe(2);

    const line = k.logs.map((l) => JSON.parse(l) as Record<string, any>).find((l) => l.reqId === id);
    expect(line).toMatchObject({ msg: 'request completed', req: { method: 'GET', url: '/v1/verify', requestId: id, remoteAddress: '203.0.113.9' }, res: { statusCode: 200 } });
    expect(typeof line!.responseTime).toBe('number');
    expect(k.logs.join('\n')).not.toContain(token.split('.').pop()!);
  });
});

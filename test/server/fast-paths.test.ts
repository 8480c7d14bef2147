/**
 * Routes' fast paths (src/server/fastPaths.ts, src/protocols/contract/fastPath.ts): the plain
 * GET /v1/verify and POST /v1/verify with a cached token are answered before Fastify routes them; a
 * POST whose body the fast path reads and then declines reaches the route with that same body. Everything a client,
 * a proxy or an operator sees must be what the route's handler gives: the same status, body and
 * headers, the request id, the request metrics and verification outcomes, the log line, and the
 * token's last use (with the proxy's client address when Keyward trusts it).
 */
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type HttpResponse, type TestKeyward } from '../helpers/keyward.js';
import { expectNativeError, issueUserToken, userWithToken } from '../helpers/nativeApi.js';

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

/**
 * Raw HTTP/1.1 over one connection: each request written in the given pieces with a pause between them
 * (a slow client), then every answer read; returns the status line and body of each.
 */
async function rawExchange(url: string, requests: string[][], pauseMs = 30): Promise<Array<{ status: number; body: string }>> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  socket.on('data', (d) => (received += d.toString('utf8')));
  const answers = () => [...received.matchAll(/HTTP\/1\.1 (\d{3})[^\r]*\r\n(?:[^\r]+\r\n)*?content-length: (\d+)\r\n(?:[^\r]+\r\n)*\r\n/gi)];
  for (const pieces of requests) {
    const want = answers().length + 1;
    for (const piece of pieces) {
      socket.write(piece);
      await new Promise((r) => setTimeout(r, pauseMs));
    }
    for (let i = 0; i < 200 && answers().length < want; i++) await new Promise((r) => setTimeout(r, 10));
  }
  socket.end();
  return answers().map((m) => ({ status: Number(m[1]), body: received.slice(m.index! + m[0].length, m.index! + m[0].length + Number(m[2])) }));
}

/** A POST /v1/verify as raw bytes, split into pieces at the given body offsets. */
function rawPost(body: string, splitAt: number[] = [], contentType = 'application/json'): string[] {
  const head = `POST /v1/verify HTTP/1.1\r\nhost: x\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const cuts = [0, ...splitAt, body.length];
  const pieces = cuts.slice(1).map((end, i) => body.slice(cuts[i], end));
  return [head + pieces[0], ...pieces.slice(1)];
}

describeEachDb('fast paths', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind, { config: { trustProxy: true } });
  });
  afterAll(async () => k?.close());

  let users = 0;
  /** A token of a new user of its own (a key holds a bounded number of tokens). */
  const freshToken = async () => {
    const u = await userWithToken(k, k.admin.accountId, `fast${++users}@example.com`);
    return { token: u.token, userId: u.id };
  };

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
    // The same cached answer again: its own id each time, one header, never the previous request's.
    const again = await k.anon.get('/v1/verify', { token });
    expect(fresh.headers.get('x-request-id')).not.toBe(id);
    expect(again.headers.get('x-request-id')).not.toBe(fresh.headers.get('x-request-id'));
    expect(again.headers.get('x-request-id')).not.toContain(',');
    expect(again.body).toEqual(fast.body);
    const m1 = (await k.anon.get('/metrics')).text;
    expect(sample(m1, 'keyward_http_fast_path_answers') - sample(m0, 'keyward_http_fast_path_answers')).toBe(3);
    expect(sample(m1, 'keyward_http_requests_total', labels) - sample(m0, 'keyward_http_requests_total', labels)).toBe(3);
    const latency = { route: '/v1/verify', method: 'GET' };
    expect(sample(m1, 'keyward_http_request_duration_seconds_count', latency) - sample(m0, 'keyward_http_request_duration_seconds_count', latency)).toBe(3);
    expect(sample(m1, 'keyward_verifications_total', { outcome: 'valid' }) - sample(m0, 'keyward_verifications_total', { outcome: 'valid' })).toBe(3);

    const line = k.logs.map((l) => JSON.parse(l) as Record<string, any>).find((l) => l.reqId === id);
    expect(line).toMatchObject({ msg: 'request completed', req: { method: 'GET', url: '/v1/verify', requestId: id, remoteAddress: '203.0.113.9' }, res: { statusCode: 200 } });
    expect(typeof line!.responseTime).toBe('number');
    expect(k.logs.join('\n')).not.toContain(token.split('.').pop()!);
  });

  it('answers the plain POST body with a cached token before routing, exactly as the route does', async () => {
    const { token } = await freshToken();
    const wrong = `${token.slice(0, -1)}${token.endsWith('a') ? 'b' : 'a'}`;
    for (const t of [token, wrong]) {
      // The first call reads the store (a miss: the route's, with the body the fast path read put back).
      const first = await k.anon.post('/v1/verify', { token: t });
      const before = await fastAnswers();
      const routed = await k.anon.post('/v1/verify?probe=1', { token: t });
      expect(await fastAnswers()).toBe(before);
      const fast = await k.anon.post('/v1/verify', { token: t });
      expect(await fastAnswers()).toBe(before + 1);
      expect(fast.status).toBe(200);
      expect((fast.body as { valid: boolean }).valid).toBe(t === token);
      expect([fast.status, fast.text, meaningful(fast)]).toEqual([routed.status, routed.text, meaningful(routed)]);
      expect([first.status, first.text]).toEqual([routed.status, routed.text]);
    }
  });

  it('hands every other POST body to the route with its bytes intact, in the protocol\'s shape', async () => {
    const { token } = await freshToken();
    await k.anon.post('/v1/verify', { token });
    const before = await fastAnswers();
    const cases: Array<[string, Record<string, string> | undefined, number]> = [
      [JSON.stringify({ token, extra: 1 }), undefined, 200], // not the plainest shape: the route's
      [`{"token": ${JSON.stringify(token)}`, undefined, 400], // not JSON
      [JSON.stringify({ token: '' }), undefined, 400],
      [JSON.stringify([token]), undefined, 400],
      [' ', undefined, 400], // no body at all, by the parser's rule
      [JSON.stringify({ token }), { 'content-type': 'application/json; charset=latin1' }, 200], // another spelling: the route's
      [JSON.stringify({ token }), { 'content-type': 'text/plain' }, 400], // a string, not the object the schema wants
    ];
    for (const [rawBody, headers, status] of cases) {
      const r = await k.anon.request('POST', '/v1/verify', { rawBody, headers: { 'content-type': 'application/json', ...headers } });
      expect([rawBody, r.status]).toEqual([rawBody, status]);
      if (status >= 400) expectNativeError(r, status);
      else expect((r.body as { valid: boolean }).valid).toBe(true);
    }
    expect(await fastAnswers()).toBe(before);
  });

  it('reads a body that arrives in pieces, and puts it back whole when the route must answer', async () => {
    const { token, userId } = await freshToken();
    const { token: unseen } = await issueUserToken(k, k.admin.accountId, userId);
    const plain = JSON.stringify({ token });
    const before = await fastAnswers();
    // One connection: a miss (the route's, the body split three ways), the same token again (the fast
    // path's, split), an unseen token (a miss again: the route reads the body the fast path put back),
    // and a body that is not JSON, split.
    const answers = await rawExchange(k.url, [
      rawPost(plain, [5, 40]),
      rawPost(plain, [1, 30, plain.length - 1]),
      rawPost(JSON.stringify({ token: unseen }), [12]),
      rawPost(`{"token": ${JSON.stringify(token)}`, [20]),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 400]);
    expect(answers.slice(0, 3).map((a) => (JSON.parse(a.body) as { valid: boolean }).valid)).toEqual([true, true, true]);
    expect(answers[1]!.body).toBe(answers[0]!.body);
    expect(await fastAnswers()).toBe(before + 1);
  });

  it('counts, logs and records a POST answered on the fast path as the route would', async () => {
    const { userId } = await freshToken();
    const { token, tokenId } = await issueUserToken(k, k.admin.accountId, userId);
    await k.anon.post('/v1/verify', { token });
    const m0 = (await k.anon.get('/metrics')).text;
    const id = '1c5de3e7-7b66-4e1d-8b6f-4a2c3d5e6f70';
    const fast = await k.anon.post('/v1/verify', { token }, { headers: { 'x-request-id': id, 'x-forwarded-for': '198.51.100.7', 'user-agent': 'gateway/2.0' } });
    expect(fast.headers.get('x-request-id')).toBe(id);
    expect(k.keyward.services.usage.peek(tokenId)).toMatchObject({ ip: '198.51.100.7', userAgent: 'gateway/2.0' });
    const m1 = (await k.anon.get('/metrics')).text;
    const labels = { route: '/v1/verify', method: 'POST', status: '200' };
    expect(sample(m1, 'keyward_http_requests_total', labels) - sample(m0, 'keyward_http_requests_total', labels)).toBe(1);
    expect(sample(m1, 'keyward_http_fast_path_answers') - sample(m0, 'keyward_http_fast_path_answers')).toBe(1);
    const line = k.logs.map((l) => JSON.parse(l) as Record<string, any>).find((l) => l.reqId === id);
    expect(line).toMatchObject({ msg: 'request completed', req: { method: 'POST', url: '/v1/verify', requestId: id, remoteAddress: '198.51.100.7' }, res: { statusCode: 200 } });
    expect(k.logs.join('\n')).not.toContain(token.split('.').pop()!);
  });
});

/**
 * No secret in the logs: tokens in X-Api-Key, in Authorization, in a JSON body and in a query
 * string, passwords, and the tokens Keyward itself hands out, never appear in any log line, even at
 * trace level and when a request fails inside the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/server/logging.js';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';
import { issueUserToken } from '../helpers/nativeApi.js';

/** The parts of a token that must never be logged: the whole token and its secret part. */
function secretParts(token: string): string[] {
  return [token, token.split('.').pop()!];
}

describeEachDb('no secret in logs', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind, { config: { logLevel: 'trace' } });
  });
  afterAll(async () => k?.close());

  it('logs requests carrying secrets everywhere a client can put them, without the secrets', async () => {
    const secrets: string[] = [...secretParts(k.admin.token)];
    const users = `/v1/accounts/${k.admin.accountId}/users`;
    const password = 'Pa55word-that-must-not-leak';
    const password2 = 'An0ther-password-not-to-log';
    const pw3 = 'Third-password-also-secret';
    secrets.push(password, password2, pw3);

    const mark = k.logs.length;
    // X-Api-Key and Authorization: Bearer.
    expect((await k.http.get('/v1/whoami')).status).toBe(200);
    expect((await k.anon.get('/v1/whoami', { headers: { authorization: `Bearer ${k.admin.token}` } })).status).toBe(200);
    expect((await k.anon.get('/v1/whoami', { headers: { 'X-API-KEY': k.admin.token } })).status).toBe(200);
    // In a JSON body.
    expect((await k.anon.post('/v1/verify', { token: k.admin.token })).body.valid).toBe(true);
    // In a query string, under several names.
    for (const name of ['token', 'api_key', 'apiKey', 'x-api-key', 'access_token', 'secret', 'password']) {
      await k.anon.get('/v1/whoami', { query: { [name]: k.admin.token } });
    }
    await k.anon.get('/nowhere', { query: { token: k.admin.token } });
    // In a path segment, and in a query value under a name that does not say "secret".
    await k.anon.get(`/v1/whoami/${encodeURIComponent(k.admin.token)}`);
    await k.anon.get(`/api/v1/service_accounts/${encodeURIComponent(k.admin.token)}`);
    await k.anon.get('/v1/whoami', { query: { q: k.admin.token, filter: `name:${k.admin.token}` } });
    // In a body that is not valid JSON, and in one that fails validation.
    await k.anon.post('/v1/verify', undefined, { rawBody: `{"token":"${k.admin.token}"`, headers: { 'content-type': 'application/json' } });
    await k.anon.post('/v1/verify', { token: k.admin.token, extra: k.admin.token });
    await k.anon.post('/v1/verify', { token: [k.admin.token] });
    // Passwords: a new user's, a change (with the current one) and a reset.
    const created = await k.http.post(users, { email: 'logged@example.com', password });
    expect(created.status).toBe(201);
    const own = await issueUserToken(k, k.admin.accountId, created.body.id);
    secrets.push(...secretParts(own.token));
    expect((await k.anon.withToken(own.token).put(`${users}/${created.body.id}/password`, { password: password2, currentPassword: password })).status).toBe(204);
    expect((await k.anon.withToken(own.token).put(`${users}/${created.body.id}/password`, { password: pw3, currentPassword: 'wrong-current-password' })).status).toBe(400);
    expect((await k.http.put(`${users}/${created.body.id}/password`, { password: pw3 })).status).toBe(204);
    expect((await k.http.post(users, { email: 'short@example.com', password: 'short12' })).status).toBe(400);
    secrets.push('short12');
    // A token Keyward hands out in a response.
    const acct = await k.http.post('/v1/accounts', { name: 'Logged', admin: { email: 'root@logged.example', password: 'Admin-password-secret' } });
    expect(acct.status).toBe(201);
    secrets.push(...secretParts(acct.body.token), 'Admin-password-secret');

    const lines = k.logs.slice(mark);
    // The test can fail: requests were logged, with their (redacted) URLs.
    expect(lines.length).toBeGreaterThan(20);
    expect(lines.filter((l) => l.includes('"request completed"')).length).toBeGreaterThanOrEqual(20);
    expect(lines.some((l) => l.includes('token=[REDACTED]'))).toBe(true);
    expect(lines.some((l) => l.includes('api_key=[REDACTED]'))).toBe(true);
    expect(lines.some((l) => l.includes('/api/v1/service_accounts/[REDACTED]'))).toBe(true);
    expect(lines.some((l) => l.includes('q=[REDACTED]'))).toBe(true);
    for (const secret of secrets) {
      const leaking = lines.filter((l) => l.includes(secret));
      expect(leaking, `secret ${secret.slice(0, 6)}... logged`).toEqual([]);
    }
  });

  it('logs a failure inside the server without the credential that came with it', async () => {
    const { token } = await issueUserToken(k, k.admin.accountId, k.admin.userId);
    const probe = await startKeyward(kind, { config: { logLevel: 'trace' } });
    try {
      const t = probe.admin.token;
      await probe.keyward.store.close();
      const mark = probe.logs.length;
      const a = await probe.anon.get('/v1/whoami', { token: t });
      const b = await probe.anon.post('/v1/verify', { token: t });
      const c = await probe.anon.get('/v1/whoami', { headers: { authorization: `Bearer ${t}` }, query: { token: t } });
      for (const res of [a, b, c]) {
        expect(res.status).toBe(500);
        expect(res.body.error).toEqual({ code: 'INTERNAL', message: 'Internal server error' });
        expect(res.text).not.toContain(t);
      }
      const lines = probe.logs.slice(mark);
      expect(lines.some((l) => l.includes('"unhandled error"'))).toBe(true);
      for (const secret of [...secretParts(t), ...secretParts(token)]) expect(lines.filter((l) => l.includes(secret))).toEqual([]);
    } finally {
      await probe.close();
    }
  });
});

describe('redactUrl', () => {
  const ng = 'pat.acc_1.0123456789abcdef01234567.AbCdEfGhIjKlMnOpQrSt';
  const zen = `ZENKEY_${Buffer.from(JSON.stringify({ id: '8a3a8c2e-0000-4000-8000-000000000001', key: 'f'.repeat(64) })).toString('base64')}`;
  const cg = Buffer.from(`acc_1::${'A1b2'.repeat(20)}`).toString('base64');

  it.each([
    ['an NG token in the path', `/ng/api/token/${ng}`, '/ng/api/token/[REDACTED]'],
    ['a ZenML key in the path', `/api/v1/service_accounts/${zen}/x`, '/api/v1/service_accounts/[REDACTED]/x'],
    ['a CG key in the path', `/api/api-keys/${cg}`, '/api/api-keys/[REDACTED]'],
    ['an NG token in an innocent query value', `/v1/users?q=${ng}&pageSize=5`, '/v1/users?q=[REDACTED]&pageSize=5'],
    ['a secret-named query parameter', '/v1/users?password=hunter2&x=1', '/v1/users?password=[REDACTED]&x=1'],
  ])('redacts %s', (_name, url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('keeps ordinary URLs as they are', () => {
    for (const url of ['/ng/api/apikey?accountIdentifier=acc_1&apiKeyType=USER&parentIdentifier=u.1', '/api/v1/service_accounts/8a3a8c2e-0000-4000-8000-000000000001', '/v1/audit?action=token.create']) {
      expect(redactUrl(url)).toBe(url);
    }
  });
});

/** POST /v1/verify and GET /v1/whoami: a token in, the principal or one precise reason out. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { expectNativeError, issueUserToken } from '../../helpers/nativeApi.js';

const HOUR = 60 * 60 * 1000;

/** The same token with its 20-character secret replaced. */
function withOtherSecret(token: string): string {
  const parts = token.split('.');
  const secret = parts[parts.length - 1]!;
  parts[parts.length - 1] = secret.startsWith('A') ? `B${secret.slice(1)}` : `A${secret.slice(1)}`;
  return parts.join('.');
}

describeEachDb('native verify and whoami', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind);
  });
  afterAll(async () => k?.close());

  it('answers valid:true with the principal, scope, permissions, token id and expiry', async () => {
    const res = await k.anon.post('/v1/verify', { token: k.admin.token });
    expect(res.status).toBe(200);
    const b = res.body;
    expect(b.valid).toBe(true);
    expect(b.reason).toBeUndefined();
    expect(b.principal).toMatchObject({ type: 'USER', id: k.admin.userId, email: k.admin.email });
    expect(b.principal.scope).toEqual({ accountId: k.admin.accountId, orgId: null, projectId: null });
    expect(b.accountId).toBe(k.admin.accountId);
    expect(b.scope).toEqual({ accountId: k.admin.accountId, orgId: null, projectId: null });
    expect(b.tokenId).toBe(k.bootstrap.tokenRecord.id);
    expect(b.format).toBe('harness_ng');
    expect(b.apiKeyType).toBe('USER');
    expect(b.expiresAt).toBe(k.bootstrap.tokenRecord.validTo);
    expect(b.expiresAt).toBeGreaterThan(k.clock.now());
    // The bootstrap admin is an Account Admin.
    expect(b.permissions).toEqual(expect.arrayContaining(['core_user_manage', 'core_audit_view', 'core_serviceaccount_manageapikey']));
    // The answer never echoes the secret.
    expect(res.text).not.toContain(k.admin.token.split('.').pop()!);
  });

  it('answers malformed for something that is not a token, without a principal', async () => {
    for (const token of ['not-a-token', 'pat.abc', `pat.${k.admin.accountId}.xyz.abc`, 'x'.repeat(4096)]) {
      const res = await k.anon.post('/v1/verify', { token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ valid: false, reason: 'malformed' });
    }
  });

  it('answers unknown for a well-formed token whose id does not exist', async () => {
    const token = `pat.${k.admin.accountId}.${'0123456789abcdef01234567'}.${'A'.repeat(20)}`;
    const res = await k.anon.post('/v1/verify', { token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: false, reason: 'unknown' });
  });

  it('answers wrong_secret for a known token id with another secret', async () => {
    const res = await k.anon.post('/v1/verify', { token: withOtherSecret(k.admin.token) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: false, reason: 'wrong_secret' });
  });

  it('answers expired once the clock passes the token\'s validTo, and valid before', async () => {
    const { token, tokenId } = await issueUserToken(k, k.admin.accountId, k.admin.userId, { validTo: k.clock.now() + HOUR });
    const before = await k.anon.post('/v1/verify', { token });
    expect(before.body).toMatchObject({ valid: true, tokenId, expiresAt: k.clock.now() + HOUR });
    const start = k.clock.now();
    k.clock.advance(HOUR + 1);
    try {
      const after = await k.anon.post('/v1/verify', { token });
      expect(after.status).toBe(200);
      expect(after.body).toEqual({ valid: false, reason: 'expired' });
      // The admin token (30 days) is still fine at the same moment.
      expect((await k.anon.post('/v1/verify', { token: k.admin.token })).body.valid).toBe(true);
    } finally {
      k.clock.set(start);
    }
  });

  it('whoami answers the principal for X-Api-Key and for Authorization: Bearer', async () => {
    const viaHeader = await k.anon.get('/v1/whoami', { headers: { 'X-Api-Key': k.admin.token } });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body).toMatchObject({ valid: true, principal: { type: 'USER', id: k.admin.userId }, tokenId: k.bootstrap.tokenRecord.id });
    const viaBearer = await k.anon.get('/v1/whoami', { headers: { authorization: `Bearer ${k.admin.token}` } });
    expect(viaBearer.status).toBe(200);
    expect(viaBearer.body.principal.id).toBe(k.admin.userId);
    expect(viaBearer.body.permissions).toEqual(viaHeader.body.permissions);
  });

  it('whoami tells two users apart', async () => {
    const created = await k.http.post(`/v1/accounts/${k.admin.accountId}/users`, { email: 'whoami-other@example.com' });
    expect(created.status).toBe(201);
    const { token } = await issueUserToken(k, k.admin.accountId, created.body.id);
    const res = await k.anon.get('/v1/whoami', { token });
    expect(res.status).toBe(200);
    expect(res.body.principal).toMatchObject({ id: created.body.id, email: 'whoami-other@example.com' });
    // No role: no permission.
    expect(res.body.permissions).toEqual([]);
  });

  it('whoami is 401 without a token, with a bad one and with a wrong secret', async () => {
    expectNativeError(await k.anon.get('/v1/whoami'), 401, { code: 'UNAUTHENTICATED' });
    expectNativeError(await k.anon.get('/v1/whoami', { token: 'garbage' }), 401, { code: 'UNAUTHENTICATED' });
    expectNativeError(await k.anon.get('/v1/whoami', { headers: { authorization: 'Bearer garbage' } }), 401, { code: 'UNAUTHENTICATED' });
    expectNativeError(await k.anon.get('/v1/whoami', { headers: { authorization: `Basic ${k.admin.token}` } }), 401, { code: 'UNAUTHENTICATED' });
    expectNativeError(await k.anon.get('/v1/whoami', { token: withOtherSecret(k.admin.token) }), 401, { code: 'UNAUTHENTICATED' });
  });

  it('whoami is 401 for an expired token', async () => {
    const { token } = await issueUserToken(k, k.admin.accountId, k.admin.userId, { validTo: k.clock.now() + HOUR });
    expect((await k.anon.get('/v1/whoami', { token })).status).toBe(200);
    const start = k.clock.now();
    k.clock.advance(2 * HOUR);
    try {
      expectNativeError(await k.anon.get('/v1/whoami', { token }), 401, { code: 'UNAUTHENTICATED' });
    } finally {
      k.clock.set(start);
    }
  });
});

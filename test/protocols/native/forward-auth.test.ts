/**
 * GET /v1/verify, the forward-auth shape (src/protocols/native/forwardAuth.ts): the token in the
 * request's own headers, no body; 200 with the principal in the body and in X-Keyward-* headers,
 * 401 with the reason, 403 when a required permission or scope is not held.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeScope } from '../../../src/domain/scope.js';
import { SYSTEM_CALLER } from '../../../src/services/context.js';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { expectNativeError, grantAccountRole, userWithToken } from '../../helpers/nativeApi.js';

describeEachDb('GET /v1/verify (forward auth)', (kind) => {
  let k: TestKeyward;
  let plain: { id: string; email: string; token: string };
  beforeAll(async () => {
    k = await startKeyward(kind);
    plain = await userWithToken(k, k.admin.accountId, `plain-${kind}@example.com`);
  });
  afterAll(async () => k?.close());

  it('answers 200 with the principal, account and expiry in the body and in headers, from X-Api-Key or Bearer', async () => {
    const variants: Array<Record<string, string>> = [{ 'x-api-key': k.admin.token }, { authorization: `Bearer ${k.admin.token}` }, { authorization: `bearer ${k.admin.token}` }];
    for (const headers of variants) {
      const res = await k.anon.get('/v1/verify', { headers });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({
        valid: true,
        principal: { type: 'USER', id: k.admin.userId, identifier: k.admin.userId },
        accountId: k.admin.accountId,
        expiresAt: k.bootstrap.tokenRecord.validTo,
      });
      expect(res.headers.get('x-keyward-principal-type')).toBe('USER');
      expect(res.headers.get('x-keyward-principal-id')).toBe(k.admin.userId);
      expect(res.headers.get('x-keyward-account-id')).toBe(k.admin.accountId);
      expect(res.headers.get('x-keyward-expires-at')).toBe(String(k.bootstrap.tokenRecord.validTo));
      expect(res.headers.get('cache-control')).toBe('no-store');
      // Never the secret, and a second (cached) answer is the same.
      expect(res.text).not.toContain(k.admin.token.split('.').pop()!);
    }
    const head = await k.anon.request('HEAD', '/v1/verify', { token: k.admin.token });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('x-keyward-principal-id')).toBe(k.admin.userId);
  });

  it('answers 401 with the reason: no token, malformed, wrong secret, deleted', async () => {
    const none = await k.anon.get('/v1/verify');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ valid: false, reason: 'no_token' });
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="keyward"');
    expect(none.headers.get('x-keyward-reason')).toBe('no_token');
    expect(none.headers.get('x-keyward-principal-id')).toBeNull();

    const bad = await k.anon.get('/v1/verify', { token: 'not-a-token' });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ valid: false, reason: 'malformed' });
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const parts = plain.token.split('.');
    parts[3] = parts[3]!.startsWith('A') ? `B${parts[3]!.slice(1)}` : `A${parts[3]!.slice(1)}`;
    const wrong = await k.anon.get('/v1/verify', { token: parts.join('.') });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ valid: false, reason: 'wrong_secret' });

    // A token that verified (and is cached) stops at once when deleted.
    const issued = await k.keyward.services.tokens.create(
      SYSTEM_CALLER,
      { scope: makeScope(k.admin.accountId), type: 'USER', parentIdentifier: plain.id },
      { identifier: 'doomed', name: 'doomed', apiKeyIdentifier: 'personal' },
      { autoCreateKey: true },
    );
    expect((await k.anon.get('/v1/verify', { token: issued.secret })).status).toBe(200);
    await k.keyward.services.tokens.delete(SYSTEM_CALLER, { scope: makeScope(k.admin.accountId), type: 'USER', parentIdentifier: plain.id }, 'personal', 'doomed');
    const gone = await k.anon.get('/v1/verify', { token: issued.secret });
    expect(gone.status).toBe(401);
    expect(gone.body.valid).toBe(false);
  });

  it('turns a missing permission into 403, from the query or from the X-Keyward-Require-Permission header', async () => {
    const q = { permission: 'core_user_view' };
    const denied = await k.anon.get('/v1/verify', { token: plain.token, query: q });
    expect(denied.status, denied.text).toBe(403);
    expect(denied.body).toMatchObject({ valid: true, reason: 'permission_denied', permission: 'core_user_view', principal: { id: plain.id } });
    expect(denied.headers.get('x-keyward-reason')).toBe('permission_denied');
    expect(denied.headers.get('x-keyward-principal-id')).toBe(plain.id);
    const viaHeader = await k.anon.get('/v1/verify', { token: plain.token, headers: { 'x-keyward-require-permission': 'core_user_view' } });
    expect(viaHeader.status).toBe(403);

    const admin = await k.anon.get('/v1/verify', { token: k.admin.token, query: q });
    expect(admin.status).toBe(200);
    expect(admin.body.principal.id).toBe(k.admin.userId);

    // Without any requirement the plain user's token is simply valid.
    expect((await k.anon.get('/v1/verify', { token: plain.token })).status).toBe(200);
  });

  it('counts a role granted after a 403 at once (no stale permission)', async () => {
    const u = await userWithToken(k, k.admin.accountId, `late-${kind}@example.com`);
    const q = { permission: 'core_audit_view' };
    expect((await k.anon.get('/v1/verify', { token: u.token, query: q })).status).toBe(403);
    await grantAccountRole(k, k.admin.accountId, u.id, '_account_viewer');
    expect((await k.anon.get('/v1/verify', { token: u.token, query: q })).status).toBe(200);
  });

  it('checks a permission at a required scope, and refuses a scope outside the key\'s', async () => {
    const acct = k.admin.accountId;
    for (const p of ['fa_p1', 'fa_p2']) {
      if (p === 'fa_p1') await k.keyward.services.scopes.createOrganization(SYSTEM_CALLER, acct, { identifier: 'fa_org', name: 'fa_org' });
      await k.keyward.services.scopes.createProject(SYSTEM_CALLER, acct, 'fa_org', { identifier: p, name: p });
    }
    const u = await userWithToken(k, acct, `scoped-${kind}@example.com`);
    await k.keyward.services.access.createAssignment(SYSTEM_CALLER, makeScope(acct, 'fa_org', 'fa_p1'), { roleIdentifier: '_project_viewer', principalType: 'USER', principalId: u.id });

    const at = (projectIdentifier: string) => ({ permission: 'core_project_view', orgIdentifier: 'fa_org', projectIdentifier });
    expect((await k.anon.get('/v1/verify', { token: u.token, query: at('fa_p1') })).status).toBe(200);
    const other = await k.anon.get('/v1/verify', { token: u.token, query: at('fa_p2') });
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ reason: 'permission_denied', scope: { accountId: acct, orgId: 'fa_org', projectId: 'fa_p2' } });
    // At the key's own (account) scope the project role grants nothing.
    expect((await k.anon.get('/v1/verify', { token: u.token, query: { permission: 'core_project_view' } })).status).toBe(403);
    // The same through headers, as a proxy sets them per location.
    const headers = { 'x-keyward-require-permission': 'core_project_view', 'x-keyward-require-org': 'fa_org', 'x-keyward-require-project': 'fa_p1' };
    expect((await k.anon.get('/v1/verify', { token: u.token, headers })).status).toBe(200);
    // When the query names a requirement, the headers (which a client could send itself) count for nothing.
    const mixed = await k.anon.get('/v1/verify', { token: u.token, headers, query: { permission: 'core_project_view' } });
    expect(mixed.status).toBe(403);

    // Another account: out of the key's scope, whatever the permission.
    const elsewhere = await k.anon.get('/v1/verify', { token: u.token, query: { accountIdentifier: 'someOtherAccount' } });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.reason).toBe('out_of_scope');
    expect((await k.anon.get('/v1/verify', { token: u.token, query: { accountIdentifier: acct } })).status).toBe(200);

    // A project without its organization is bad input (400 in the native shape), not a 403 or a 500.
    expectNativeError(await k.anon.get('/v1/verify', { token: u.token, query: { projectIdentifier: 'fa_p1' } }), 400, { field: 'projectIdentifier' });
    expectNativeError(await k.anon.get('/v1/verify', { token: u.token, query: { permission: 'bad\u0000name' } }), 400);
    expectNativeError(await k.anon.get('/v1/verify', { token: u.token, query: { orgIdentifier: 'x'.repeat(200) } }), 400);
  });

  it('names a project\'s service account by id and identifier, and keeps its key inside its project', async () => {
    const acct = k.admin.accountId;
    await k.keyward.services.scopes.createOrganization(SYSTEM_CALLER, acct, { identifier: 'sa_org', name: 'sa_org' });
    for (const p of ['sa_p1', 'sa_p2']) await k.keyward.services.scopes.createProject(SYSTEM_CALLER, acct, 'sa_org', { identifier: p, name: p });
    const scope = makeScope(acct, 'sa_org', 'sa_p1');
    const sa = await k.keyward.services.serviceAccounts.create(SYSTEM_CALLER, scope, { identifier: 'fa_robot', name: 'fa_robot', email: 'fa_robot@service.harness.io' });
    await k.keyward.services.access.createAssignment(SYSTEM_CALLER, scope, { roleIdentifier: '_project_viewer', principalType: 'SERVICE_ACCOUNT', principalId: sa.id });
    const issued = await k.keyward.services.tokens.create(
      SYSTEM_CALLER,
      { scope, type: 'SERVICE_ACCOUNT', parentIdentifier: 'fa_robot' },
      { identifier: 'robot_tok', name: 'robot_tok', apiKeyIdentifier: 'robot_key' },
      { autoCreateKey: true },
    );
    const ok = await k.anon.get('/v1/verify', { headers: { authorization: `Bearer ${issued.secret}` }, query: { permission: 'core_project_view' } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.principal).toEqual({ type: 'SERVICE_ACCOUNT', id: sa.id, identifier: 'fa_robot' });
    expect(ok.headers.get('x-keyward-principal-type')).toBe('SERVICE_ACCOUNT');
    expect(ok.headers.get('x-keyward-principal-identifier')).toBe('fa_robot');
    expect((await k.anon.get('/v1/verify', { token: issued.secret, query: { orgIdentifier: 'sa_org', projectIdentifier: 'sa_p1' } })).status).toBe(200);
    // Its key is the project's: not at the account, nor in the next project.
    for (const query of [{ accountIdentifier: acct }, { orgIdentifier: 'sa_org', projectIdentifier: 'sa_p2' }, { orgIdentifier: 'sa_org' }]) {
      const r = await k.anon.get('/v1/verify', { token: issued.secret, query });
      expect(r.status, JSON.stringify(query)).toBe(403);
      expect(r.body.reason).toBe('out_of_scope');
    }
  });

  it('answers any method under /v1/verify/* the same way (Envoy ext_authz appends the path, keeps the method)', async () => {
    for (const method of ['GET', 'POST', 'DELETE', 'PUT']) {
      const ok = await k.anon.request(method, '/v1/verify/envoy/api/things/1', { headers: { authorization: `Bearer ${k.admin.token}` } });
      expect(ok.status, `${method} ${ok.text}`).toBe(200);
      expect(ok.headers.get('x-keyward-principal-id')).toBe(k.admin.userId);
      const none = await k.anon.request(method, '/v1/verify/envoy/api/things/1');
      expect(none.status).toBe(401);
    }
    const denied = await k.anon.request('POST', '/v1/verify/envoy/x', { token: plain.token, headers: { 'x-keyward-require-permission': 'core_user_view' } });
    expect(denied.status).toBe(403);
    // The query there is the client's own (Envoy appends the original path with it): it requires nothing and
    // cannot replace the proxy's requirement header, whatever it says.
    const sneaky = await k.anon.request('GET', '/v1/verify/envoy/x', {
      token: plain.token,
      headers: { 'x-keyward-require-permission': 'core_user_view' },
      query: { permission: 'core_account_view', accountIdentifier: 'x', orgIdentifier: '%%', projectIdentifier: 'p' },
    });
    expect(sneaky.status).toBe(403);
    expect(sneaky.body.permission).toBe('core_user_view');
    const adminQuery = await k.anon.request('GET', '/v1/verify/envoy/x', { token: k.admin.token, query: { permission: 'no_such_permission' } });
    expect(adminQuery.status).toBe(200);
    // POST /v1/verify itself keeps its full answer.
    const full = await k.anon.post('/v1/verify', { token: k.admin.token });
    expect(full.status).toBe(200);
    expect(full.body.permissions).toEqual(expect.arrayContaining(['core_user_view']));
  });

  it('is in /openapi.json with its query, headers and 200/401/403 answers', async () => {
    const doc = (await k.anon.get('/openapi.json')).body;
    const op = doc.paths['/v1/verify'].get;
    expect(op).toBeDefined();
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '403']));
    expect(op.responses['200'].headers['x-keyward-principal-id']).toBeDefined();
    const params = (op.parameters as Array<{ name: string; in: string }>).map((p) => `${p.in}:${p.name}`);
    expect(params).toEqual(expect.arrayContaining(['query:permission', 'query:orgIdentifier', 'header:x-keyward-require-permission']));
    expect(doc.paths['/v1/verify'].post).toBeDefined();
  });
});

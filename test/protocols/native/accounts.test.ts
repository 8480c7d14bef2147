/** Accounts (system operators only) and the users of an account, over the native API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { expectNativeError, userWithToken } from '../../helpers/nativeApi.js';

describeEachDb('native accounts and users', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind);
  });
  afterAll(async () => k?.close());

  describe('accounts', () => {
    it('an operator creates an account with its admin and a token shown once that verifies', async () => {
      const res = await k.http.post('/v1/accounts', { name: 'Acme', admin: { email: 'root@acme.example', name: 'Root' } });
      expect(res.status, res.text).toBe(201);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const { account, admin, token, tokenId } = res.body;
      expect(account).toMatchObject({ name: 'Acme', createdAt: k.clock.now() });
      expect(account.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(admin).toMatchObject({ accountId: account.id, email: 'root@acme.example', name: 'Root', active: true, isOperator: false, hasPassword: false });
      expect(token).toMatch(new RegExp(`^pat\\.${account.id}\\.[0-9a-f]{24}\\.[A-Za-z0-9]{20}$`));

      const v = await k.anon.post('/v1/verify', { token });
      expect(v.body).toMatchObject({ valid: true, tokenId, accountId: account.id, principal: { id: admin.id, type: 'USER' } });
      expect(v.body.permissions).toContain('core_user_manage');

      // Shown once: reading the account back never carries a token.
      const got = await k.http.get(`/v1/accounts/${account.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(account);
      expect(got.text).not.toContain(token);
    });

    it('takes a chosen account id, refuses it twice (409), and lets another account use the same admin email', async () => {
      const res = await k.http.post('/v1/accounts', { id: 'chosen_id-1', name: 'Chosen', admin: { email: 'root@chosen.example' } });
      expect(res.status, res.text).toBe(201);
      expect(res.body.account.id).toBe('chosen_id-1');
      expect(res.body.token.startsWith('pat.chosen_id-1.')).toBe(true);
      expectNativeError(await k.http.post('/v1/accounts', { id: 'chosen_id-1', name: 'Again', admin: { email: 'other@chosen.example' } }), 409, {
        code: 'CONFLICT',
      });
      // Emails are unique per account, not across accounts (issue 12, finding 3: no existence oracle).
      const same = await k.http.post('/v1/accounts', { name: 'Dup', admin: { email: 'ROOT@chosen.example' } });
      expect(same.status, same.text).toBe(201);
    });

    it('lists accounts to an operator, paged', async () => {
      const all = await k.http.get('/v1/accounts');
      expect(all.status).toBe(200);
      expect(all.body.pageIndex).toBe(0);
      expect(all.body.pageSize).toBe(50);
      expect(all.body.total).toBeGreaterThanOrEqual(2);
      expect(all.body.items.map((a: { id: string }) => a.id)).toContain(k.admin.accountId);
      const p0 = await k.http.get('/v1/accounts', { query: { pageSize: 1, pageIndex: 0 } });
      const p1 = await k.http.get('/v1/accounts', { query: { pageSize: 1, pageIndex: 1 } });
      expect(p0.body.items).toHaveLength(1);
      expect(p1.body.items).toHaveLength(1);
      expect(p0.body.total).toBe(all.body.total);
      expect(p0.body.items[0].id).not.toBe(p1.body.items[0].id);
    });

    it('is closed to a non-operator: 403 to create or list, 404 for another account, 200 for its own', async () => {
      const u = await userWithToken(k, k.admin.accountId, 'plain-admin@example.com', { role: '_account_admin' });
      const as = k.anon.withToken(u.token);
      expectNativeError(await as.post('/v1/accounts', { name: 'Nope', admin: { email: 'nope@example.com' } }), 403, { code: 'PERMISSION_DENIED' });
      expectNativeError(await as.get('/v1/accounts'), 403, { code: 'PERMISSION_DENIED' });
      expect((await as.get(`/v1/accounts/${k.admin.accountId}`)).status).toBe(200);

      const other = await k.http.post('/v1/accounts', { name: 'Other', admin: { email: 'root@other.example' } });
      const foreign = await as.get(`/v1/accounts/${other.body.account.id}`);
      expectNativeError(foreign, 404, { code: 'NOT_FOUND' });
      expect(foreign.text).not.toContain('Other"');
      // An account's own admin is no operator either.
      const otherAdmin = k.anon.withToken(other.body.token);
      expectNativeError(await otherAdmin.get(`/v1/accounts/${k.admin.accountId}`), 404);
      expectNativeError(await otherAdmin.post('/v1/accounts', { name: 'Nope', admin: { email: 'nope2@example.com' } }), 403);
      // Nothing was created by the refused calls.
      const names = (await k.http.get('/v1/accounts', { query: { pageSize: 100 } })).body.items.map((a: { name: string }) => a.name);
      expect(names).not.toContain('Nope');
    });

    it('answers 404 for an account that does not exist, and 401 without a token', async () => {
      expectNativeError(await k.http.get('/v1/accounts/no_such_account'), 404, { code: 'NOT_FOUND' });
      expectNativeError(await k.anon.get('/v1/accounts'), 401);
      expectNativeError(await k.anon.post('/v1/accounts', { name: 'X', admin: { email: 'x@example.com' } }), 401);
    });
  });

  describe('users', () => {
    const users = () => `/v1/accounts/${k.admin.accountId}/users`;

    it('creates a user (201) without echoing the password, and gets it back', async () => {
      const res = await k.http.post(users(), { email: 'carol@example.com', name: 'Carol', password: 'correct horse battery' });
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({ accountId: k.admin.accountId, email: 'carol@example.com', name: 'Carol', hasPassword: true, active: true, isOperator: false });
      expect(res.text).not.toContain('correct horse battery');
      expect(res.body).not.toHaveProperty('passwordHash');
      const got = await k.http.get(`${users()}/${res.body.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(res.body);
    });

    it('refuses a second user with the same email, whatever its case (409)', async () => {
      expect((await k.http.post(users(), { email: 'dave@example.com' })).status).toBe(201);
      const dup = await k.http.post(users(), { email: 'Dave@Example.com' });
      expectNativeError(dup, 409, { code: 'CONFLICT' });
      expect(dup.body.error.message).toContain('Dave@Example.com');
    });

    it('lists users with search and paging', async () => {
      for (const n of ['zeta1', 'zeta2', 'zeta3']) expect((await k.http.post(users(), { email: `${n}@search.example`, name: `Zeta ${n}` })).status).toBe(201);
      const found = await k.http.get(users(), { query: { search: 'zeta' } });
      expect(found.status).toBe(200);
      expect(found.body.total).toBe(3);
      expect(found.body.items.map((u: { email: string }) => u.email).sort()).toEqual(['zeta1@search.example', 'zeta2@search.example', 'zeta3@search.example']);
      // Case-insensitive, on the email too.
      expect((await k.http.get(users(), { query: { search: 'SEARCH.EXAMPLE' } })).body.total).toBe(3);
      expect((await k.http.get(users(), { query: { search: 'nobody-matches-this' } })).body).toMatchObject({ items: [], total: 0 });

      const p0 = await k.http.get(users(), { query: { search: 'zeta', pageSize: 2, pageIndex: 0 } });
      const p1 = await k.http.get(users(), { query: { search: 'zeta', pageSize: 2, pageIndex: 1 } });
      expect(p0.body).toMatchObject({ total: 3, pageIndex: 0, pageSize: 2 });
      expect(p0.body.items).toHaveLength(2);
      expect(p1.body).toMatchObject({ total: 3, pageIndex: 1, pageSize: 2 });
      expect(p1.body.items).toHaveLength(1);
      const ids = [...p0.body.items, ...p1.body.items].map((u: { id: string }) => u.id);
      expect(new Set(ids).size).toBe(3);

      const everyone = await k.http.get(users());
      expect(everyone.body.total).toBeGreaterThan(3);
      expect(everyone.body.items.map((u: { id: string }) => u.id)).toContain(k.admin.userId);
    });

    it('renames a user (PATCH) and the change is read back', async () => {
      const u = (await k.http.post(users(), { email: 'erin@example.com', name: 'Erin' })).body;
      const res = await k.http.patch(`${users()}/${u.id}`, { name: 'Erin Renamed' });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ id: u.id, name: 'Erin Renamed', active: true });
      expect((await k.http.get(`${users()}/${u.id}`)).body.name).toBe('Erin Renamed');
    });

    it('deactivating a user makes their token verify as principal_inactive at once; reactivating restores it', async () => {
      const u = await userWithToken(k, k.admin.accountId, 'frank@example.com');
      expect((await k.anon.post('/v1/verify', { token: u.token })).body.valid).toBe(true);

      const off = await k.http.patch(`${users()}/${u.id}`, { active: false });
      expect(off.status, off.text).toBe(200);
      expect(off.body.active).toBe(false);
      expect((await k.http.get(`${users()}/${u.id}`)).body.active).toBe(false);
      expect((await k.anon.post('/v1/verify', { token: u.token })).body).toEqual({ valid: false, reason: 'principal_inactive' });
      expectNativeError(await k.anon.get('/v1/whoami', { token: u.token }), 401);

      const on = await k.http.patch(`${users()}/${u.id}`, { active: true });
      expect(on.status).toBe(200);
      expect(on.body.active).toBe(true);
      expect((await k.anon.post('/v1/verify', { token: u.token })).body).toMatchObject({ valid: true, principal: { id: u.id } });
    });

    it('an admin cannot deactivate themselves', async () => {
      expectNativeError(await k.http.patch(`${users()}/${k.admin.userId}`, { active: false }), 400, { field: 'active' });
      expect((await k.anon.post('/v1/verify', { token: k.admin.token })).body.valid).toBe(true);
    });

    it('a user sets their own password with the current one; a wrong current password is refused', async () => {
      const u = await userWithToken(k, k.admin.accountId, 'gina@example.com', { password: 'first-password-1' });
      const as = k.anon.withToken(u.token);
      const path = `${users()}/${u.id}/password`;

      expectNativeError(await as.put(path, { password: 'second-password-2', currentPassword: 'not-the-password' }), 400, { field: 'currentPassword' });
      expectNativeError(await as.put(path, { password: 'second-password-2' }), 400, { field: 'currentPassword' });
      await expect(k.keyward.services.users.authenticate(u.email, 'first-password-1')).resolves.toMatchObject({ id: u.id });

      const ok = await as.put(path, { password: 'second-password-2', currentPassword: 'first-password-1' });
      expect(ok.status, ok.text).toBe(204);
      expect(ok.text).toBe('');
      await expect(k.keyward.services.users.authenticate(u.email, 'second-password-2')).resolves.toMatchObject({ id: u.id });
      await expect(k.keyward.services.users.authenticate(u.email, 'first-password-1')).rejects.toThrow(/Invalid email or password/);
    });

    it('an admin resets another user\'s password without the current one; a plain user cannot', async () => {
      const target = await userWithToken(k, k.admin.accountId, 'hank@example.com', { password: 'hanks-password-1' });
      const other = await userWithToken(k, k.admin.accountId, 'ivy@example.com');
      const path = `${users()}/${target.id}/password`;

      expectNativeError(await k.anon.withToken(other.token).put(path, { password: 'ivy-was-here-1' }), 403, { code: 'PERMISSION_DENIED' });
      await expect(k.keyward.services.users.authenticate(target.email, 'hanks-password-1')).resolves.toBeTruthy();

      const res = await k.http.put(path, { password: 'reset-by-admin-1' });
      expect(res.status, res.text).toBe(204);
      await expect(k.keyward.services.users.authenticate(target.email, 'reset-by-admin-1')).resolves.toMatchObject({ id: target.id });
      await expect(k.keyward.services.users.authenticate(target.email, 'hanks-password-1')).rejects.toThrow();
      expect((await k.http.get(`${users()}/${target.id}`)).body.hasPassword).toBe(true);
    });

    it('a password shorter than 8 characters is a 400 naming the field', async () => {
      expectNativeError(await k.http.put(`${users()}/${k.admin.userId}/password`, { password: 'short' }), 400, { field: 'password' });
      expectNativeError(await k.http.post(users(), { email: 'shortpw@example.com', password: 'short' }), 400, { field: 'password' });
    });

    it('a user without roles may read themselves but not list, get others, create or rename', async () => {
      const u = await userWithToken(k, k.admin.accountId, 'judy@example.com');
      const as = k.anon.withToken(u.token);
      expect((await as.get(`${users()}/${u.id}`)).status).toBe(200);
      expectNativeError(await as.get(users()), 403, { code: 'PERMISSION_DENIED' });
      expectNativeError(await as.get(`${users()}/${k.admin.userId}`), 403);
      expectNativeError(await as.post(users(), { email: 'made-by-judy@example.com' }), 403);
      expectNativeError(await as.patch(`${users()}/${u.id}`, { name: 'Judy Self' }), 403);
      expect((await k.http.get(users(), { query: { search: 'made-by-judy' } })).body.total).toBe(0);
    });

    it('a viewer may list and get users but not manage them', async () => {
      const u = await userWithToken(k, k.admin.accountId, 'ken@example.com', { role: '_account_viewer' });
      const as = k.anon.withToken(u.token);
      expect((await as.get(users())).status).toBe(200);
      expect((await as.get(`${users()}/${k.admin.userId}`)).status).toBe(200);
      expectNativeError(await as.post(users(), { email: 'made-by-ken@example.com' }), 403);
      expectNativeError(await as.patch(`${users()}/${k.admin.userId}`, { name: 'Hijacked' }), 403);
    });

    it('answers 404 for a user that does not exist', async () => {
      expectNativeError(await k.http.get(`${users()}/no_such_user`), 404, { code: 'NOT_FOUND' });
      expectNativeError(await k.http.patch(`${users()}/no_such_user`, { name: 'X' }), 404);
      expectNativeError(await k.http.put(`${users()}/no_such_user/password`, { password: 'long-enough-1' }), 404);
    });
  });
});

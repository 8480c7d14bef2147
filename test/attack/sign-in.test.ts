/**
 * Findings 2, 3, 4 and 6 of issue 12, over real HTTP on both databases:
 * 2. ZenML's GET /users/{id} follows the native rule (self, or core_user_view);
 * 3. emails are unique per account, so creating a user says nothing about other accounts, and
 *    password sign-in finds the account from the password (or the account given);
 * 4. wrong passwords lock one client address out of one email, never the user at another address;
 * 6. failed sign-ins (console password, ZenML password, ZenML API key) are in the account's audit log,
 *    with the email or key id tried, the address and the client, and never the password.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { userIdToUuid } from '../../src/protocols/zenml/models.js';
import { describeEachDb } from '../helpers/databases.js';
import { HttpClient, startKeyward, type TestKeyward } from '../helpers/keyward.js';

const ADMIN_PASSWORD = 'admin password 123';
const CONSOLE = { 'x-keyward-console': '1' };

describeEachDb('attack: sign-in, user reads, email oracle, lockout, audit', (kind) => {
  let k: TestKeyward;
  let A: string;
  let B: { accountId: string; token: string; http: HttpClient };
  let plain: { id: string; email: string; password: string };

  beforeAll(async () => {
    k = await startKeyward(kind, { config: { bootstrapPassword: ADMIN_PASSWORD, trustProxy: true, signInMaxFailures: 3 } });
    A = k.admin.accountId;
    plain = { id: '', email: 'nobody@acme.test', password: 'nobody password 1' };
    const u = await k.http.post(`/v1/accounts/${A}/users`, { email: plain.email, password: plain.password });
    expect(u.status, u.text).toBe(201);
    plain.id = u.body.id;
    const acc = await k.http.post('/v1/accounts', { name: 'Tenant B', admin: { email: 'admin-b@b.test', password: 'b admin password' } });
    expect(acc.status, acc.text).toBe(201);
    B = { accountId: acc.body.account.id, token: acc.body.token, http: k.http.withToken(acc.body.token) };
  });
  afterAll(async () => k?.close());

  const zenmlLogin = (username: string, password: string, ip = '10.9.9.9') =>
    k.anon.request('POST', '/api/v1/login', {
      rawBody: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
    });
  const consoleSignIn = (body: Record<string, string>, ip = '10.8.8.8') =>
    k.anon.post('/v1/sessions', body, { headers: { ...CONSOLE, 'x-forwarded-for': ip, 'user-agent': 'attack-test/1' } });

  it('2. ZenML GET /users/{id}: a user with no role reads only themself, as on the native API', async () => {
    const login = await zenmlLogin(plain.email, plain.password);
    expect(login.status, login.text).toBe(200);
    const bearer = { authorization: `Bearer ${login.body.access_token}` };
    const adminUuid = userIdToUuid(k.admin.userId);
    const other = await k.anon.get(`/api/v1/users/${adminUuid}`, { headers: bearer });
    expect(other.status, other.text).toBe(403);
    expect(other.text).not.toContain(k.admin.email);
    // The same refusal for an id that names nothing: no existence oracle either.
    expect((await k.anon.get('/api/v1/users/00000000-0000-4000-8000-000000000000', { headers: bearer })).status).toBe(403);
    const self = await k.anon.get(`/api/v1/users/${userIdToUuid(plain.id)}`, { headers: bearer });
    expect(self.status, self.text).toBe(200);
    expect(self.body.name).toBe(plain.email);
    // The native API gives the same answers: refused for the admin, allowed with core_user_view.
    const byAdmin = await k.anon.get(`/api/v1/users/${userIdToUuid(plain.id)}`, { headers: { authorization: `Bearer ${k.admin.token}` } });
    expect(byAdmin.status, byAdmin.text).toBe(200);
  });

  it('3. another account can have a user with the same email; sign-in finds the account from the password', async () => {
    // Before: 409 "already exists", telling B's admin that A has this address.
    const dup = await B.http.post(`/v1/accounts/${B.accountId}/users`, { email: k.admin.email.toUpperCase(), password: 'b side password' });
    expect(dup.status, dup.text).toBe(201);
    // Within one account, still unique.
    expect((await B.http.post(`/v1/accounts/${B.accountId}/users`, { email: k.admin.email })).status).toBe(409);

    const a = await consoleSignIn({ email: k.admin.email, password: ADMIN_PASSWORD });
    expect(a.status, a.text).toBe(201);
    expect(a.body.accountId).toBe(A);
    const b = await consoleSignIn({ email: k.admin.email, password: 'b side password' });
    expect(b.status, b.text).toBe(201);
    expect(b.body.accountId).toBe(B.accountId);
    const z = await zenmlLogin(k.admin.email, 'b side password');
    expect(z.status, z.text).toBe(200);
    const me = await k.anon.get('/api/v1/current-user', { headers: { authorization: `Bearer ${z.body.access_token}` } });
    expect(me.body.id).toBe(userIdToUuid(dup.body.id));

    // The same password in both accounts: the account must be named.
    const both = await B.http.post(`/v1/accounts/${B.accountId}/users`, { email: plain.email, password: plain.password });
    expect(both.status, both.text).toBe(201);
    const ambiguous = await consoleSignIn({ email: plain.email, password: plain.password });
    expect(ambiguous.status).toBe(401);
    expect(ambiguous.body.error.message).toMatch(/several accounts/);
    const named = await consoleSignIn({ email: plain.email, password: plain.password, accountId: B.accountId });
    expect(named.status, named.text).toBe(201);
    expect(named.body.accountId).toBe(B.accountId);
  });

  it('4. wrong passwords from one address lock that address out of that email only; the admin signs in from elsewhere', async () => {
    const attacker = '203.0.113.66';
    for (let i = 0; i < 3; i++) expect((await consoleSignIn({ email: k.admin.email, password: `guess ${i} wrong` }, attacker)).status).toBe(401);
    // The attacker's address is locked, even with the right password...
    expect((await consoleSignIn({ email: k.admin.email, password: ADMIN_PASSWORD }, attacker)).status).toBe(401);
    // ...the admin, at another address, is not (before: locked out for 15 minutes).
    const admin = await consoleSignIn({ email: k.admin.email, password: ADMIN_PASSWORD }, '198.51.100.7');
    expect(admin.status, admin.text).toBe(201);
    const zenml = await zenmlLogin(k.admin.email, ADMIN_PASSWORD, '198.51.100.8');
    expect(zenml.status, zenml.text).toBe(200);
    // After the lockout period, the attacker's address may try again.
    k.clock.advance(15 * 60_000 + 1);
    expect((await consoleSignIn({ email: k.admin.email, password: ADMIN_PASSWORD }, attacker)).status).toBe(201);
  });

  it('6. failed sign-ins are audited in the account, with the email or key id tried, never the secret', async () => {
    const wrong = 'not-the-password-XYZ';
    expect((await consoleSignIn({ email: plain.email, password: wrong }, '192.0.2.10')).status).toBe(401);
    expect((await zenmlLogin(plain.email, wrong, '192.0.2.11')).status).toBe(401);
    // A ZenML API key with a wrong secret.
    const sa = await k.http.post('/api/v1/service_accounts', { name: 'audit-sa', active: true }, { headers: { authorization: `Bearer ${k.admin.token}` } });
    expect(sa.status, sa.text).toBeLessThan(300);
    const key = await k.http.post(`/api/v1/service_accounts/${sa.body.id}/api_keys`, { name: 'k' }, { headers: { authorization: `Bearer ${k.admin.token}` } });
    expect(key.status, key.text).toBeLessThan(300);
    const keyId = key.body.id as string;
    const badKey = `ZENKEY_${Buffer.from(JSON.stringify({ id: keyId, key: 'ab'.repeat(32) })).toString('base64')}`;
    const kl = await k.anon.request('POST', '/api/v1/login', {
      rawBody: new URLSearchParams({ grant_type: 'zenml-api-key', password: badKey }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '192.0.2.12' },
    });
    expect(kl.status).toBe(401);

    const log = await k.http.get(`/v1/accounts/${A}/audit`, { query: { action: 'session.signin', pageSize: 100 } });
    expect(log.status, log.text).toBe(200);
    const events = log.body.items as Array<Record<string, any>>;
    const consoleEv = events.find((e) => e.actorId === plain.email && e.details.client === 'console' && e.details.ip === '192.0.2.10');
    expect(consoleEv).toMatchObject({ outcome: 'failure', actorType: 'ANONYMOUS', details: { method: 'password', userAgent: 'attack-test/1' } });
    expect(events.find((e) => e.actorId === plain.email && e.details.client === 'zenml' && e.details.ip === '192.0.2.11')).toBeDefined();
    expect(events.find((e) => e.actorId === keyId && e.details.method === 'api_key' && e.details.ip === '192.0.2.12')).toMatchObject({ outcome: 'failure' });
    expect(log.text).not.toContain(wrong);
    expect(log.text).not.toContain('ab'.repeat(32));
    // A sign-in naming no user writes nothing (no tenant would see it, and anyone could grow the database).
    expect((await consoleSignIn({ email: 'no.such.user@nowhere.test', password: wrong })).status).toBe(401);
    const stray = await k.keyward.store.db.selectFrom('audit_events').select('id').where('actor_id', '=', 'no.such.user@nowhere.test').execute();
    expect(stray).toEqual([]);
    // B's log has B's own failures only: A's admin email failing in A is not shown to B.
    const bLog = await B.http.get(`/v1/accounts/${B.accountId}/audit`, { query: { action: 'session.signin', pageSize: 100 } });
    expect((bLog.body.items as Array<{ details: { ip: string } }>).some((e) => e.details.ip === '192.0.2.12')).toBe(false);
  });
});

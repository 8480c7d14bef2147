/**
 * Console sessions over real HTTP: sign in with email and password or a token, the cookie's
 * attributes, the CSRF header rule, expiry on the injected clock, sign-out, and deactivation or
 * revocation ending a live session at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type HttpResponse, type TestKeyward } from '../../helpers/keyward.js';
import { expectNativeError, issueUserToken, userWithToken } from '../../helpers/nativeApi.js';

const PASSWORD = 'correct horse battery staple';
const CONSOLE = { 'x-keyward-console': '1' };
const MINUTE = 60_000;

/** The session cookie a response set, as a browser would send it back. */
function sessionCookie(res: HttpResponse): string {
  const set = res.headers.get('set-cookie') ?? '';
  const m = /keyward_session=([^;]*)/.exec(set);
  expect(m, `no session cookie in ${set}`).not.toBeNull();
  return `keyward_session=${m![1]}`;
}

describeEachDb('console sessions', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind, { config: { bootstrapPassword: PASSWORD, consoleSessionMinutes: 30 } });
  });
  afterAll(async () => k?.close());

  async function signIn(body: Record<string, string>) {
    return k.anon.post('/v1/sessions', body, { headers: CONSOLE });
  }

  it('signs in with email and password: an HttpOnly, SameSite=Strict cookie and no token in the body', async () => {
    const res = await signIn({ email: k.admin.email, password: PASSWORD });
    expect(res.status, res.text).toBe(201);
    const set = res.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).toMatch(/Path=\//);
    expect(set).toMatch(/Max-Age=1800/);
    // Plain http here: no Secure flag, or the browser would drop the cookie.
    expect(set).not.toMatch(/Secure/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ method: 'password', accountId: k.admin.accountId, principal: { type: 'USER', id: k.admin.userId, email: k.admin.email } });
    expect(res.body.expiresAt).toBe(k.clock.now() + 30 * MINUTE);
    expect(res.body.expiresIn).toBe(30 * 60);
    const jwt = sessionCookie(res).split('=')[1]!;
    expect(res.text).not.toContain(jwt);

    const who = await k.anon.get('/v1/whoami', { headers: { ...CONSOLE, cookie: sessionCookie(res) } });
    expect(who.status, who.text).toBe(200);
    expect(who.body.principal).toMatchObject({ type: 'USER', id: k.admin.userId });
    const current = await k.anon.get('/v1/sessions/current', { headers: { ...CONSOLE, cookie: sessionCookie(res) } });
    expect(current.status).toBe(200);
    expect(current.body.method).toBe('password');
  });

  it('answers every wrong sign-in with the same generic 401', async () => {
    const wrongPassword = await signIn({ email: k.admin.email, password: 'not the password' });
    const unknownEmail = await signIn({ email: 'nobody@example.com', password: PASSWORD });
    const badToken = await signIn({ token: 'pat.nothing.like.a-token' });
    for (const r of [wrongPassword, unknownEmail]) {
      expectNativeError(r, 401, { code: 'UNAUTHENTICATED' });
      expect(r.body.error.message).toBe('Invalid email or password');
      expect(r.headers.get('set-cookie')).toBeNull();
    }
    expectNativeError(badToken, 401, { code: 'UNAUTHENTICATED' });
    expect(badToken.body.error.message).toBe('The token is not valid');
  });

  it('refuses sign-in without the console header (login CSRF) and names what is missing', async () => {
    const res = await k.anon.post('/v1/sessions', { email: k.admin.email, password: PASSWORD });
    expectNativeError(res, 400, { code: 'INVALID_ARGUMENT' });
    expect(res.body.error.fields[0].field).toBe('x-keyward-console');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a cookie without the X-Keyward-Console header on every API', async () => {
    const cookie = sessionCookie(await signIn({ email: k.admin.email, password: PASSWORD }));
    const native = await k.anon.get('/v1/whoami', { headers: { cookie } });
    expectNativeError(native, 401);
    const ng = await k.anon.get('/ng/api/apikey', { headers: { cookie }, query: { accountIdentifier: k.admin.accountId, apiKeyType: 'USER', parentIdentifier: k.admin.userId } });
    expect(ng.status).toBe(401);
    expect(ng.body.code).toBe('INVALID_TOKEN');
    const withHeader = await k.anon.get('/ng/api/apikey', { headers: { cookie, ...CONSOLE }, query: { accountIdentifier: k.admin.accountId, apiKeyType: 'USER', parentIdentifier: k.admin.userId } });
    expect(withHeader.status, withHeader.text).toBe(200);
    expect(withHeader.body.status).toBe('SUCCESS');
  });

  it('refuses a forged or tampered session cookie', async () => {
    const cookie = sessionCookie(await signIn({ email: k.admin.email, password: PASSWORD }));
    const [h, p, s] = cookie.split('=')[1]!.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, exp: (claims.exp as number) + 3600 })).toString('base64url')}.${s}`;
    expectNativeError(await k.anon.get('/v1/whoami', { headers: { ...CONSOLE, cookie: `keyward_session=${forged}` } }), 401);
  });

  it('ends the session at its expiry on the server clock', async () => {
    const cookie = sessionCookie(await signIn({ email: k.admin.email, password: PASSWORD }));
    k.clock.advance(29 * MINUTE);
    expect((await k.anon.get('/v1/whoami', { headers: { ...CONSOLE, cookie } })).status).toBe(200);
    k.clock.advance(1 * MINUTE);
    expectNativeError(await k.anon.get('/v1/whoami', { headers: { ...CONSOLE, cookie } }), 401);
    expectNativeError(await k.anon.get('/v1/sessions/current', { headers: { ...CONSOLE, cookie } }), 401);
  });

  it('ends the session on sign-out for a copy of the cookie too, and clears the cookie', async () => {
    const cookie = sessionCookie(await signIn({ email: k.admin.email, password: PASSWORD }));
    expect((await k.anon.get('/v1/whoami', { headers: { ...CONSOLE, cookie } })).status).toBe(200);
    const out = await k.anon.delete('/v1/sessions', { headers: { ...CONSOLE, cookie } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/keyward_session=;.*Max-Age=0/);
    // The browser drops the cookie; a copy kept elsewhere no longer works either.
    expectNativeError(await k.anon.get('/v1/whoami', { headers: { ...CONSOLE, cookie } }), 401);
    // Signing out again is harmless.
    expect((await k.anon.delete('/v1/sessions', { headers: { ...CONSOLE, cookie } })).status).toBe(204);
  });

  it('audits sign-in and sign-out as the user', async () => {
    const cookie = sessionCookie(await signIn({ email: k.admin.email, password: PASSWORD }));
    await k.anon.delete('/v1/sessions', { headers: { ...CONSOLE, cookie } });
    const audit = await k.http.get(`/v1/accounts/${k.admin.accountId}/audit`, { query: { actor: k.admin.userId } });
    const actions = (audit.body.items as Array<{ action: string }>).map((e) => e.action);
    expect(actions).toContain('session.create');
    expect(actions).toContain('session.end');
  });

  describe('token sign-in', () => {
    it('exchanges a personal token for a session that ends when the token is deleted', async () => {
      const { token, tokenId } = await issueUserToken(k, k.admin.accountId, k.admin.userId);
      const res = await signIn({ token });
      expect(res.status, res.text).toBe(201);
      expect(res.body.method).toBe('token');
      expect(res.text).not.toContain(token);
      const cookie = sessionCookie(res);
      expect((await k.anon.get('/v1/whoami', { headers: { ...CONSOLE, cookie } })).body.tokenId).toBe(tokenId);

      const tokens = await k.http.get(`/v1/accounts/${k.admin.accountId}/tokens`, { query: { apiKeyType: 'USER', parentIdentifier: k.admin.userId } });
      const mine = (tokens.body.items as Array<{ id: string; identifier: string; apiKeyIdentifier: string }>).find((t) => t.id === tokenId)!;
      const del = await k.http.delete(`/ng/api/token/${mine.identifier}`, {
        query: { accountIdentifier: k.admin.accountId, apiKeyType: 'USER', parentIdentifier: k.admin.userId, apiKeyIdentifier: mine.apiKeyIdentifier },
      });
      expect(del.status, del.text).toBe(200);
      expectNativeError(await k.anon.get('/v1/whoami', { headers: { ...CONSOLE, cookie } }), 401);
    });

    it('ends no later than the token expires', async () => {
      const { token } = await issueUserToken(k, k.admin.accountId, k.admin.userId, { validTo: k.clock.now() + 5 * MINUTE });
      const res = await signIn({ token });
      expect(res.status).toBe(201);
      expect(res.body.expiresAt).toBe(k.clock.now() + 5 * MINUTE);
      k.clock.advance(5 * MINUTE);
      expectNativeError(await k.anon.get('/v1/whoami', { headers: { ...CONSOLE, cookie: sessionCookie(res) } }), 401);
    });

    it('refuses a service-account token: the console is for people', async () => {
      const sa = await k.http.post('/ng/api/serviceaccount', { identifier: 'robot', name: 'robot', email: 'robot@service.keyward.local', accountIdentifier: k.admin.accountId }, { query: { accountIdentifier: k.admin.accountId } });
      expect(sa.status, sa.text).toBe(200);
      const tok = await k.http.post(
        '/ng/api/token',
        { identifier: 'rt', name: 'rt', apiKeyIdentifier: 'rk', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'robot', accountIdentifier: k.admin.accountId },
        { query: { accountIdentifier: k.admin.accountId } },
      );
      expect(tok.status, tok.text).toBe(200);
      const res = await signIn({ token: tok.body.data });
      expectNativeError(res, 401);
      expect(res.body.error.message).toContain('personal access token');
    });
  });

  it('ends a password session at once when an admin deactivates the user', async () => {
    const alice = await userWithToken(k, k.admin.accountId, `alice-${kind}@example.com`, { password: PASSWORD });
    const cookie = sessionCookie(await signIn({ email: alice.email, password: PASSWORD }));
    expect((await k.anon.get('/v1/whoami', { headers: { ...CONSOLE, cookie } })).status).toBe(200);
    const off = await k.http.patch(`/v1/accounts/${k.admin.accountId}/users/${alice.id}`, { active: false });
    expect(off.status, off.text).toBe(200);
    expectNativeError(await k.anon.get('/v1/whoami', { headers: { ...CONSOLE, cookie } }), 401);
  });

  it('never writes the session cookie or a password to the logs', async () => {
    const res = await signIn({ email: k.admin.email, password: PASSWORD });
    const jwt = sessionCookie(res).split('=')[1]!;
    await k.anon.get('/v1/whoami', { headers: { ...CONSOLE, cookie: sessionCookie(res) } });
    const all = k.logs.join('\n');
    expect(all).not.toContain(jwt);
    expect(all).not.toContain(PASSWORD);
  });
});

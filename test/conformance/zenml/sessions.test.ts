/**
 * Logging in with an API key and using the session (docs/compat/zenml.md;
 * ZenML's store-test behaviours 17-22), with real logins and real sessions: the JWT that /login returns, sent back as
 * `Authorization: Bearer` or as the `zenml-server-<id>` cookie, re-checked on every request against
 * the key and its service account.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../../../src/domain/jwt.js';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import {
  NAIVE_UTC,
  T0,
  accountWithKey,
  adminClient,
  createApiKey,
  decodeKey,
  expectCredentialsNotValid,
  login,
  loginRequest,
  whoami,
  ZenClient,
  type Session,
} from './client.js';

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describeEachDb('zenml conformance: login and sessions (spec 5, 6, 9.17-9.22)', (kind) => {
  let k: TestKeyward;
  let z: ZenClient;
  let serverId: string;

  beforeAll(async () => {
    k = await startKeyward(kind);
    z = adminClient(k);
    serverId = (await k.anon.get('/api/v1/info')).body.id;
  });
  afterAll(async () => k?.close());

  const keyPath = (saId: string, key = 'default') => `/service_accounts/${saId}/api_keys/${key}`;

  describe('login', () => {
    it('answers OAuth2 token JSON and sets the zenml-server-<id> cookie with the same JWT', async () => {
      const { secret } = await accountWithKey(z, 'login-shape');
      const res = await loginRequest(k.url, { grant_type: 'zenml-api-key', password: secret });
      expect(res.status, res.text).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['access_token', 'csrf_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
      expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: null, refresh_token: null, scope: null, csrf_token: null });
      const jwt = res.body.access_token as string;
      expect(jwt.split('.')).toHaveLength(3);
      const cookie = [res.headers['set-cookie'] ?? []].flat()[0]!;
      expect(cookie.startsWith(`zenml-server-${serverId}=${jwt};`)).toBe(true);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
    });

    it('the JWT carries sub = service account id, iss = aud = server id, api_key_id; no exp by default', async () => {
      const { sa, key, secret } = await accountWithKey(z, 'login-claims');
      const s = await login(k.url, secret);
      const [h, p] = s.jwt.split('.');
      expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toMatchObject({ alg: 'HS256' });
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
      expect(claims).toMatchObject({ sub: sa.id, iss: serverId, aud: serverId, api_key_id: key.id });
      expect(claims.exp).toBeUndefined();
    });

    it('without grant_type, a password alone is an API-key login (docs/compat/zenml.md)', async () => {
      const { sa, secret } = await accountWithKey(z, 'login-nogrant');
      const res = await loginRequest(k.url, { password: secret });
      expect(res.status, res.text).toBe(200);
      const me = await whoami(new ZenClient(k.url, { bearer: res.body.access_token }));
      expect(me.body.id).toBe(sa.id);
    });

    it('a service account can never log in with the password grant', async () => {
      const { sa } = await accountWithKey(z, 'login-pwgrant');
      const res = await loginRequest(k.url, { grant_type: 'password', username: sa.name, password: 'whatever-it-is' });
      expectCredentialsNotValid(res);
    });
  });

  it('9.17 login → current-user is the account as a user; afterwards last_login is set, last_rotated null', async () => {
    const { sa, key, secret } = await accountWithKey(z, 'sess-17');
    const before = await z.get(keyPath(sa.id));
    expect(before.body.metadata.last_login).toBeNull();

    k.clock.advance(7_000);
    const at = k.clock.now();
    const s = await login(k.url, secret);
    const me = await whoami(s.client);
    expect(me.status, me.text).toBe(200);
    expect(me.body.id).toBe(sa.id);
    expect(me.body.name).toBe('sess-17');
    expect(me.body.body).toMatchObject({ is_service_account: true, is_admin: false, email_opted_in: false, full_name: '', active: true });

    // Written in batches, but visible on the key at once.
    const after = await z.get(keyPath(sa.id, key.id));
    expect(after.body.metadata.last_login).toMatch(NAIVE_UTC);
    expect(after.body.metadata.last_login).toBe(`${new Date(at).toISOString().slice(0, 23)}000`);
    expect(after.body.metadata.last_rotated).toBeNull();
    // Once the batch is written, the stored value is the same.
    await k.keyward.services.usage.flush();
    expect(k.keyward.services.usage.peekKeyLogin(key.id)).toBeUndefined();
    expect((await z.get(keyPath(sa.id, key.id))).body.metadata.last_login).toBe(`${new Date(at).toISOString().slice(0, 23)}000`);
    const listed = await z.list(`/service_accounts/${sa.id}/api_keys`, { last_login: 'gte:2026-01-15 12:00:00' }, { hydrate: true });
    expect(listed.body.total).toBe(1);
  });

  // ZenML sets the key's `updated` = now on every login; Keyward derives it from the batched last_login
  // (no write on the verification path), so the key reads as ZenML's would, and filters on it agree.
  it('a login bumps the key\'s `updated`, as ZenML\'s _fetch_and_verify_api_key does', async () => {
    const { sa, key } = await accountWithKey(z, 'sess-updated');
    k.clock.advance(3_000);
    const at = k.clock.now();
    await login(k.url, key.body.key);
    const got = await z.get(keyPath(sa.id, key.id));
    expect(got.body.body.updated).toBe(`${new Date(at).toISOString().slice(0, 23)}000`);
    expect(got.body.body.created).not.toBe(got.body.body.updated);
    const since = `gte:${new Date(at).toISOString().slice(0, 19).replace('T', ' ')}`;
    expect((await z.list(`/service_accounts/${sa.id}/api_keys`, { updated: since })).body.total).toBe(1);
  });

  it('9.17 the session works as the cookie alone, and the cookie wins over a bad bearer header', async () => {
    const { sa, secret } = await accountWithKey(z, 'sess-cookie');
    const s = await login(k.url, secret);
    const byCookie = await whoami(new ZenClient(k.url, { cookie: s.cookie }));
    expect(byCookie.status, byCookie.text).toBe(200);
    expect(byCookie.body.id).toBe(sa.id);
    const both = await whoami(new ZenClient(k.url, { cookie: s.cookie, bearer: 'not-a-token' }));
    expect(both.status).toBe(200);
    expect(both.body.id).toBe(sa.id);
  });

  it('9.18 inactive key → login 401; reactivate → login OK; deactivate while logged in → 401; reactivate → the SAME JWT works', async () => {
    const { sa, key, secret } = await accountWithKey(z, 'sess-18');
    expect((await z.put(keyPath(sa.id), { name: null, description: null, active: false })).status).toBe(200);
    expectCredentialsNotValid(
      await loginRequest(k.url, { grant_type: 'zenml-api-key', password: secret }),
      `Authentication error: API key ${key.id} associated with service account ${sa.id} is not active`,
    );
    expect((await z.put(keyPath(sa.id), { name: null, description: null, active: true })).status).toBe(200);
    const s = await login(k.url, secret);
    expect((await whoami(s.client)).status).toBe(200);

    await z.put(keyPath(sa.id), { name: null, description: null, active: false });
    expectCredentialsNotValid(await whoami(s.client), `Authentication error: API key ${key.id} associated with service account ${sa.id} is not active`);
    expectCredentialsNotValid(await whoami(new ZenClient(k.url, { cookie: s.cookie })));

    await z.put(keyPath(sa.id), { name: null, description: null, active: true });
    const again = await whoami(s.client);
    expect(again.status, again.text).toBe(200);
    expect(again.body.id).toBe(sa.id);
  });

  it('9.19 the same for the service account: inactive → login 401; deactivate while logged in → 401; reactivate → same JWT works', async () => {
    const { sa, key, secret } = await accountWithKey(z, 'sess-19');
    await z.put(`/service_accounts/${sa.id}`, { active: false });
    expectCredentialsNotValid(
      await loginRequest(k.url, { grant_type: 'zenml-api-key', password: secret }),
      `Authentication error: service account ${sa.id} associated with API key ${key.id} is not active`,
    );
    await z.put(`/service_accounts/${sa.id}`, { active: true });
    const s = await login(k.url, secret);
    expect((await whoami(s.client)).status).toBe(200);

    await z.put('/service_accounts/sess-19', { active: false });
    expectCredentialsNotValid(await whoami(s.client), `Authentication error: service account ${sa.id} associated with API key ${key.id} is not active`);
    await z.put('/service_accounts/sess-19', { active: true });
    expect((await whoami(s.client)).status).toBe(200);
  });

  it('checks the service account before the key, as ZenML does: with both inactive the message names the account', async () => {
    const { sa, key, secret } = await accountWithKey(z, 'sess-both');
    const s = await login(k.url, secret);
    expect((await z.put(keyPath(sa.id), { name: null, description: null, active: false })).status).toBe(200);
    await z.put(`/service_accounts/${sa.id}`, { active: false });
    const message = `Authentication error: service account ${sa.id} associated with API key ${key.id} is not active`;
    expectCredentialsNotValid(await loginRequest(k.url, { grant_type: 'zenml-api-key', password: secret }), message);
    expectCredentialsNotValid(await whoami(s.client), message);
    // The account back, the key still off: now the key is named.
    await z.put(`/service_accounts/${sa.id}`, { active: true });
    expectCredentialsNotValid(await whoami(s.client), `Authentication error: API key ${key.id} associated with service account ${sa.id} is not active`);
  });

  it('9.20 deleted key → login 401; deleting while logged in → 401; a new key of the same name does not revive it', async () => {
    const { sa, key, secret } = await accountWithKey(z, 'sess-20');
    const s = await login(k.url, secret);
    expect((await whoami(s.client)).status).toBe(200);
    expect((await z.delete(keyPath(sa.id))).status).toBe(200);

    expectCredentialsNotValid(await loginRequest(k.url, { grant_type: 'zenml-api-key', password: secret }), `Authentication error: error retrieving API key ${key.id}`);
    expectCredentialsNotValid(await whoami(s.client), `Authentication error: error retrieving API key ${key.id}`);

    const recreated = await createApiKey(z, sa.id, 'default');
    expect(recreated.id).not.toBe(key.id);
    expectCredentialsNotValid(await whoami(s.client));
    // The new key logs in on its own.
    expect((await whoami((await login(k.url, recreated.body.key)).client)).body.id).toBe(sa.id);
  });

  it('9.20 deleting the service account ends its sessions and its keys', async () => {
    const { sa, secret } = await accountWithKey(z, 'sess-20b');
    const s = await login(k.url, secret);
    expect((await z.delete(`/service_accounts/${sa.id}`)).status).toBe(200);
    expectCredentialsNotValid(await whoami(s.client));
    expectCredentialsNotValid(await loginRequest(k.url, { grant_type: 'zenml-api-key', password: secret }));
  });

  it('9.21 rotate with retain 0: the old key cannot log in, the new one can; the existing session keeps working', async () => {
    const { sa, key, secret } = await accountWithKey(z, 'sess-21');
    const s = await login(k.url, secret);
    const rot = await z.put(`${keyPath(sa.id)}/rotate`, { retain_period_minutes: 0 });
    expect(rot.status).toBe(200);
    const fresh = rot.body.body.key as string;

    expectCredentialsNotValid(await loginRequest(k.url, { grant_type: 'zenml-api-key', password: secret }), `Authentication error: could not verify key value for API key ${key.id}`);
    expect((await whoami((await login(k.url, fresh)).client)).body.id).toBe(sa.id);
    const still = await whoami(s.client);
    expect(still.status, still.text).toBe(200);
    expect(still.body.id).toBe(sa.id);
  });

  it('9.22 retain_period_minutes=1: old and new both log in; rotate again: newest and previous work, the original fails', async () => {
    const { sa, secret: original } = await accountWithKey(z, 'sess-22');
    const r1 = await z.put(`${keyPath(sa.id)}/rotate`, { retain_period_minutes: 1 });
    const second = r1.body.body.key as string;
    await login(k.url, original);
    await login(k.url, second);

    const r2 = await z.put(`${keyPath(sa.id)}/rotate`, { retain_period_minutes: 1 });
    const third = r2.body.body.key as string;
    await login(k.url, third);
    await login(k.url, second);
    expectCredentialsNotValid(await loginRequest(k.url, { grant_type: 'zenml-api-key', password: original }));
    const got = await z.get(keyPath(sa.id));
    expect(got.body.metadata.retain_period_minutes).toBe(1);
    expect(got.body.metadata.last_rotated).toMatch(NAIVE_UTC);
  });

  it('a rotated-out secret stops at the exact end of its window (now - last_rotated < retain)', async () => {
    const { sa, secret: old } = await accountWithKey(z, 'sess-window');
    const rot = await z.put(`${keyPath(sa.id)}/rotate`, { retain_period_minutes: 1 });
    const fresh = rot.body.body.key as string;
    k.clock.advance(60_000 - 1);
    await login(k.url, old);
    k.clock.advance(1);
    expectCredentialsNotValid(await loginRequest(k.url, { grant_type: 'zenml-api-key', password: old }));
    await login(k.url, fresh);
  });

  describe('the key value', () => {
    it('is ZENKEY_ + base64 of {"id": <key uuid>, "key": <64 hex>}', async () => {
      const { key, secret } = await accountWithKey(z, 'fmt-key');
      expect(secret).toMatch(/^ZENKEY_[A-Za-z0-9+/]+={0,2}$/);
      const decoded = decodeKey(secret);
      expect(Object.keys(decoded).sort()).toEqual(['id', 'key']);
      expect(decoded.id).toBe(key.id);
      expect(decoded.key).toMatch(/^[0-9a-f]{64}$/);
    });

    it('logs in without the ZENKEY_ prefix, and as pydantic v1 spelled the JSON (with spaces)', async () => {
      const { sa, secret } = await accountWithKey(z, 'fmt-noprefix');
      const bare = secret.slice('ZENKEY_'.length);
      expect((await whoami((await login(k.url, bare)).client)).body.id).toBe(sa.id);
      const d = decodeKey(secret);
      const spaced = `ZENKEY_${Buffer.from(`{"id": "${d.id}", "key": "${d.key}"}`).toString('base64')}`;
      expect((await whoami((await login(k.url, spaced)).client)).body.id).toBe(sa.id);
    });

    it('a wrong, an empty, an unknown or an undecodable secret → 401 with ZenML\'s messages', async () => {
      const { key, secret } = await accountWithKey(z, 'fmt-bad');
      const d = decodeKey(secret);
      const enc = (o: unknown) => `ZENKEY_${Buffer.from(JSON.stringify(o)).toString('base64')}`;
      const attempt = (password: string) => loginRequest(k.url, { grant_type: 'zenml-api-key', password });
      expectCredentialsNotValid(await attempt(enc({ id: d.id, key: 'f'.repeat(64) })), `Authentication error: could not verify key value for API key ${key.id}`);
      expectCredentialsNotValid(await attempt(enc({ id: d.id, key: '' })), `Authentication error: could not verify key value for API key ${key.id}`);
      const unknown = randomUUID();
      expectCredentialsNotValid(await attempt(enc({ id: unknown, key: d.key })), `Authentication error: error retrieving API key ${unknown}`);
      expectCredentialsNotValid(await attempt('ZENKEY_not base64!'), 'Authentication error: error decoding API key');
      expectCredentialsNotValid(await attempt(enc({ id: 'not-a-uuid', key: d.key })), 'Authentication error: error decoding API key');
    });

    it('a ZENKEY sent directly as a bearer works as the key itself', async () => {
      const { sa, secret } = await accountWithKey(z, 'fmt-bearer');
      const me = await whoami(new ZenClient(k.url, { bearer: secret }));
      expect(me.status, me.text).toBe(200);
      expect(me.body.id).toBe(sa.id);
    });
  });

  describe('the JWT is checked, not trusted', () => {
    let s: Session;
    beforeAll(async () => {
      const { secret } = await accountWithKey(z, 'jwt-checks');
      s = await login(k.url, secret);
      expect((await whoami(s.client)).status).toBe(200);
    });

    const flip = (c: string) => (c === 'A' ? 'B' : 'A');

    it('a flipped character in the payload → 401', async () => {
      const [h, p, sig] = s.jwt.split('.') as [string, string, string];
      const i = Math.floor(p.length / 2);
      const tampered = `${h}.${p.slice(0, i)}${flip(p[i]!)}${p.slice(i + 1)}.${sig}`;
      expectCredentialsNotValid(await whoami(new ZenClient(k.url, { bearer: tampered })));
    });

    it('a flipped character in the signature → 401', async () => {
      const [h, p, sig] = s.jwt.split('.') as [string, string, string];
      const tampered = `${h}.${p}.${flip(sig[0]!)}${sig.slice(1)}`;
      expectCredentialsNotValid(await whoami(new ZenClient(k.url, { bearer: tampered })));
      expectCredentialsNotValid(await whoami(new ZenClient(k.url, { cookie: `zenml-server-${serverId}=${tampered}` })));
    });

    it('claims re-signed for another service account → 401', async () => {
      const other = await accountWithKey(z, 'jwt-other-sa');
      const [h, p, sig] = s.jwt.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      const forged = `${h}.${b64url({ ...claims, sub: other.sa.id })}.${sig}`;
      expectCredentialsNotValid(await whoami(new ZenClient(k.url, { bearer: forged })));
    });

    it('a JWT signed with another secret, with this server\'s claims → 401', async () => {
      const claims = JSON.parse(Buffer.from(s.jwt.split('.')[1]!, 'base64url').toString());
      const foreign = signJwt(claims, randomBytes(32));
      expectCredentialsNotValid(await whoami(new ZenClient(k.url, { bearer: foreign })));
    });

    it('a session issued by another Keyward server → 401, and vice versa', async () => {
      const other = await startKeyward(kind);
      try {
        const oz = adminClient(other);
        const { secret } = await accountWithKey(oz, 'jwt-checks');
        const theirs = await login(other.url, secret);
        expect((await whoami(theirs.client)).status).toBe(200);
        expectCredentialsNotValid(await whoami(new ZenClient(k.url, { bearer: theirs.jwt })));
        expectCredentialsNotValid(await whoami(new ZenClient(other.url, { bearer: s.jwt })));
        // Their key is unknown here, too.
        expectCredentialsNotValid(await loginRequest(k.url, { grant_type: 'zenml-api-key', password: secret }));
      } finally {
        await other.close();
      }
    });

    it('alg "none" (unsigned, or with any signature) → 401', async () => {
      const claims = JSON.parse(Buffer.from(s.jwt.split('.')[1]!, 'base64url').toString());
      const header = b64url({ alg: 'none', typ: 'JWT' });
      const unsigned = `${header}.${b64url(claims)}.`;
      expectCredentialsNotValid(await whoami(new ZenClient(k.url, { bearer: unsigned })));
      const withSig = `${header}.${b64url(claims)}.${s.jwt.split('.')[2]}`;
      expectCredentialsNotValid(await whoami(new ZenClient(k.url, { bearer: withSig })));
    });

    it('alg HS512 / RS256 headers over the right signature input → 401', async () => {
      const [, p, sig] = s.jwt.split('.') as [string, string, string];
      for (const alg of ['HS512', 'RS256', 'hs256']) {
        expectCredentialsNotValid(await whoami(new ZenClient(k.url, { bearer: `${b64url({ alg, typ: 'JWT' })}.${p}.${sig}` })));
      }
    });

    it('the genuine session still works after all of that', async () => {
      expect((await whoami(s.client)).status).toBe(200);
    });
  });

  it('logout answers null and expires the cookie', async () => {
    const res = await new ZenClient(k.url).post('/logout');
    expect(res.status).toBe(200);
    expect(res.text).toBe('null');
    const cookie = [res.headers['set-cookie'] ?? []].flat()[0]!;
    expect(cookie.startsWith(`zenml-server-${serverId}=;`)).toBe(true);
    expect(cookie).toMatch(/Max-Age=0/);
  });

  it('GET /info answers without auth with the server id and a version', async () => {
    const res = await new ZenClient(k.url).get('/info', {});
    expect(res.status).toBe(200);
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.id).toBe(serverId);
    expect(typeof res.body.version).toBe('string');
    expect(res.body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(res.body.auth_scheme).toBe('OAUTH2_PASSWORD_BEARER');
    expect(res.body.database_type).toBe(kind === 'sqlite' ? 'sqlite' : 'mysql');
  });

  it('the admin\'s Keyward token works as a bearer on /api/v1 (current-user is that user)', async () => {
    const me = await whoami(z);
    expect(me.status, me.text).toBe(200);
    expect(me.body.body.is_service_account).toBe(false);
    expect(me.body.body.is_admin).toBe(true);
  });
});

describeEachDb('zenml conformance: session lifetime (KEYWARD_ZENML_JWT_EXPIRE_MINUTES)', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind, { config: { zenmlJwtExpireMinutes: 1 } });
  });
  afterAll(async () => k?.close());

  it('expires_in and exp follow the setting; the session ends after exp plus ZenML\'s 10 s leeway', async () => {
    const z = adminClient(k);
    const { secret } = await accountWithKey(z, 'expiring');
    const res = await loginRequest(k.url, { grant_type: 'zenml-api-key', password: secret });
    expect(res.body.expires_in).toBe(60);
    const jwt = res.body.access_token as string;
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
    expect(claims.exp).toBe(Math.floor(T0 / 1000) + 60);
    const c = new ZenClient(k.url, { bearer: jwt });
    k.clock.advance(60_000);
    expect((await whoami(c)).status).toBe(200);
    k.clock.advance(11_000);
    expectCredentialsNotValid(await whoami(c));
  });
});

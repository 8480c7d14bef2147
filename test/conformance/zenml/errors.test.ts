/**
 * Error shapes and status codes (docs/compat/zenml.md):
 * `{"detail": ["<Class>", "<message>"]}` for errors raised in endpoints; a bare `["ValueError", ...]`
 * for FastAPI request-validation errors; a string `detail` for plain HTTP errors; what a caller with
 * no credentials, bad credentials, too few permissions or another tenant's token gets.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import {
  API,
  accountWithKey,
  adminClient,
  createApiKey,
  createServiceAccount,
  expectCredentialsNotValid,
  expectDetail,
  loginRequest,
  rawRequest,
  saNotFound,
  whoami,
  ZenClient,
  type ZenResponse,
} from './client.js';

/** FastAPI's request-validation handler in ZenML: status 422 and a top-level array, no `detail`. */
function expectBareValueError(res: ZenResponse, message?: RegExp): void {
  expect(res.status, res.text).toBe(422);
  expect(Array.isArray(res.body), res.text).toBe(true);
  expect(res.body).toHaveLength(2);
  expect(res.body[0]).toBe('ValueError');
  expect(typeof res.body[1]).toBe('string');
  if (message) expect(res.body[1]).toMatch(message);
}

describeEachDb('zenml conformance: errors (docs/compat/zenml.md)', (kind) => {
  let k: TestKeyward;
  let z: ZenClient;
  let sa: any;

  beforeAll(async () => {
    k = await startKeyward(kind);
    z = adminClient(k);
    sa = await createServiceAccount(z, 'errors');
    await createApiKey(z, sa.id, 'default');
  });
  afterAll(async () => k?.close());

  describe('409 EntityExistsError', () => {
    it('a duplicate service-account name, on create and on rename', async () => {
      expectDetail(await z.post('/service_accounts', { name: 'errors', description: null, active: true }), 409, 'EntityExistsError', /'errors'/);
      const other = await createServiceAccount(z, 'errors-2');
      expectDetail(await z.put(`/service_accounts/${other.id}`, { name: 'errors' }), 409, 'EntityExistsError', /'errors'/);
    });

    it('a duplicate key name, on create and on rename', async () => {
      expectDetail(await z.post(`/service_accounts/${sa.id}/api_keys`, { name: 'default' }), 409, 'EntityExistsError', /^Unable to register API key with name 'default'/);
      await createApiKey(z, sa.id, 'second');
      expectDetail(await z.put(`/service_accounts/${sa.id}/api_keys/second`, { name: 'default' }), 409, 'EntityExistsError', /^Unable to update API key with name 'default'/);
    });
  });

  describe('422: request validation is a bare array', () => {
    it('a service_account_id that is not a UUID, on every key route', async () => {
      const base = '/service_accounts/errors/api_keys';
      const calls: Array<Promise<ZenResponse>> = [
        z.post(base, { name: 'x' }),
        z.list(base),
        z.get(`${base}/default`),
        z.put(`${base}/default`, { active: false }),
        z.put(`${base}/default/rotate`, {}),
        z.delete(`${base}/default`),
      ];
      for (const res of await Promise.all(calls)) expectBareValueError(res);
      // Nothing was changed on the way.
      expect((await z.get(`/service_accounts/${sa.id}/api_keys/default`)).body.body.active).toBe(true);
    });

    it('a malformed JSON body, with no Content-Type, with application/json and with text/plain', async () => {
      for (const mode of ['data', 'json', 'fetch'] as const) {
        expectBareValueError(await z.withMode(mode).request('POST', '/service_accounts', { raw: '{"name": "x",' }));
        expectBareValueError(await z.withMode(mode).request('PUT', `/service_accounts/${sa.id}`, { raw: 'not json' }));
      }
    });

    it('a body that is not an object, a missing required field, a wrong type', async () => {
      expectBareValueError(await z.post('/service_accounts', ['name']));
      expectBareValueError(await z.post('/service_accounts', { description: 'no name', active: true }), /name/);
      expectBareValueError(await z.post('/service_accounts', { name: 'no-active' }), /active/);
      expectBareValueError(await z.post('/service_accounts', { name: 42, active: true }), /name/);
      expectBareValueError(await z.post(`/service_accounts/${sa.id}/api_keys`, { description: 'no name' }), /name/);
      expectBareValueError(await z.put(`/service_accounts/${sa.id}`, { active: 'sometimes' }), /active/);
      expectBareValueError(await z.put(`/service_accounts/${sa.id}/api_keys/default/rotate`, { retain_period_minutes: 'ten' }), /retain_period_minutes/);
      expect((await z.list('/service_accounts', { name: 'equals:no-active' })).body.total).toBe(0);
    });

    it('a name over 255 characters or a description over 65535 (pydantic max_length)', async () => {
      expectBareValueError(await z.post('/service_accounts', { name: 'n'.repeat(256), active: true }), /name/);
      expectBareValueError(await z.post('/service_accounts', { name: 'long-desc', description: 'd'.repeat(65536), active: true }), /description/);
      expectBareValueError(await z.post(`/service_accounts/${sa.id}/api_keys`, { name: 'n'.repeat(256) }), /name/);
      expectBareValueError(await z.put(`/service_accounts/${sa.id}/api_keys/default`, { name: 'n'.repeat(256) }), /name/);
      expect((await z.post('/service_accounts', { name: 'n'.repeat(255), description: 'd'.repeat(65535), active: true })).status).toBe(200);
    });
  });

  describe('404', () => {
    it('an unknown /api/v1 route → {"detail": "Not Found"}', async () => {
      // `/stacks` was here; ZenML 0.58's client reads the default stack at start
      // (BaseZenStore.validate_active_config -> _get_default_stack -> GET /stacks), so Keyward now
      // serves it (workspaces.test.ts). `/pipelines` is still none of Keyward's business.
      for (const path of ['/nope', '/pipelines', '/service_accounts/x/y/z/w']) {
        const res = await z.get(path);
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ detail: 'Not Found' });
      }
      const anon = await new ZenClient(k.url).get('/nope');
      expect(anon.body).toEqual({ detail: 'Not Found' });
    });

    it('a missing account → KeyError, repr-quoted', async () => {
      expectDetail(await z.get('/service_accounts/nobody'), 404, 'KeyError', saNotFound('nobody'));
      expectDetail(await z.get("/service_accounts/it's"), 404, 'KeyError', `"No service account with the 'it's' name or ID was found"`);
    });
  });

  describe('login errors are plain HTTP errors with a string detail', () => {
    it('an unknown grant → 400 "Unsupported grant type: <g>"', async () => {
      const res = await loginRequest(k.url, { grant_type: 'client_credentials', password: 'x' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ detail: 'Unsupported grant type: client_credentials' });
    });

    it('zenml-api-key without a password (absent or empty) → 400 "API key is required."', async () => {
      for (const form of [{ grant_type: 'zenml-api-key' }, { grant_type: 'zenml-api-key', password: '' }] as Array<Record<string, string>>) {
        const res = await loginRequest(k.url, form);
        expect(res.status).toBe(400);
        expect(res.body).toEqual({ detail: 'API key is required.' });
      }
    });

    it('an invalid key → 401 CredentialsNotValid', async () => {
      expectCredentialsNotValid(await loginRequest(k.url, { grant_type: 'zenml-api-key', password: 'ZENKEY_garbage' }), 'Authentication error: error decoding API key');
      // A Keyward token of another format is not a ZenML API key.
      expectCredentialsNotValid(await loginRequest(k.url, { grant_type: 'zenml-api-key', password: k.admin.token }), 'Authentication error: error decoding API key');
    });

    it('a wrong password → 401 CredentialsNotValid', async () => {
      expectCredentialsNotValid(await loginRequest(k.url, { grant_type: 'password', username: k.admin.email, password: 'not-the-password' }));
    });
  });

  describe('401 on every route', () => {
    const routes = (saId: string): Array<[string, string, unknown?]> => [
      ['GET', '/service_accounts'],
      ['POST', '/service_accounts', { name: 'x', active: true }],
      ['GET', `/service_accounts/${saId}`],
      ['PUT', `/service_accounts/${saId}`, { active: false }],
      ['DELETE', `/service_accounts/${saId}`],
      ['GET', `/service_accounts/${saId}/api_keys`],
      ['POST', `/service_accounts/${saId}/api_keys`, { name: 'x' }],
      ['PUT', `/service_accounts/${saId}/api_keys/default/rotate`, {}],
      ['GET', '/current-user'],
      ['GET', `/users/${saId}`],
    ];

    it('no credentials → 401 {"detail": "Not authenticated"}', async () => {
      const anon = new ZenClient(k.url);
      for (const [method, path, body] of routes(sa.id)) {
        const res = await anon.request(method, path, body === undefined ? {} : { json: body });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.body).toEqual({ detail: 'Not authenticated' });
      }
      expect((await z.get(`/service_accounts/${sa.id}`)).body.body.active).toBe(true);
    });

    it('garbage credentials (bearer or cookie) → 401 CredentialsNotValid', async () => {
      const { serverId } = { serverId: (await k.anon.get('/api/v1/info')).body.id as string };
      for (const c of [new ZenClient(k.url, { bearer: 'garbage' }), new ZenClient(k.url, { bearer: 'a.b.c' }), new ZenClient(k.url, { cookie: `zenml-server-${serverId}=a.b.c` })]) {
        for (const [method, path, body] of routes(sa.id)) {
          expectCredentialsNotValid(await c.request(method, path, body === undefined ? {} : { json: body }));
        }
      }
    });
  });

  describe('403 for a caller without the permission (a plain user, password grant)', () => {
    let user: ZenClient;
    beforeAll(async () => {
      const email = `plain-${kind}@example.com`;
      const created = await k.http.post(`/v1/accounts/${k.admin.accountId}/users`, { email, name: 'Plain', password: 'correct horse battery' });
      expect(created.status, created.text).toBe(201);
      const res = await loginRequest(k.url, { grant_type: 'password', username: email, password: 'correct horse battery' });
      expect(res.status, res.text).toBe(200);
      user = new ZenClient(k.url, { bearer: res.body.access_token });
      const me = await whoami(user);
      expect(me.body.body).toMatchObject({ is_service_account: false, is_admin: false });
    });

    it('creating a service account → 403 IllegalOperationError, ZenML\'s exact message', async () => {
      expectDetail(
        await user.post('/service_accounts', { name: 'by-plain-user', description: null, active: true }),
        403,
        'IllegalOperationError',
        'Only admin users can perform `create service account` without RBAC enabled.',
      );
      expect((await z.list('/service_accounts', { name: 'by-plain-user' })).body.total).toBe(0);
    });

    it('every other mutation names its action', async () => {
      const cases: Array<[Promise<ZenResponse>, string]> = [
        [user.put(`/service_accounts/${sa.id}`, { active: false }), 'update service account'],
        [user.delete(`/service_accounts/${sa.id}`), 'delete service account'],
        [user.post(`/service_accounts/${sa.id}/api_keys`, { name: 'x' }), 'create API key'],
        [user.put(`/service_accounts/${sa.id}/api_keys/default`, { active: false }), 'update API key'],
        [user.put(`/service_accounts/${sa.id}/api_keys/default/rotate`, {}), 'rotate API key'],
        [user.delete(`/service_accounts/${sa.id}/api_keys/default`), 'delete API key'],
      ];
      for (const [call, action] of cases) {
        expectDetail(await call, 403, 'IllegalOperationError', `Only admin users can perform \`${action}\` without RBAC enabled.`);
      }
      const key = await z.get(`/service_accounts/${sa.id}/api_keys/default`);
      expect(key.status).toBe(200);
      expect(key.body.body.active).toBe(true);
      expect((await z.get(`/service_accounts/${sa.id}`)).body.body.active).toBe(true);
    });

    it('Keyward deviation (docs/compat/zenml.md): reading needs core_serviceaccount_view, so a plain user cannot list', async () => {
      const res = await user.list('/service_accounts');
      expectDetail(res, 403, 'IllegalOperationError');
    });

    it('a service account\'s own session is not an admin either', async () => {
      const { secret } = await accountWithKey(z, 'errors-sa-session');
      const res = await loginRequest(k.url, { grant_type: 'zenml-api-key', password: secret });
      const own = new ZenClient(k.url, { bearer: res.body.access_token });
      expectDetail(await own.post('/service_accounts', { name: 'by-sa', active: true }), 403, 'IllegalOperationError', 'Only admin users can perform `create service account` without RBAC enabled.');
    });
  });

  it('another tenant\'s admin sees none of this account\'s service accounts', async () => {
    const acc = await k.http.post('/v1/accounts', { id: `other${kind}`, name: 'Other', admin: { email: `other-${kind}@example.com` } });
    expect(acc.status, acc.text).toBe(201);
    const other = new ZenClient(k.url, { bearer: acc.body.token });
    expectDetail(await other.get(`/service_accounts/${sa.id}`), 404, 'KeyError', saNotFound(sa.id));
    expectDetail(await other.get('/service_accounts/errors'), 404, 'KeyError');
    expect((await other.list('/service_accounts')).body.total).toBe(0);
    expectDetail(await other.delete(`/service_accounts/${sa.id}`), 404, 'KeyError');
    expectDetail(await other.get(`/service_accounts/${sa.id}/api_keys/default`), 404, 'KeyError', saNotFound(sa.id));
    expectDetail(await other.get(`/users/${sa.id}`), 404, 'KeyError');
    // Its own account may reuse the name.
    expect((await other.post('/service_accounts', { name: 'errors', active: true })).status).toBe(200);
    expect((await z.get(`/service_accounts/${sa.id}`)).status).toBe(200);
  });

  it('Keyward limit (docs/compat/zenml.md): at most KEYWARD_MAX_API_KEYS_PER_PARENT keys per account (5 by default)', async () => {
    const own = await createServiceAccount(z, 'errors-limit');
    for (let i = 0; i < 5; i++) await createApiKey(z, own.id, `k${i}`);
    const sixth = await z.post(`/service_accounts/${own.id}/api_keys`, { name: 'k5' });
    expectDetail(sixth, 403, 'IllegalOperationError', 'Maximum limit has reached (the limit is 5)');
    expect((await z.list(`/service_accounts/${own.id}/api_keys`)).body.total).toBe(5);
  });

  it('a random UUID on nested routes of a deleted account → 404 for the account', async () => {
    const id = randomUUID();
    const res = await rawRequest(k.url, 'GET', `${API}/service_accounts/${id}/api_keys?hydrate=False&sort_by=created&logical_operator=and&page=1&size=20`, {
      headers: { authorization: `Bearer ${k.admin.token}` },
    });
    expectDetail(res, 404, 'KeyError', saNotFound(id));
  });
});

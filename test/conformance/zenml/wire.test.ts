/**
 * The wire itself (docs/compat/zenml.md): response models with exactly ZenML's keys, naive
 * UTC datetimes, `body.key` only where ZenML returns it, `metadata: null` on rotate, JSON `null` on
 * delete, and request bodies in every encoding a ZenML client uses: the JSON string with no
 * Content-Type (`data=`), `application/json` (`json=`), and fetch's `text/plain`.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { API, NAIVE_UTC, T0, UUID, adminClient, createApiKey, createServiceAccount, rawRequest, type BodyMode, type ZenClient } from './client.js';

const keys = (o: object) => Object.keys(o).sort();
const SA_TOP = ['body', 'id', 'metadata', 'name', 'permission_denied', 'resources'];

function expectServiceAccount(m: any, hydrated: boolean): void {
  expect(keys(m)).toEqual(SA_TOP);
  expect(m.id).toMatch(UUID);
  expect(m.permission_denied).toBe(false);
  expect(m.resources).toBeNull();
  expect(keys(m.body)).toEqual(['active', 'created', 'updated']);
  expect(m.body.created).toMatch(NAIVE_UTC);
  expect(m.body.updated).toMatch(NAIVE_UTC);
  expect(typeof m.body.active).toBe('boolean');
  if (hydrated) {
    expect(keys(m.metadata)).toEqual(['description', 'external_user_id']);
    expect(typeof m.metadata.description).toBe('string');
    expect(m.metadata.external_user_id).toBeNull();
  } else expect(m.metadata).toBeNull();
}

function expectApiKey(m: any, opts: { hydrated: boolean; withKey: boolean }): void {
  expect(keys(m)).toEqual(SA_TOP);
  expect(m.id).toMatch(UUID);
  expect(m.permission_denied).toBe(false);
  expect(m.resources).toBeNull();
  expect(keys(m.body)).toEqual(['active', 'created', 'key', 'service_account', 'updated']);
  expect(m.body.created).toMatch(NAIVE_UTC);
  expect(m.body.updated).toMatch(NAIVE_UTC);
  if (opts.withKey) expect(m.body.key).toMatch(/^ZENKEY_[A-Za-z0-9+/]+={0,2}$/);
  else expect(m.body.key).toBeNull();
  // The nested account is always the unhydrated model.
  expectServiceAccount(m.body.service_account, false);
  if (opts.hydrated) {
    expect(keys(m.metadata)).toEqual(['description', 'last_login', 'last_rotated', 'retain_period_minutes']);
    expect(Number.isInteger(m.metadata.retain_period_minutes)).toBe(true);
    for (const f of ['last_login', 'last_rotated']) if (m.metadata[f] !== null) expect(m.metadata[f]).toMatch(NAIVE_UTC);
  } else expect(m.metadata).toBeNull();
}

describeEachDb('zenml conformance: response shapes and request encodings (spec 2, 3)', (kind) => {
  let k: TestKeyward;
  let z: ZenClient;
  let sa: any;
  let key: any;

  beforeAll(async () => {
    k = await startKeyward(kind, { config: { maxApiKeysPerParent: 20 } });
    z = adminClient(k);
    sa = await createServiceAccount(z, 'shapes', 'desc');
    key = await createApiKey(z, sa.id, 'default', 'Default API key.');
  });
  afterAll(async () => k?.close());

  describe('ServiceAccountResponse', () => {
    it('create: hydrated, with the clock\'s time as naive UTC with microseconds', () => {
      expectServiceAccount(sa, true);
      expect(sa.body.created).toBe('2026-01-15T12:00:00.000000');
      expect(sa.body.created).toBe(sa.body.updated);
      expect(sa).toMatchObject({ name: 'shapes', body: { active: true }, metadata: { description: 'desc', external_user_id: null } });
    });

    it('get (hydrated and not), list items (unhydrated and hydrated), update', async () => {
      expectServiceAccount((await z.get(`/service_accounts/${sa.id}`)).body, true);
      expectServiceAccount((await z.get(`/service_accounts/${sa.id}`, { hydrate: false })).body, false);
      const list = await z.list('/service_accounts');
      expectServiceAccount(list.body.items[0], false);
      expectServiceAccount((await z.list('/service_accounts', {}, { hydrate: true })).body.items[0], true);
      expectServiceAccount((await z.put(`/service_accounts/${sa.id}`, { description: 'desc' })).body, true);
    });
  });

  describe('APIKeyResponse', () => {
    it('create: hydrated, body.key set, last_login and last_rotated null', () => {
      expectApiKey(key, { hydrated: true, withKey: true });
      expect(key.metadata).toEqual({ description: 'Default API key.', retain_period_minutes: 0, last_login: null, last_rotated: null });
      expect(key.body.service_account.id).toBe(sa.id);
      expect(key.body.service_account.name).toBe('shapes');
    });

    it('get, list and update never carry the key value', async () => {
      const path = `/service_accounts/${sa.id}/api_keys`;
      expectApiKey((await z.get(`${path}/${key.id}`)).body, { hydrated: true, withKey: false });
      expectApiKey((await z.get(`${path}/${key.id}`, { hydrate: false })).body, { hydrated: false, withKey: false });
      expectApiKey((await z.list(path)).body.items[0], { hydrated: false, withKey: false });
      expectApiKey((await z.list(path, {}, { hydrate: true })).body.items[0], { hydrated: true, withKey: false });
      expectApiKey((await z.put(`${path}/${key.id}`, { description: 'Default API key.' })).body, { hydrated: true, withKey: false });
    });

    it('rotate: a new body.key and metadata null; then last_rotated is the rotation time', async () => {
      k.clock.advance(90_000);
      const rot = await z.put(`/service_accounts/${sa.id}/api_keys/${key.id}/rotate`, { retain_period_minutes: 5 });
      expectApiKey(rot.body, { hydrated: false, withKey: true });
      expect(rot.body.body.key).not.toBe(key.body.key);
      expect(rot.body.body.updated).toBe(new Date(T0 + 90_000).toISOString().replace('Z', '000'));
      const got = await z.get(`/service_accounts/${sa.id}/api_keys/${key.id}`);
      expect(got.body.metadata.last_rotated).toBe('2026-01-15T12:01:30.000000');
      expect(got.body.metadata.retain_period_minutes).toBe(5);
    });

    it('the responses that carry a secret are not cacheable', async () => {
      const res = await z.post(`/service_accounts/${sa.id}/api_keys`, { name: 'nocache', description: null });
      expect(res.headers['cache-control']).toBe('no-store');
    });
  });

  it('DELETE answers 200 with the JSON document `null`', async () => {
    const victim = await createServiceAccount(z, 'shapes-delete');
    const vk = await createApiKey(z, victim.id, 'x');
    for (const path of [`/service_accounts/${victim.id}/api_keys/${vk.id}`, `/service_accounts/${victim.id}`]) {
      const res = await z.delete(path);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.text).toBe('null');
    }
  });

  describe('request bodies in every encoding a client uses', () => {
    it('the replayed `data=` request really carries no Content-Type (checked against an echo server)', async () => {
      const seen: http.IncomingHttpHeaders[] = [];
      const echo = http.createServer((req, res) => {
        seen.push(req.headers);
        req.resume();
        req.on('end', () => res.end('null'));
      });
      await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
      try {
        const port = (echo.address() as { port: number }).port;
        await rawRequest(`http://127.0.0.1:${port}`, 'POST', `${API}/service_accounts`, { body: '{"name":"x"}' });
        await rawRequest(`http://127.0.0.1:${port}`, 'DELETE', `${API}/service_accounts/x`);
      } finally {
        echo.close();
      }
      expect(seen[0]!['content-type']).toBeUndefined();
      expect(seen[0]!['content-length']).toBe('12');
      expect(seen[1]!['content-type']).toBeUndefined();
      expect(seen[1]!['content-length']).toBe('0');
    });

    for (const mode of ['data', 'json', 'fetch'] as BodyMode[]) {
      it(`create, update, rotate and delete with ${mode === 'data' ? 'no Content-Type' : mode === 'json' ? 'application/json' : 'text/plain (fetch)'}`, async () => {
        const c = z.withMode(mode);
        const created = await c.post('/service_accounts', { name: `enc-${mode}`, description: null, active: true });
        expect(created.status, created.text).toBe(200);
        expect(created.body.name).toBe(`enc-${mode}`);
        const up = await c.put(`/service_accounts/${created.body.id}`, { name: null, description: 'd', active: null });
        expect(up.status, up.text).toBe(200);
        expect(up.body.metadata.description).toBe('d');
        const kc = await c.post(`/service_accounts/${created.body.id}/api_keys`, { name: 'k', description: null });
        expect(kc.status, kc.text).toBe(200);
        const ku = await c.put(`/service_accounts/${created.body.id}/api_keys/k`, { name: null, description: null, active: false });
        expect(ku.status, ku.text).toBe(200);
        expect(ku.body.body.active).toBe(false);
        const rot = await c.put(`/service_accounts/${created.body.id}/api_keys/k/rotate`, { retain_period_minutes: 0 });
        expect(rot.status, rot.text).toBe(200);
        const del = await c.delete(`/service_accounts/${created.body.id}`);
        expect(del.status, del.text).toBe(200);
      });
    }

    it('the test helper\'s fetch with rawBody works too', async () => {
      const res = await k.http.request('POST', '/api/v1/service_accounts', {
        rawBody: JSON.stringify({ name: 'enc-helper', description: null, active: true }),
        headers: { authorization: `Bearer ${k.admin.token}` },
        token: null,
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.name).toBe('enc-helper');
    });

    it('extra fields are ignored (newer clients send full_name, avatar_url)', async () => {
      const res = await z.post('/service_accounts', { name: 'enc-extra', description: null, active: true, full_name: 'Bot', avatar_url: null, external_user_id: null });
      expect(res.status, res.text).toBe(200);
      expect(Object.keys(res.body)).not.toContain('full_name');
    });
  });
});

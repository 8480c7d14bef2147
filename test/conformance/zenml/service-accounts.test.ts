/**
 * Service accounts as ZenML's store tests exercise them (docs/compat/zenml.md, behaviours 1-8, and
 * the generic CRUD contract at its end), replayed as RestZenStore sends them.
 *
 * Behaviour 3 (deleting an account that owns stacks, components, secrets, ... → 403) does not apply:
 * Keyward has no ZenML resources that a service account could own, so deletion always succeeds.
 * Behaviour 9 (100 parallel creates) is in concurrency-audit.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userIdToUuid } from '../../../src/protocols/zenml/models.js';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { adminClient, createServiceAccount, expectDetail, ids, saNotFound, type ZenClient } from './client.js';

describeEachDb('zenml conformance: service accounts (docs/compat/zenml.md, behaviours 1-8, CRUD contract)', (kind) => {
  let k: TestKeyward;
  let z: ZenClient;

  beforeAll(async () => {
    k = await startKeyward(kind);
    z = adminClient(k);
  });
  afterAll(async () => k?.close());

  it('9.1 create, then get by name and by id; active is true', async () => {
    const sa = await createServiceAccount(z, 'sa-one', 'first');
    expect(sa.name).toBe('sa-one');
    expect(sa.body.active).toBe(true);
    const byName = await z.get('/service_accounts/sa-one');
    const byId = await z.get(`/service_accounts/${sa.id}`);
    expect(byName.status).toBe(200);
    expect(byId.status).toBe(200);
    expect(byName.body.id).toBe(sa.id);
    expect(byId.body.name).toBe('sa-one');
    expect(byId.body.body.active).toBe(true);
  });

  it('9.1 the client sends active: true; `active: false` creates an inactive account', async () => {
    const res = await z.post('/service_accounts', { name: 'sa-born-inactive', description: null, active: false });
    expect(res.status).toBe(200);
    expect(res.body.body.active).toBe(false);
    expect(res.body.metadata.description).toBe('');
  });

  it('9.2 delete by name, then get by name and by id → 404 KeyError', async () => {
    const sa = await createServiceAccount(z, 'sa-del-name');
    const del = await z.delete('/service_accounts/sa-del-name');
    expect(del.status).toBe(200);
    expect(del.text).toBe('null');
    expectDetail(await z.get('/service_accounts/sa-del-name'), 404, 'KeyError', saNotFound('sa-del-name'));
    expectDetail(await z.get(`/service_accounts/${sa.id}`), 404, 'KeyError', saNotFound(sa.id));
  });

  it('9.2 delete by id, then get by name and by id → 404; deleting again → 404', async () => {
    const sa = await createServiceAccount(z, 'sa-del-id');
    expect((await z.delete(`/service_accounts/${sa.id}`)).status).toBe(200);
    expectDetail(await z.get('/service_accounts/sa-del-id'), 404, 'KeyError', saNotFound('sa-del-id'));
    expectDetail(await z.get(`/service_accounts/${sa.id}`), 404, 'KeyError', saNotFound(sa.id));
    expectDetail(await z.delete(`/service_accounts/${sa.id}`), 404, 'KeyError', saNotFound(sa.id));
  });

  it('9.2 deleting an account deletes its API keys with it', async () => {
    const sa = await createServiceAccount(z, 'sa-del-cascade');
    await z.post(`/service_accounts/${sa.id}/api_keys`, { name: 'k1', description: null });
    expect((await z.delete('/service_accounts/sa-del-cascade')).status).toBe(200);
    // Re-created under the same name: a new account with no keys.
    const again = await createServiceAccount(z, 'sa-del-cascade');
    expect(again.id).not.toBe(sa.id);
    const keys = await z.list(`/service_accounts/${again.id}/api_keys`);
    expect(keys.body.total).toBe(0);
  });

  it('9.4 an existing service-account name → 409 EntityExistsError; an existing user name is fine', async () => {
    await createServiceAccount(z, 'sa-dup');
    const dup = await z.post('/service_accounts', { name: 'sa-dup', description: null, active: true });
    expectDetail(dup, 409, 'EntityExistsError', /sa-dup/);
    const list = await z.list('/service_accounts', { name: 'equals:sa-dup' });
    expect(list.body.total).toBe(1);
    // A ZenML user's name in Keyward is its email (GET /users/{id} name); a service account may share it.
    const asUser = await createServiceAccount(z, k.admin.email);
    expect(asUser.name).toBe(k.admin.email);
  });

  it('9.5 description round-trips; GET /users/{sa_id} is the account as a user; /users/{sa_name} → 404', async () => {
    const sa = await createServiceAccount(z, 'sa-as-user', 'Runs the nightly pipelines.');
    const got = await z.get(`/service_accounts/${sa.id}`);
    expect(got.body.metadata.description).toBe('Runs the nightly pipelines.');

    const u = await z.get(`/users/${sa.id}`);
    expect(u.status, u.text).toBe(200);
    expect(u.body.id).toBe(sa.id);
    expect(u.body.name).toBe('sa-as-user');
    expect(u.body.body.is_service_account).toBe(true);
    expect(u.body.body.full_name).toBe('');
    expect(u.body.body.email_opted_in).toBe(false);
    expect(u.body.body.is_admin).toBe(false);
    expect(u.body.body.email ?? null).toBeNull();
    expect(u.body.body.activation_token ?? null).toBeNull();

    const byName = await z.get('/users/sa-as-user');
    expectDetail(byName, 404, 'KeyError');
  });

  it('9.5 GET /users/{id} of a real user is that user, not a service account', async () => {
    const uuid = userIdToUuid(k.admin.userId);
    const u = await z.get(`/users/${uuid}`);
    expect(u.status, u.text).toBe(200);
    expect(u.body.id).toBe(uuid);
    expect(u.body.body.is_service_account).toBe(false);
    expectDetail(await z.get(`/users/${randomUUID()}`), 404, 'KeyError');
    // Only service accounts match on /service_accounts, even by UUID.
    expectDetail(await z.get(`/service_accounts/${uuid}`), 404, 'KeyError', saNotFound(uuid));
  });

  it('9.6 list: size=1000 holds the created ids; name= and id= give exactly the account; active=True holds both; users never appear', async () => {
    const a = await createServiceAccount(z, 'sa-list-a');
    const b = await createServiceAccount(z, 'sa-list-b');
    const all = await z.list('/service_accounts', {}, { size: 1000 });
    expect(all.status).toBe(200);
    expect(ids(all.body)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(ids(all.body)).not.toContain(userIdToUuid(k.admin.userId));
    expect(all.body.items.every((i: any) => !('is_service_account' in i.body))).toBe(true);

    const byName = await z.list('/service_accounts', { name: 'sa-list-a' });
    expect(byName.body.total).toBe(1);
    expect(ids(byName.body)).toEqual([a.id]);
    const byId = await z.list('/service_accounts', { id: b.id });
    expect(byId.body.total).toBe(1);
    expect(ids(byId.body)).toEqual([b.id]);

    const active = await z.list('/service_accounts', { active: true }, { size: 1000 });
    expect(ids(active.body)).toEqual(expect.arrayContaining([a.id, b.id]));
  });

  it('9.7 rename by name and by id: the old name → 404, the new one resolves', async () => {
    const sa = await createServiceAccount(z, 'sa-rename-1');
    const r1 = await z.put('/service_accounts/sa-rename-1', { name: 'sa-rename-2' });
    expect(r1.status, r1.text).toBe(200);
    expect(r1.body.name).toBe('sa-rename-2');
    expectDetail(await z.get('/service_accounts/sa-rename-1'), 404, 'KeyError', saNotFound('sa-rename-1'));
    expect((await z.get('/service_accounts/sa-rename-2')).body.id).toBe(sa.id);

    const r2 = await z.put(`/service_accounts/${sa.id}`, { name: 'sa-rename-3' });
    expect(r2.body.name).toBe('sa-rename-3');
    expectDetail(await z.get('/service_accounts/sa-rename-2'), 404, 'KeyError');
    expect((await z.get('/service_accounts/sa-rename-3')).body.id).toBe(sa.id);
  });

  it("9.7 rename onto another account's name → 409, name unchanged; onto a user's name → OK", async () => {
    const a = await createServiceAccount(z, 'sa-taken');
    const b = await createServiceAccount(z, 'sa-mover');
    expectDetail(await z.put('/service_accounts/sa-mover', { name: 'sa-taken' }), 409, 'EntityExistsError');
    expectDetail(await z.put(`/service_accounts/${b.id}`, { name: 'sa-taken' }), 409, 'EntityExistsError');
    expect((await z.get(`/service_accounts/${b.id}`)).body.name).toBe('sa-mover');
    expect((await z.get('/service_accounts/sa-taken')).body.id).toBe(a.id);

    const userName = `ops+${kind}@example.com`;
    const created = await k.http.post(`/v1/accounts/${k.admin.accountId}/users`, { email: userName, name: 'Ops' });
    expect(created.status).toBe(201);
    const r = await z.put(`/service_accounts/${b.id}`, { name: userName });
    expect(r.status, r.text).toBe(200);
    expect(r.body.name).toBe(userName);
  });

  it('9.8 deactivate and reactivate by name and by id; description update round-trips', async () => {
    const sa = await createServiceAccount(z, 'sa-toggle', 'before');
    const off = await z.put('/service_accounts/sa-toggle', { active: false });
    expect(off.body.body.active).toBe(false);
    expect((await z.get(`/service_accounts/${sa.id}`)).body.body.active).toBe(false);
    const on = await z.put(`/service_accounts/${sa.id}`, { active: true });
    expect(on.body.body.active).toBe(true);
    expect((await z.get('/service_accounts/sa-toggle')).body.body.active).toBe(true);

    const d = await z.put('/service_accounts/sa-toggle', { description: 'after' });
    expect(d.body.metadata.description).toBe('after');
    expect((await z.get('/service_accounts/sa-toggle')).body.metadata.description).toBe('after');
    expect(d.body.name).toBe('sa-toggle');
    expect(d.body.body.active).toBe(true);
  });

  it('updates: explicit nulls mean "unchanged" (the client\'s {"name":null,"description":null,"active":false})', async () => {
    await createServiceAccount(z, 'sa-nulls', 'kept');
    const res = await z.put('/service_accounts/sa-nulls', { name: null, description: null, active: false });
    expect(res.status, res.text).toBe(200);
    expect(res.body.name).toBe('sa-nulls');
    expect(res.body.metadata.description).toBe('kept');
    expect(res.body.body.active).toBe(false);
  });

  it('updates bump `updated` and keep `created`', async () => {
    const sa = await createServiceAccount(z, 'sa-updated');
    k.clock.advance(5_000);
    const res = await z.put(`/service_accounts/${sa.id}`, { description: 'x' });
    expect(res.body.body.created).toBe(sa.body.created);
    expect(res.body.body.updated > sa.body.updated).toBe(true);
  });

  describe('generic CRUD contract (spec 9, test_basic_crud_for_entity)', () => {
    it('create and update return hydrated models', async () => {
      const sa = await createServiceAccount(z, 'crud-sa', 'd');
      expect(sa.metadata).not.toBeNull();
      expect(sa.metadata.description).toBe('d');
      const up = await z.put(`/service_accounts/${sa.id}`, { description: 'e' });
      expect(up.body.metadata).not.toBeNull();
      expect(up.body.metadata.description).toBe('e');
    });

    it('list items are unhydrated unless hydrate=True', async () => {
      const plain = await z.list('/service_accounts', { name: 'equals:crud-sa' });
      expect(plain.body.items).toHaveLength(1);
      expect(plain.body.items[0].metadata).toBeNull();
      const hydrated = await z.list('/service_accounts', { name: 'equals:crud-sa' }, { hydrate: true });
      expect(hydrated.body.items[0].metadata).toEqual({ description: 'e', external_user_id: null });
      // Without the parameter at all (raw callers), list defaults to unhydrated.
      const bare = await z.request('GET', '/service_accounts', { params: { name: 'crud-sa' } });
      expect(bare.body.items[0].metadata).toBeNull();
    });

    it('get hydrates unless hydrate=False', async () => {
      expect((await z.get('/service_accounts/crud-sa')).body.metadata).not.toBeNull();
      expect((await z.get('/service_accounts/crud-sa', {})).body.metadata).not.toBeNull();
      expect((await z.get('/service_accounts/crud-sa', { hydrate: false })).body.metadata).toBeNull();
    });

    it('id= and name= filters give total 1', async () => {
      const sa = (await z.get('/service_accounts/crud-sa')).body;
      expect((await z.list('/service_accounts', { id: sa.id })).body.total).toBe(1);
      expect((await z.list('/service_accounts', { name: 'crud-sa' })).body.total).toBe(1);
    });

    it('get, update and delete of a random UUID → 404 KeyError with the repr-quoted message', async () => {
      const id = randomUUID();
      expectDetail(await z.get(`/service_accounts/${id}`), 404, 'KeyError', saNotFound(id));
      expectDetail(await z.put(`/service_accounts/${id}`, { description: 'x' }), 404, 'KeyError', saNotFound(id));
      expectDetail(await z.delete(`/service_accounts/${id}`), 404, 'KeyError', saNotFound(id));
    });
  });
});

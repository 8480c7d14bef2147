/**
 * API keys as ZenML's store tests exercise them (docs/compat/zenml.md, behaviours 10-16, and the
 * generic CRUD contract), replayed as RestZenStore and `zenml service-account api-key ...` send them.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { adminClient, createApiKey, createServiceAccount, decodeKey, expectDetail, ids, keyNotFound, saNotFound, type ZenClient } from './client.js';

describeEachDb('zenml conformance: API keys (docs/compat/zenml.md, behaviours 10-16, CRUD contract)', (kind) => {
  let k: TestKeyward;
  let z: ZenClient;
  let sa: any;
  const keys = (saId: string = sa.id) => `/service_accounts/${saId}/api_keys`;

  beforeAll(async () => {
    // ZenML has no per-account key limit; these stories make more than Keyward's default 5.
    k = await startKeyward(kind, { config: { maxApiKeysPerParent: 100 } });
    z = adminClient(k);
    sa = await createServiceAccount(z, `keys-${kind}`);
  });
  afterAll(async () => k?.close());

  it('9.10 create: name, description, service_account.id, a key value, active; last_login and last_rotated null', async () => {
    const key = await createApiKey(z, sa.id, 'k-create', 'made by the test');
    expect(key.name).toBe('k-create');
    expect(key.metadata.description).toBe('made by the test');
    expect(key.body.service_account.id).toBe(sa.id);
    expect(key.body.service_account.name).toBe(sa.name);
    expect(key.body.key).toMatch(/^ZENKEY_/);
    expect(key.body.active).toBe(true);
    expect(key.metadata.last_login).toBeNull();
    expect(key.metadata.last_rotated).toBeNull();
    expect(key.metadata.retain_period_minutes).toBe(0);
    expect(decodeKey(key.body.key).id).toBe(key.id);
  });

  it('9.10 GET by id and by name → the same id, key null', async () => {
    const byName = await z.get(`${keys()}/k-create`);
    expect(byName.status).toBe(200);
    const byId = await z.get(`${keys()}/${byName.body.id}`);
    expect(byName.body.id).toBe(byId.body.id);
    expect(byId.body.body.key).toBeNull();
    expect(byName.body.body.key).toBeNull();
  });

  it('9.10 a description left out (the CLI without -d) is empty', async () => {
    const res = await z.post(keys(), { name: 'k-nodesc' });
    expect(res.status).toBe(200);
    expect(res.body.metadata.description).toBe('');
  });

  it('9.11 delete by name and by id → GET by id and name 404; deleting again → 404', async () => {
    const a = await createApiKey(z, sa.id, 'k-del-a');
    const b = await createApiKey(z, sa.id, 'k-del-b');
    const delA = await z.delete(`${keys()}/k-del-a`);
    expect(delA.status).toBe(200);
    expect(delA.text).toBe('null');
    const delB = await z.delete(`${keys()}/${b.id}`);
    expect(delB.status).toBe(200);
    for (const [key, name] of [
      [a, 'k-del-a'],
      [b, 'k-del-b'],
    ] as const) {
      expectDetail(await z.get(`${keys()}/${key.id}`), 404, 'KeyError', keyNotFound(key.id, sa.id));
      expectDetail(await z.get(`${keys()}/${name}`), 404, 'KeyError', keyNotFound(name, sa.id));
    }
    expectDetail(await z.delete(`${keys()}/k-del-a`), 404, 'KeyError', keyNotFound('k-del-a', sa.id));
    expectDetail(await z.delete(`${keys()}/${b.id}`), 404, 'KeyError', keyNotFound(b.id, sa.id));
  });

  it('9.12 a duplicate key name in the same account → 409 with ZenML\'s message; in another account → OK', async () => {
    await createApiKey(z, sa.id, 'k-dup');
    const dup = await z.post(keys(), { name: 'k-dup', description: null });
    expectDetail(
      dup,
      409,
      'EntityExistsError',
      `Unable to register API key with name 'k-dup': Found an existing API key with the same name configured for the same '${sa.name}' service account.`,
    );
    const other = await createServiceAccount(z, `keys-other-${kind}`);
    const ok = await z.post(keys(other.id), { name: 'k-dup', description: null });
    expect(ok.status).toBe(200);
  });

  it('9.13 list: exactly the account\'s keys (1, then 2); name= and id= return exactly one', async () => {
    const own = await createServiceAccount(z, `keys-list-${kind}`);
    const k1 = await createApiKey(z, own.id, 'first');
    let page = await z.list(keys(own.id));
    expect(page.body.total).toBe(1);
    expect(ids(page.body)).toEqual([k1.id]);
    const k2 = await createApiKey(z, own.id, 'second');
    page = await z.list(keys(own.id));
    expect(page.body.total).toBe(2);
    expect(ids(page.body).sort()).toEqual([k1.id, k2.id].sort());
    expect(page.body.items.every((i: any) => i.body.key === null)).toBe(true);
    expect(page.body.items.every((i: any) => i.body.service_account.id === own.id)).toBe(true);

    const byName = await z.list(keys(own.id), { name: 'second' });
    expect(byName.body.total).toBe(1);
    expect(ids(byName.body)).toEqual([k2.id]);
    const byId = await z.list(keys(own.id), { id: k1.id });
    expect(byId.body.total).toBe(1);
    expect(ids(byId.body)).toEqual([k1.id]);
    // `service_account` is overwritten with the path id: another account's id filters nothing in or out.
    const scoped = await z.list(keys(own.id), { service_account: sa.id });
    expect(scoped.body.total).toBe(2);
  });

  it('9.14 rename by name and by id; old names 404; onto an existing key name → 409 (by name and by id)', async () => {
    const key = await createApiKey(z, sa.id, 'k-ren-1');
    await createApiKey(z, sa.id, 'k-ren-taken');
    const r1 = await z.put(`${keys()}/k-ren-1`, { name: 'k-ren-2' });
    expect(r1.status, r1.text).toBe(200);
    expect(r1.body.name).toBe('k-ren-2');
    expect(r1.body.body.key).toBeNull();
    expectDetail(await z.get(`${keys()}/k-ren-1`), 404, 'KeyError', keyNotFound('k-ren-1', sa.id));
    const r2 = await z.put(`${keys()}/${key.id}`, { name: 'k-ren-3' });
    expect(r2.body.name).toBe('k-ren-3');
    expectDetail(await z.get(`${keys()}/k-ren-2`), 404, 'KeyError');
    expect((await z.get(`${keys()}/k-ren-3`)).body.id).toBe(key.id);

    const conflict = `Unable to update API key with name 'k-ren-taken': Found an existing API key with the same name configured for the same '${sa.name}' service account.`;
    expectDetail(await z.put(`${keys()}/k-ren-3`, { name: 'k-ren-taken' }), 409, 'EntityExistsError', conflict);
    expectDetail(await z.put(`${keys()}/${key.id}`, { name: 'k-ren-taken' }), 409, 'EntityExistsError', conflict);
    expect((await z.get(`${keys()}/${key.id}`)).body.name).toBe('k-ren-3');
  });

  it('9.15 deactivate and reactivate with the client\'s explicit-null body; name and description unchanged', async () => {
    await createApiKey(z, sa.id, 'k-toggle', 'stays');
    const off = await z.put(`${keys()}/k-toggle`, { name: null, description: null, active: false });
    expect(off.status, off.text).toBe(200);
    expect(off.body.body.active).toBe(false);
    expect(off.body.name).toBe('k-toggle');
    expect(off.body.metadata.description).toBe('stays');
    const on = await z.put(`${keys()}/k-toggle`, { name: null, description: null, active: true });
    expect(on.body.body.active).toBe(true);
    expect(on.body.name).toBe('k-toggle');
    expect(on.body.metadata.description).toBe('stays');
  });

  it('9.15 a description update persists', async () => {
    const res = await z.put(`${keys()}/k-toggle`, { description: 'changed' });
    expect(res.body.metadata.description).toBe('changed');
    expect((await z.get(`${keys()}/k-toggle`)).body.metadata.description).toBe('changed');
  });

  it('9.16 rotate with `{}`: same name, a new key ≠ the old one, active, last_login null, last_rotated set', async () => {
    const key = await createApiKey(z, sa.id, 'k-rot');
    k.clock.advance(1_000);
    const rot = await z.put(`${keys()}/k-rot/rotate`, {});
    expect(rot.status, rot.text).toBe(200);
    expect(rot.body.name).toBe('k-rot');
    expect(rot.body.id).toBe(key.id);
    expect(rot.body.body.key).toMatch(/^ZENKEY_/);
    expect(rot.body.body.key).not.toBe(key.body.key);
    expect(decodeKey(rot.body.body.key).id).toBe(key.id);
    expect(rot.body.body.active).toBe(true);
    expect(rot.body.metadata).toBeNull();
    // The client re-GETs to hydrate (docs/compat/zenml.md).
    const got = await z.get(`${keys()}/${key.id}`);
    expect(got.body.metadata.last_login).toBeNull();
    expect(got.body.metadata.last_rotated).not.toBeNull();
    expect(got.body.metadata.retain_period_minutes).toBe(0);
    expect(got.body.body.key).toBeNull();
  });

  it('9.16 rotate by id with no body at all, and with the client\'s {"retain_period_minutes": N}', async () => {
    const key = await createApiKey(z, sa.id, 'k-rot-2');
    const bare = await z.put(`${keys()}/${key.id}/rotate`);
    expect(bare.status, bare.text).toBe(200);
    const withRetain = await z.put(`${keys()}/${key.id}/rotate`, { retain_period_minutes: 30 });
    expect(withRetain.status).toBe(200);
    expect((await z.get(`${keys()}/${key.id}`)).body.metadata.retain_period_minutes).toBe(30);
  });

  it('rotation leaves `active` as it was: an inactive key stays inactive', async () => {
    await createApiKey(z, sa.id, 'k-rot-off');
    await z.put(`${keys()}/k-rot-off`, { name: null, description: null, active: false });
    const rot = await z.put(`${keys()}/k-rot-off/rotate`, {});
    expect(rot.status).toBe(200);
    expect(rot.body.body.active).toBe(false);
    expect((await z.get(`${keys()}/k-rot-off`)).body.body.active).toBe(false);
  });

  describe('generic CRUD contract (spec 9, test_basic_crud_for_entity)', () => {
    it('create and update return hydrated models', async () => {
      const key = await createApiKey(z, sa.id, 'crud-key', 'd');
      expect(key.metadata).not.toBeNull();
      const up = await z.put(`${keys()}/${key.id}`, { description: 'e' });
      expect(up.body.metadata).not.toBeNull();
      expect(up.body.metadata.description).toBe('e');
    });

    it('list items are unhydrated unless hydrate=True', async () => {
      const plain = await z.list(keys(), { name: 'equals:crud-key' });
      expect(plain.body.items).toHaveLength(1);
      expect(plain.body.items[0].metadata).toBeNull();
      const hydrated = await z.list(keys(), { name: 'equals:crud-key' }, { hydrate: true });
      expect(hydrated.body.items[0].metadata).toEqual({ description: 'e', retain_period_minutes: 0, last_login: null, last_rotated: null });
    });

    it('get hydrates unless hydrate=False', async () => {
      expect((await z.get(`${keys()}/crud-key`)).body.metadata).not.toBeNull();
      expect((await z.get(`${keys()}/crud-key`, {})).body.metadata).not.toBeNull();
      expect((await z.get(`${keys()}/crud-key`, { hydrate: false })).body.metadata).toBeNull();
    });

    it('id= and name= filters give total 1', async () => {
      const key = (await z.get(`${keys()}/crud-key`)).body;
      expect((await z.list(keys(), { id: key.id })).body.total).toBe(1);
      expect((await z.list(keys(), { name: 'crud-key' })).body.total).toBe(1);
    });

    it('get, update, rotate and delete of a random UUID → 404 KeyError with the repr-quoted message', async () => {
      const id = randomUUID();
      expectDetail(await z.get(`${keys()}/${id}`), 404, 'KeyError', keyNotFound(id, sa.id));
      expectDetail(await z.put(`${keys()}/${id}`, { description: 'x' }), 404, 'KeyError', keyNotFound(id, sa.id));
      expectDetail(await z.put(`${keys()}/${id}/rotate`, {}), 404, 'KeyError', keyNotFound(id, sa.id));
      expectDetail(await z.delete(`${keys()}/${id}`), 404, 'KeyError', keyNotFound(id, sa.id));
    });

    it('every key endpoint of a missing service account → 404 for the account first', async () => {
      const id = randomUUID();
      expectDetail(await z.post(keys(id), { name: 'x', description: null }), 404, 'KeyError', saNotFound(id));
      expectDetail(await z.list(keys(id)), 404, 'KeyError', saNotFound(id));
      expectDetail(await z.get(`${keys(id)}/x`), 404, 'KeyError', saNotFound(id));
      expectDetail(await z.put(`${keys(id)}/x`, { active: false }), 404, 'KeyError', saNotFound(id));
      expectDetail(await z.put(`${keys(id)}/x/rotate`, {}), 404, 'KeyError', saNotFound(id));
      expectDetail(await z.delete(`${keys(id)}/x`), 404, 'KeyError', saNotFound(id));
    });

    it("a key is found only under its own account", async () => {
      const other = await createServiceAccount(z, `keys-foreign-${kind}`);
      const key = (await z.get(`${keys()}/crud-key`)).body;
      expectDetail(await z.get(`${keys(other.id)}/${key.id}`), 404, 'KeyError', keyNotFound(key.id, other.id));
      expectDetail(await z.delete(`${keys(other.id)}/${key.id}`), 404, 'KeyError', keyNotFound(key.id, other.id));
      expect((await z.get(`${keys()}/${key.id}`)).status).toBe(200);
    });
  });
});

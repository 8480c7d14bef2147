/**
 * Token counts (migration 0011): the totals token lists answer with are kept in `token_counts` by
 * triggers. They must equal a fresh count of the tokens after every kind of change, cascades and
 * concurrent creates included, and the pages read with them (from either end) must be the pages an
 * exact count and a forward read give.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { NotFoundError } from '../../src/domain/errors.js';
import type { ServiceAccount } from '../../src/domain/model.js';
import { makeScope } from '../../src/domain/scope.js';
import type { SortOrder } from '../../src/domain/paging.js';
import type { KeyOwner } from '../../src/services/apiKeys.js';
import { deleteExpiredTokens, insertToken, listTokens, type TokenFilter } from '../../src/store/tokens.js';
import { deleteUser } from '../../src/store/users.js';
import { describeEachDb } from '../helpers/databases.js';
import { DAY, HOUR, addServiceAccount, addUser, openServiceWorld, saOwner, userOwner, type ServiceWorld } from '../helpers/services.js';

type Counts = Record<string, number>;
const rowKey = (r: { account_id: string; org_id: string; project_id: string; api_key_type: string; parent_identifier: string; api_key_identifier: string }) =>
  [r.account_id, r.org_id, r.project_id, r.api_key_type, r.parent_identifier, r.api_key_identifier].join('|');

/** What token_counts holds. */
async function kept(w: ServiceWorld): Promise<Counts> {
  const rows = await w.ts.store.db.selectFrom('token_counts').selectAll().execute();
  return Object.fromEntries(rows.map((r) => [rowKey(r), Number(r.n)]));
}

/** The same counts, made now from the tokens themselves (scope and type, parent, key). */
async function recounted(w: ServiceWorld): Promise<Counts> {
  const tokens = await w.ts.store.db.selectFrom('tokens').select(['account_id', 'org_id', 'project_id', 'api_key_type', 'parent_identifier', 'api_key_identifier']).execute();
  const out: Counts = {};
  for (const t of tokens) {
    for (const k of [
      rowKey({ ...t, parent_identifier: '', api_key_identifier: '' }),
      rowKey({ ...t, api_key_identifier: '' }),
      rowKey(t),
    ]) {
      out[k] = (out[k] ?? 0) + 1;
    }
  }
  return out;
}

async function expectExact(w: ServiceWorld): Promise<Counts> {
  const now = await recounted(w);
  expect(await kept(w)).toEqual(now);
  return now;
}

describeEachDb('token counts', (kind) => {
  let w: ServiceWorld;
  let sa: ServiceAccount;
  let owner: KeyOwner;
  beforeEach(async () => {
    w = await openServiceWorld(kind, { limits: { tokensPerApiKey: 100, apiKeysPerParent: 100 } });
    sa = await addServiceAccount(w, 'deployer');
    owner = saOwner(sa);
    await w.services.apiKeys.create(w.admin, owner, { identifier: 'ci', name: 'ci', defaultTimeToExpireToken: 2 * DAY });
    await w.services.apiKeys.create(w.admin, owner, { identifier: 'cd', name: 'cd', defaultTimeToExpireToken: 2 * DAY });
  });
  afterEach(async () => w.close());

  const create = (apiKeyIdentifier: string, identifier: string, o: KeyOwner = owner, caller = w.admin) =>
    w.services.tokens.create(caller, o, { identifier, name: identifier, apiKeyIdentifier });
  const total = async (f: Omit<TokenFilter, 'scope' | 'apiKeyType'>, scope = w.accountScope) =>
    (await listTokens(w.ts.store.db, { scope, apiKeyType: 'SERVICE_ACCOUNT', ...f }, { offset: 0, limit: 1 })).total;

  it('counts what the provisioning made, then every create, rotation, delete and expiry sweep', async () => {
    // The provisioned admin's personal token: one row per level.
    expect(Object.values(await expectExact(w))).toEqual([1, 1, 1]);

    for (const id of ['a', 'b', 'c']) await create('ci', id);
    await create('cd', 'd');
    await expectExact(w);
    expect(await total({})).toBe(4);
    expect(await total({ parentIdentifier: 'deployer' })).toBe(4);
    expect(await total({ parentIdentifier: 'deployer', apiKeyIdentifier: 'ci' })).toBe(3);
    expect(await total({ parentIdentifier: 'deployer', apiKeyIdentifier: 'cd' })).toBe(1);

    // Rotation keeps the old token (renamed, ending later) and adds the new one.
    w.clock.advance(HOUR);
    await w.services.tokens.rotate(w.admin, owner, 'ci', 'a', w.clock.now() + HOUR);
    await expectExact(w);
    expect(await total({ parentIdentifier: 'deployer', apiKeyIdentifier: 'ci' })).toBe(4);

    await w.services.tokens.delete(w.admin, owner, 'ci', 'b');
    await w.services.tokens.delete(w.admin, owner, 'cd', 'd');
    const after = await expectExact(w);
    expect(await total({ parentIdentifier: 'deployer', apiKeyIdentifier: 'ci' })).toBe(3);
    // A key without tokens has no row left (rows at zero are removed) and counts 0.
    expect(Object.keys(after).some((k) => k.endsWith('|deployer|cd'))).toBe(false);
    expect(await total({ parentIdentifier: 'deployer', apiKeyIdentifier: 'cd' })).toBe(0);

    // The sweep deletes the rotated-out token (ended an hour later) and, later, the others.
    w.clock.advance(2 * HOUR);
    expect(await deleteExpiredTokens(w.ts.store.db, w.clock.now())).toHaveLength(1);
    await expectExact(w);
    expect(await total({})).toBe(2);
    w.clock.advance(3 * DAY);
    await deleteExpiredTokens(w.ts.store.db, w.clock.now());
    expect(Object.keys(await expectExact(w)).every((k) => k.includes('|USER|'))).toBe(true); // the admin's 30-day token
    expect(await total({})).toBe(0);
  });

  it('follows the deletes that cascade: a key, a service account, a user, a project, an organization, the account', async () => {
    await w.services.scopes.createOrganization(w.admin, w.accountId, { identifier: 'org1', name: 'org1' });
    await w.services.scopes.createProject(w.admin, w.accountId, 'org1', { identifier: 'proj1', name: 'proj1' });
    const orgSa = saOwner(await addServiceAccount(w, 'orgsa', makeScope(w.accountId, 'org1')));
    const projSa = saOwner(await addServiceAccount(w, 'projsa', makeScope(w.accountId, 'org1', 'proj1')));
    const { user, caller: dev } = await addUser(w, 'dev@acme.test');
    const mine = userOwner(w, user.id);
    for (const o of [orgSa, projSa]) await w.services.apiKeys.create(w.admin, o, { identifier: 'k', name: 'k' });
    await w.services.apiKeys.create(dev, mine, { identifier: 'pk', name: 'pk' });
    for (const id of ['a', 'b']) {
      await create('ci', id);
      await create('cd', id);
      await create('k', id, orgSa);
      await create('k', id, projSa);
      await create('pk', id, mine, dev);
    }
    await expectExact(w);

    await w.services.apiKeys.delete(w.admin, owner, 'cd');
    await expectExact(w);
    expect(await total({ parentIdentifier: 'deployer' })).toBe(2);

    await w.services.serviceAccounts.delete(w.admin, w.accountScope, 'deployer');
    await expectExact(w);
    expect(await total({})).toBe(0);

    await deleteUser(w.ts.store.db, user.id);
    await expectExact(w);

    await w.services.scopes.deleteProject(w.admin, w.accountId, 'org1', 'proj1');
    await expectExact(w);
    expect(await total({}, makeScope(w.accountId, 'org1', 'proj1'))).toBe(0);
    expect(await total({}, makeScope(w.accountId, 'org1'))).toBe(2);

    await w.services.scopes.deleteOrganization(w.admin, w.accountId, 'org1');
    const left = await expectExact(w);
    expect(Object.keys(left)).toHaveLength(3); // the admin's personal token only

    await w.ts.store.db.deleteFrom('accounts').where('id', '=', w.accountId).execute();
    expect(await expectExact(w)).toEqual({});
  });

  it('serves the api key list its token counts', async () => {
    for (const id of ['a', 'b', 'c']) await create('ci', id);
    const page = await w.services.apiKeys.list(w.admin, owner, { offset: 0, limit: 10 });
    expect(Object.fromEntries(page.items.map((k) => [k.identifier, k.tokensCount]))).toEqual({ ci: 3, cd: 0 });
    expect((await w.services.apiKeys.get(w.admin, owner, 'ci')).tokensCount).toBe(3);
  });

  it('reads every page, from the start or from the end, as a forward read with an exact count does', async () => {
    // 9 tokens over two keys; some share an update time, so the id decides their order.
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) {
      if (i % 3 !== 0) w.clock.advance(1000);
      ids.push((await create(i % 2 === 0 ? 'ci' : 'cd', `t${i}`)).token.id);
    }
    const sorts: Array<SortOrder[] | undefined> = [
      undefined,
      [{ field: 'createdAt', desc: true }],
      [{ field: 'updatedAt', desc: false }],
      [{ field: 'name', desc: false }],
      [{ field: 'identifier', desc: true }],
    ];
    const filters: Array<Omit<TokenFilter, 'scope' | 'apiKeyType'>> = [{}, { parentIdentifier: 'deployer' }, { parentIdentifier: 'deployer', apiKeyIdentifier: 'ci' }];
    const db = w.ts.store.db;
    for (const f of filters) {
      const filter: TokenFilter = { scope: w.accountScope, apiKeyType: 'SERVICE_ACCOUNT', ...f };
      for (const sort of sorts) {
        // The reference: an exact count(*) and one forward read (a literal search for the shared
        // name prefix narrows nothing, but takes the counted path out).
        const all = await listTokens(db, filter, { offset: 0, limit: 100, sort, search: 't' });
        expect(all.total).toBe(f.apiKeyIdentifier ? 5 : 9);
        for (const limit of [1, 4]) {
          for (let offset = 0; offset <= all.total + 1; offset++) {
            const page = await listTokens(db, filter, { offset, limit, sort });
            expect({ offset, limit, sort, total: page.total, ids: page.items.map((t) => t.id) }).toEqual({
              offset,
              limit,
              sort,
              total: all.total,
              ids: all.items.slice(offset, offset + limit).map((t) => t.id),
            });
          }
        }
      }
    }
    expect(new Set(ids).size).toBe(9);
  });

  it('reads a page that skips a thousand rows or more by its ids first, from either end, the same', async () => {
    // 2,300 tokens of one key written straight to the store (counted by the same triggers); many share
    // an update time, so the id decides their order.
    const key = await w.services.apiKeys.get(w.admin, owner, 'ci');
    const base = w.clock.now();
    await w.ts.store.transaction(async (tx) => {
      for (let i = 0; i < 2300; i++) {
        const t = {
          id: `${String(i).padStart(6, '0')}${'f'.repeat(18)}`.slice(0, 24),
          apiKeyId: key.id, scope: w.accountScope, identifier: `b${i}`, name: `b${i}`, description: '', tags: {}, apiKeyType: 'SERVICE_ACCOUNT' as const,
          parentIdentifier: 'deployer', apiKeyIdentifier: 'ci', format: 'harness_ng' as const, validFrom: base, validTo: base + DAY, scheduledExpireTime: null,
          rotatedAt: null, lastUsedAt: null, lastUsedIp: null, lastUsedUserAgent: null, createdAt: base + (i % 7), updatedAt: base + ((i * 7919) % 400),
        };
        await insertToken(tx, t, `${'0'.repeat(58)}${String(i).padStart(6, '0')}`);
      }
    });
    await expectExact(w);
    const filter: TokenFilter = { scope: w.accountScope, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'deployer' };
    for (const sort of [undefined, [{ field: 'createdAt' as const, desc: true }]]) {
      const all = await listTokens(w.ts.store.db, filter, { offset: 0, limit: 5000, sort, search: 'b' });
      expect(all.total).toBe(2300);
      // 1,000 and 1,001 forward (ids first); 1,200 and 2,200 from the end (1,000 and 0 skipped there).
      for (const offset of [999, 1000, 1001, 1150, 1200, 2200, 2299, 2300]) {
        const page = await listTokens(w.ts.store.db, filter, { offset, limit: 100, sort });
        expect({ offset, total: page.total, ids: page.items.map((t) => t.id) }).toEqual({ offset, total: 2300, ids: all.items.slice(offset, offset + 100).map((t) => t.id) });
        expect(page.items.map((t) => t.identifier)).toEqual(all.items.slice(offset, offset + 100).map((t) => t.identifier));
      }
    }
  });

  if (kind === 'postgres') {
    it('stays exact under concurrent creates and deletes on PostgreSQL', async () => {
      const keys = ['ci', 'cd', 'k3'];
      await w.services.apiKeys.create(w.admin, owner, { identifier: 'k3', name: 'k3' });
      for (const k of keys) await create(k, 'old');
      // 3 rounds of 24 creates and 3 deletes at once, across three keys of one parent.
      for (let round = 0; round < 3; round++) {
        const results = await Promise.allSettled([
          ...Array.from({ length: 24 }, (_, i) => create(keys[i % 3]!, `r${round}_${i}`)),
          ...(round === 0 ? keys.map((k) => w.services.tokens.delete(w.admin, owner, k, 'old')) : []),
        ]);
        const failed = results.filter((r) => r.status === 'rejected');
        expect(failed).toEqual([]);
        await expectExact(w);
      }
      expect(await total({ parentIdentifier: 'deployer' })).toBe(72);
      for (const k of keys) expect(await total({ parentIdentifier: 'deployer', apiKeyIdentifier: k })).toBe(24);
    });

    it('stays exact when creates race the delete of their key and service account (no deadlock, only not-found)', async () => {
      for (let i = 0; i < 5; i++) {
        const o = saOwner(await addServiceAccount(w, `racer${i}`));
        for (const k of ['k1', 'k2']) await w.services.apiKeys.create(w.admin, o, { identifier: k, name: k });
        await create('k1', 'pre', o);
        const results = await Promise.allSettled([
          ...Array.from({ length: 6 }, (_, j) => create(j % 2 ? 'k1' : 'k2', `t${j}`, o)),
          w.services.serviceAccounts.delete(w.admin, w.accountScope, `racer${i}`),
          w.services.apiKeys.delete(w.admin, o, 'k2'),
        ]);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(NotFoundError);
        await expectExact(w);
        expect(await total({ parentIdentifier: `racer${i}` })).toBe(0);
      }
    });
  }
});

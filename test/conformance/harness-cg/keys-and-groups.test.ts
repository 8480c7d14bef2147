/**
 * One user-group model behind CG GraphQL and NG `/ng/api/user-groups`; a CG key created in GraphQL,
 * read back through CG REST (docs/compat/harness-cg.md), then used as X-Api-Key on NG endpoints: allowed for
 * what its groups' role assignments permit, 403 for the rest, at once when a grant goes, and 401
 * once the key is deleted. CG REST create, update, paged list, get, delete one and delete all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import type { TestKeyward } from '../../helpers/keyward.js';
import { issueUserToken } from '../../helpers/nativeApi.js';
import { cgGroup, gql, grantGroupRole, newAccount, startCg, type Account } from './support.js';

describeEachDb('harness CG: keys, groups and permissions', (kind) => {
  let k: TestKeyward;
  let a: Account;

  /** A user of account `a` with a token and no role. */
  async function userWithToken(_k: TestKeyward, acc: string, email: string) {
    const res = await a.http.post(`/v1/accounts/${acc}/users`, { email });
    expect(res.status, res.text).toBe(201);
    return { id: res.body.id as string, email, token: (await issueUserToken(k, acc, res.body.id)).token };
  }

  beforeAll(async () => {
    k = await startCg(kind);
    a = await newAccount(k);
  });
  afterAll(async () => k?.close());

  it('a group made in CG GraphQL is the group NG lists, and the reverse', async () => {
    const cgId = await cgGroup(a.http, a.acc, 'Platform team');
    const ngList = await a.http.get('/ng/api/user-groups', { query: { accountIdentifier: a.acc, searchTerm: 'platform' } });
    expect(ngList.status, ngList.text).toBe(200);
    expect(ngList.body.data.content).toEqual([expect.objectContaining({ accountIdentifier: a.acc, identifier: 'Platform_team', name: 'Platform team', users: [] })]);

    const alice = await userWithToken(k, a.acc, `alice-${kind}@example.com`);
    const created = await a.http.post('/ng/api/user-groups', { identifier: 'sre', name: 'SRE', description: 'on call', users: [alice.id], tags: { tier: 'one' } }, { query: { accountIdentifier: a.acc } });
    expect(created.status, created.text).toBe(200);
    expect(created.body.data).toEqual({
      accountIdentifier: a.acc, identifier: 'sre', name: 'SRE', users: [alice.id], notificationConfigs: [], isSsoLinked: false, externallyManaged: false,
      description: 'on call', tags: { tier: 'one' }, harnessManaged: false, ssoLinked: false,
    });
    const cgView = await gql(a.http, a.acc, '{ userGroups(limit: 10) { pageInfo { total } nodes { id name description users(limit: 5) { nodes { id email } } } } }');
    const sre = cgView.body.data.userGroups.nodes.find((n: { name: string }) => n.name === 'SRE');
    expect(sre).toEqual({ id: expect.any(String), name: 'SRE', description: 'on call', users: { nodes: [{ id: alice.id, email: alice.email }] } });
    expect(cgView.body.data.userGroups.nodes.map((n: { id: string }) => n.id)).toContain(cgId);

    // CG rename is seen by NG; NG membership change is seen by CG.
    const renamed = await gql(a.http, a.acc, 'mutation($i: UpdateUserGroupInput!) { updateUserGroup(input: $i) { clientMutationId userGroup { id name } } }', { i: { userGroupId: sre.id, name: 'SRE team', clientMutationId: 'r' } });
    expect(renamed.body).toEqual({ data: { updateUserGroup: { clientMutationId: 'r', userGroup: { id: sre.id, name: 'SRE team' } } } });
    expect((await a.http.get('/ng/api/user-groups/sre', { query: { accountIdentifier: a.acc } })).body.data.name).toBe('SRE team');
    const removed = await a.http.delete(`/ng/api/user-groups/sre/member/${alice.id}`, { query: { accountIdentifier: a.acc } });
    expect(removed.body.data.users).toEqual([]);
    expect((await a.http.get(`/ng/api/user-groups/sre/member/${alice.id}`, { query: { accountIdentifier: a.acc } })).body.data).toBe(false);
    await a.http.put(`/ng/api/user-groups/sre/member/${alice.id}`, undefined, { query: { accountIdentifier: a.acc } });
    const byId = await gql(a.http, a.acc, 'query($id: String!) { userGroup(userGroupId: $id) { users(limit: 5) { pageInfo { total } } } }', { id: sre.id });
    expect(byId.body.data.userGroup.users.pageInfo.total).toBe(1);

    // NG update replaces name, description, tags and (when given) members.
    const put = await a.http.put('/ng/api/user-groups', { identifier: 'sre', name: 'SRE', users: [] }, { query: { accountIdentifier: a.acc } });
    expect(put.body.data).toMatchObject({ identifier: 'sre', name: 'SRE', users: [], tags: {} });
    expect(put.body.data.description).toBeUndefined();

    // Names are unique among CG groups; NG keeps Harness NG's rule (identifiers unique).
    const dup = await gql(a.http, a.acc, 'mutation { createUserGroup(input: {name: "Platform team"}) { userGroup { id } } }');
    expect(dup.body.errors[0].message).toContain('already exists');
    const dupNg = await a.http.post('/ng/api/user-groups', { identifier: 'sre', name: 'x' }, { query: { accountIdentifier: a.acc } });
    expect(dupNg.status).toBe(400);
    expect(dupNg.body.code).toBe('DUPLICATE_FIELD');

    const del = await a.http.delete('/ng/api/user-groups/sre', { query: { accountIdentifier: a.acc } });
    expect(del.body.data.identifier).toBe('sre');
    const gone = await gql(a.http, a.acc, 'query($id: String!) { userGroup(userGroupId: $id) { id } }', { id: sre.id });
    expect(gone.body.data.userGroup).toBeNull();
    const cgDel = await gql(a.http, a.acc, 'mutation($i: DeleteUserGroupInput!) { deleteUserGroup(input: $i) { clientMutationId } }', { i: { userGroupId: cgId, clientMutationId: 'd' } });
    expect(cgDel.text).toBe('{"data":{"deleteUserGroup":{"clientMutationId":"d"}}}');
    expect((await a.http.get('/ng/api/user-groups/Platform_team', { query: { accountIdentifier: a.acc } })).status).toBe(404);
  });

  it('NG lists user groups in pages, newest change first by default', async () => {
    for (const id of ['pg_a', 'pg_b', 'pg_c']) {
      k.clock.advance(1000);
      await a.http.post('/ng/api/user-groups', { identifier: id, name: id }, { query: { accountIdentifier: a.acc } });
    }
    const p0 = await a.http.get('/ng/api/user-groups', { query: { accountIdentifier: a.acc, searchTerm: 'pg_', pageSize: 2 } });
    expect(p0.body.data).toMatchObject({ totalItems: 3, totalPages: 2, pageItemCount: 2, pageSize: 2, pageIndex: 0, empty: false });
    expect(p0.body.data.content.map((g: { identifier: string }) => g.identifier)).toEqual(['pg_c', 'pg_b']);
    const p1 = await a.http.get('/ng/api/user-groups', { query: { accountIdentifier: a.acc, searchTerm: 'pg_', pageSize: 2, pageIndex: 1, sortOrders: 'name,ASC' } });
    expect(p1.body.data.content.map((g: { identifier: string }) => g.identifier)).toEqual(['pg_c']);
  });

  it('a CG key made in GraphQL, read back in REST, has exactly its groups\' permissions on NG, then 401 once deleted', async () => {
    const viewers = await cgGroup(a.http, a.acc, 'SA viewers');
    await grantGroupRole(k, a.acc, viewers, '_account_viewer');
    const created = await gql(a.http, a.acc, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { uuid name } }', { i: { accountId: a.acc, name: 'ci key', userGroupIds: [viewers] } });
    const uuid = created.body.data.createApiKey.uuid;
    const read = await a.http.get(`/api/api-keys/${uuid}`, { query: { accountId: a.acc } });
    expect(read.status, read.text).toBe(200);
    expect(Object.keys(read.body)).toEqual(['metaData', 'resource', 'responseMessages']);
    expect(read.body.responseMessages).toEqual([]);
    const key = read.body.resource.decryptedKey as string;
    expect(read.body.resource).toEqual({
      uuid, accountId: a.acc, name: 'ci key', userGroupIds: [viewers],
      userGroups: [{ uuid: viewers, accountId: a.acc, name: 'SA viewers', description: null }], createdAt: k.clock.now(), decryptedKey: key, encryptedDataId: null,
    });
    expect(Buffer.from(key, 'base64').toString('utf8')).toMatch(new RegExp(`^${a.acc}::[A-Za-z0-9]{80}$`));
    // Stored as a digest and a sealed copy, never in plain text.
    const row = await k.keyward.store.db.selectFrom('cg_api_keys').selectAll().where('id', '=', uuid).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(key);
    expect(JSON.stringify(row)).not.toContain(Buffer.from(key, 'base64').toString('utf8').split('::')[1]);

    const cg = k.anon.withToken(key);
    const q = { accountIdentifier: a.acc };
    expect((await cg.get('/authz/api/roleassignments', { query: q })).status).toBe(200);
    const denied = await cg.post('/ng/api/serviceaccount', { identifier: 'by_cg', name: 'x', email: 'x@service.harness.io', accountIdentifier: a.acc }, { query: q });
    expect(denied.status, denied.text).toBe(403);
    expect(denied.body.message).toBe(`Principal of type API_KEY with identifier ${uuid} : Missing permission core_serviceaccount_edit on serviceaccount with identifier by_cg`);
    // Its own management needs MANAGE_API_KEYS, which the viewer role does not hold.
    const own = await gql(cg, a.acc, '{ apiKeys(limit: 1) { nodes { uuid } } }');
    expect(own.body.errors[0].message).toBe('User not authorized.');

    // A second group with an editing role: the key now holds the union.
    const editors = await cgGroup(a.http, a.acc, 'SA editors');
    await grantGroupRole(k, a.acc, editors, '_account_admin');
    const upd = await a.http.put(`/api/api-keys/${uuid}`, { name: 'ci key', userGroupIds: [viewers, editors] }, { query: { accountId: a.acc } });
    expect(upd.body.resource.userGroupIds).toEqual([viewers, editors]);
    expect(upd.body.resource.decryptedKey).toBeNull();
    expect((await cg.post('/ng/api/serviceaccount', { identifier: 'by_cg', name: 'x', email: 'x@service.harness.io', accountIdentifier: a.acc }, { query: q })).status).toBe(200);
    // Deleting the editors group takes its grant away at once (no stale cache).
    await gql(a.http, a.acc, 'mutation($i: DeleteUserGroupInput!) { deleteUserGroup(input: $i) { clientMutationId } }', { i: { userGroupId: editors } });
    expect((await cg.delete('/ng/api/serviceaccount/by_cg', { query: q })).status).toBe(403);
    // Removing the viewers' role assignment too leaves nothing.
    const list = await a.http.get('/authz/api/roleassignments', { query: q });
    const ra = list.body.data.content.find((c: { roleAssignment: { principal: { type: string; identifier: string } } }) => c.roleAssignment.principal.type === 'USER_GROUP' && c.roleAssignment.principal.identifier === 'SA_viewers');
    expect((await a.http.delete(`/authz/api/roleassignments/${ra.roleAssignment.identifier}`, { query: q })).status).toBe(200);
    expect((await cg.get('/authz/api/roleassignments', { query: q })).status).toBe(403);

    await gql(a.http, a.acc, 'mutation($i: DeleteApiKeyInput!) { deleteApiKey(input: $i) { clientMutationId } }', { i: { accountId: a.acc, uuid } });
    const after = await cg.get('/authz/api/roleassignments', { query: q });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('INVALID_TOKEN');
    expect((await gql(cg, a.acc, '{ apiKeys(limit: 1) { nodes { uuid } } }')).text).toBe('{"errors":[{"message":"Invalid Api Key"}]}');
  });

  it('members of a group hold its permissions as CG keys do', async () => {
    const bob = await userWithToken(k, a.acc, `bob-${kind}@example.com`);
    const q = { accountIdentifier: a.acc };
    expect((await k.anon.withToken(bob.token).get('/authz/api/roleassignments', { query: q })).status).toBe(403);
    const g = await cgGroup(a.http, a.acc, 'Bob viewers');
    await grantGroupRole(k, a.acc, g, '_account_viewer');
    await gql(a.http, a.acc, 'mutation($i: AddUserToUserGroupInput!) { addUserToUserGroup(input: $i) { userGroup { id } } }', { i: { userGroupId: g, userId: bob.id } });
    expect((await k.anon.withToken(bob.token).get('/authz/api/roleassignments', { query: q })).status).toBe(200);
  });

  it('CG REST: create (with the value), paged list (without), update, delete one, delete all', async () => {
    const b = await newAccount(k);
    const q = { accountId: b.acc };
    const made: Array<{ uuid: string; decryptedKey: string }> = [];
    for (const name of ['r1', 'r2', 'r3']) {
      k.clock.advance(1000);
      const res = await b.http.post('/api/api-keys', { name, userGroupIds: [] }, { query: q });
      expect(res.status, res.text).toBe(200);
      expect(res.body.resource.decryptedKey).toMatch(/^[A-Za-z0-9+/]+=*$/);
      made.push(res.body.resource);
    }
    const page = await b.http.get('/api/api-keys', { query: { ...q, offset: 1, limit: 1 } });
    expect(page.body.resource).toMatchObject({ total: 3, offset: '1', limit: '1' });
    expect(page.body.resource.response.map((e: { name: string; decryptedKey: unknown }) => [e.name, e.decryptedKey])).toEqual([['r2', null]]);
    for (const m of made) expect(page.text).not.toContain(m.decryptedKey);
    const upd = await b.http.put(`/api/api-keys/${made[0]!.uuid}`, { name: 'r1 renamed' }, { query: q });
    expect(upd.body.resource.name).toBe('r1 renamed');
    const gw = await b.http.get(`/gateway/api/api-keys/${made[0]!.uuid}`, { query: q });
    expect(gw.body.resource.decryptedKey).toBe(made[0]!.decryptedKey);
    const one = await b.http.delete(`/api/api-keys/${made[0]!.uuid}`, { query: q });
    expect(one.text).toBe('{"metaData":{},"resource":null,"responseMessages":[]}');
    expect((await b.http.get(`/api/api-keys/${made[0]!.uuid}`, { query: q })).status).toBe(404);
    expect((await k.anon.withToken(made[1]!.decryptedKey).get('/v1/whoami')).status).toBe(200);
    const other = (await a.http.post('/api/api-keys', { name: 'survivor' }, { query: { accountId: a.acc } })).body.resource.uuid as string;
    const all = await b.http.delete('/api/api-keys', { query: q });
    expect(all.status).toBe(200);
    expect((await b.http.get('/api/api-keys', { query: q })).body.resource.total).toBe(0);
    expect((await k.anon.withToken(made[1]!.decryptedKey).get('/v1/whoami')).status).toBe(401);
    // Another account's keys were not touched.
    expect((await a.http.get(`/api/api-keys/${other}`, { query: { accountId: a.acc } })).status).toBe(200);
  });
});

describe('harness CG: master key', () => {
  it('is refused at start when malformed, with a clear message', async () => {
    const { loadConfig } = await import('../../../src/server/config.js');
    expect(() => loadConfig({ KEYWARD_MASTER_KEY: 'too-short' })).toThrow(/KEYWARD_MASTER_KEY must be 32 bytes written as 64 hex characters or as base64/);
    expect(loadConfig({ KEYWARD_MASTER_KEY: 'ab'.repeat(32) }).masterKey).toBe('ab'.repeat(32));
  });
});

/**
 * CG GraphQL API keys (docs/compat/harness-cg.md; seed 001_35044ce0e27048d5): the seed's three
 * mutations with the seed's variables, byte for byte; the same through graphql-request (a widely
 * used client, which only accepts a spec-compliant answer); the other bodies GraphQLResource takes;
 * the Keyward queries, which never carry a key's value; introspection; audit of every mutation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphQLClient, gql as tag } from 'graphql-request';
import { buildClientSchema, getIntrospectionQuery } from 'graphql';
import { describeEachDb } from '../../helpers/databases.js';
import type { TestKeyward } from '../../helpers/keyward.js';
import { SEED_ACCOUNT, gql, newAccount, startCg, type Account } from './support.js';

/** The seed's mutations, as its text gives them (one field per line). */
const SEED = {
  create: 'mutation ($input: CreateApiKeyInput!) {\ncreateApiKey(input: $input) {\nname\nclientMutationId\nuuid\n}\n}',
  update: 'mutation($input: UpdateApiKeyInput!){\nupdateApiKey(input: $input){\nclientMutationId\nname\nuuid\n}\n}',
  delete: 'mutation ($input: DeleteApiKeyInput!) {\ndeleteApiKey(input: $input) {\nclientMutationId\n}\n}',
};
const SEED_GROUP = 'QkV4F3RRRiCIU-MgXaK2ZQ';

describeEachDb('harness CG GraphQL: the seed', (kind) => {
  let k: TestKeyward;
  let a: Account;

  beforeAll(async () => {
    k = await startCg(kind);
    a = await newAccount(k, SEED_ACCOUNT);
    // The seed's user group, as it exists in the seed's account (CG user group ids are server-made).
    await k.keyward.store.db
      .insertInto('user_groups')
      .values({ id: SEED_GROUP, account_id: SEED_ACCOUNT, org_id: '', project_id: '', identifier: 'seed_group', name: 'Seed group', description: '', tags: '{}', created_at: k.clock.now(), updated_at: k.clock.now() })
      .execute();
  });
  afterAll(async () => k?.close());

  for (const path of ['/api/graphql', '/gateway/api/graphql']) {
    it(`replays create, update and delete with the seed's variables on ${path}, byte for byte`, async () => {
      const created = await gql(a.http, SEED_ACCOUNT, SEED.create, {
        input: { accountId: SEED_ACCOUNT, clientMutationId: 'gafs', name: `example${path.length}`, userGroupIds: [SEED_GROUP] },
      }, { path });
      expect(created.status).toBe(200);
      expect(created.headers.get('content-type')).toContain('application/json');
      const uuid = created.body.data.createApiKey.uuid as string;
      expect(uuid).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(created.text).toBe(`{"data":{"createApiKey":{"name":"example${path.length}","clientMutationId":"gafs","uuid":"${uuid}"}}}`);

      const updated = await gql(a.http, SEED_ACCOUNT, SEED.update, {
        input: { uuid, accountId: SEED_ACCOUNT, name: `doc_example_update${path.length}`, clientMutationId: 'gafs', userGroupIds: [SEED_GROUP] },
      }, { path });
      expect(updated.text).toBe(`{"data":{"updateApiKey":{"clientMutationId":"gafs","name":"doc_example_update${path.length}","uuid":"${uuid}"}}}`);
      const stored = await k.keyward.services.cgApiKeys.get({ actor: { type: 'SYSTEM', id: 't' } }, SEED_ACCOUNT, uuid, false);
      expect(stored.key.name).toBe(`doc_example_update${path.length}`);
      expect(stored.key.userGroupIds).toEqual([SEED_GROUP]);

      const deleted = await gql(a.http, SEED_ACCOUNT, SEED.delete, { input: { uuid, accountId: SEED_ACCOUNT } }, { path });
      expect(deleted.text).toBe('{"data":{"deleteApiKey":{"clientMutationId":null}}}');
      const again = await gql(a.http, SEED_ACCOUNT, SEED.delete, { input: { uuid, accountId: SEED_ACCOUNT } }, { path });
      expect(again.body.data).toEqual({ deleteApiKey: null });
      expect(again.body.errors[0].path).toEqual(['deleteApiKey']);
      expect(Object.keys(again.body)).toEqual(['errors', 'data']);
    });
  }

  it('answers the same through graphql-request, which accepts only a spec-compliant answer', async () => {
    const client = new GraphQLClient(`${k.url}/api/graphql?accountId=${SEED_ACCOUNT}`, { headers: { 'X-Api-Key': a.token } });
    const created = await client.request<{ createApiKey: { name: string; clientMutationId: string; uuid: string } }>(tag`
      mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { name clientMutationId uuid } }
    `, { input: { accountId: SEED_ACCOUNT, clientMutationId: 'gr', name: 'through graphql-request', userGroupIds: [SEED_GROUP] } });
    expect(created.createApiKey).toEqual({ name: 'through graphql-request', clientMutationId: 'gr', uuid: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
    const uuid = created.createApiKey.uuid;
    const updated = await client.request<{ updateApiKey: { uuid: string; name: string } }>(
      'mutation($input: UpdateApiKeyInput!){ updateApiKey(input: $input){ clientMutationId name uuid } }',
      { input: { uuid, accountId: SEED_ACCOUNT, name: 'renamed by graphql-request', userGroupIds: [] } },
    );
    expect(updated.updateApiKey).toEqual({ clientMutationId: null, name: 'renamed by graphql-request', uuid });
    const read = await client.request<{ apiKey: { uuid: string; name: string; userGroupIds: string[] } }>('query($u: String!) { apiKey(uuid: $u) { uuid name userGroupIds } }', { u: uuid });
    expect(read.apiKey).toEqual({ uuid, name: 'renamed by graphql-request', userGroupIds: [] });
    const deleted = await client.request<{ deleteApiKey: { clientMutationId: string } }>('mutation($input: DeleteApiKeyInput!){ deleteApiKey(input: $input){ clientMutationId } }', {
      input: { uuid, accountId: SEED_ACCOUNT, clientMutationId: 'bye' },
    });
    expect(deleted.deleteApiKey).toEqual({ clientMutationId: 'bye' });
    // A GraphQL error reaches graphql-request as a ClientError carrying graphql-java's error shape.
    await expect(client.request('mutation($input: DeleteApiKeyInput!){ deleteApiKey(input: $input){ clientMutationId } }', { input: { uuid, accountId: SEED_ACCOUNT } }))
      .rejects.toMatchObject({ response: { errors: [{ message: expect.stringContaining(uuid), path: ['deleteApiKey'], extensions: { classification: 'DataFetchingException' } }] } });
  });

  it('takes application/graphql and text/plain bodies (the query itself, or the JSON request)', async () => {
    const q = `mutation { createApiKey(input: {accountId: "${SEED_ACCOUNT}", name: "raw body", clientMutationId: "raw"}) { clientMutationId name } }`;
    const raw = await a.http.request('POST', '/api/graphql', { query: { accountId: SEED_ACCOUNT }, rawBody: q, headers: { 'content-type': 'application/graphql' } });
    expect(raw.text).toBe('{"data":{"createApiKey":{"clientMutationId":"raw","name":"raw body"}}}');
    const text = await a.http.request('POST', '/api/graphql', {
      query: { accountId: SEED_ACCOUNT },
      rawBody: JSON.stringify({ query: '{ apiKeys(limit: 10) { pageInfo { total } nodes { name } } }' }),
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(200);
    expect(text.body.data.apiKeys.nodes.map((n: { name: string }) => n.name)).toContain('raw body');
    const plainQuery = await a.http.request('POST', '/api/graphql', { query: { accountId: SEED_ACCOUNT }, rawBody: '{ apiKeys(limit: 1) { pageInfo { limit } } }', headers: { 'content-type': 'text/plain' } });
    expect(plainQuery.text).toBe('{"data":{"apiKeys":{"pageInfo":{"limit":1}}}}');
  });
});

describeEachDb('harness CG GraphQL: queries, introspection, audit', (kind) => {
  let k: TestKeyward;
  let a: Account;

  beforeAll(async () => {
    k = await startCg(kind);
    a = await newAccount(k);
  });
  afterAll(async () => k?.close());

  it('apiKey and apiKeys return metadata and user groups, never the key', async () => {
    const g = await gql(a.http, a.acc, 'mutation { createUserGroup(input: {name: "Readers"}) { userGroup { id } } }');
    const groupId = g.body.data.createUserGroup.userGroup.id;
    const ids: string[] = [];
    for (const name of ['k1', 'k2', 'k3']) {
      k.clock.advance(1000);
      const c = await gql(a.http, a.acc, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { uuid } }', { i: { accountId: a.acc, name, userGroupIds: [groupId] } });
      ids.push(c.body.data.createApiKey.uuid);
    }
    const value = (await a.http.get(`/api/api-keys/${ids[0]}`, { query: { accountId: a.acc } })).body.resource.decryptedKey as string;
    expect(value.length).toBeGreaterThan(80);
    const one = await gql(a.http, a.acc, 'query($u: String!) { apiKey(uuid: $u) { id uuid name accountId createdAt userGroupIds userGroups { id name } } }', { u: ids[0] });
    expect(one.body).toEqual({ data: { apiKey: { id: ids[0], uuid: ids[0], name: 'k1', accountId: a.acc, createdAt: k.clock.now() - 2000, userGroupIds: [groupId], userGroups: [{ id: groupId, name: 'Readers' }] } } });
    const page = await gql(a.http, a.acc, '{ apiKeys(limit: 2, offset: 1) { pageInfo { hasMore total offset limit } nodes { name } } }');
    expect(page.body.data.apiKeys).toEqual({ pageInfo: { hasMore: false, total: 3, offset: 1, limit: 2 }, nodes: [{ name: 'k2' }, { name: 'k3' }] });
    // The schema has no field that could carry a value: nothing in a listing looks like a key.
    const all = await gql(a.http, a.acc, '{ apiKeys(limit: 100) { nodes { id uuid name accountId createdAt userGroupIds userGroups { id name description } } } }');
    expect(all.text).not.toContain(value);
    expect(all.text).not.toMatch(/decryptedKey|secret|digest/i);
  });

  it('introspection describes the schema to clients and IDEs', async () => {
    const res = await gql(a.http, a.acc, getIntrospectionQuery());
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const schema = buildClientSchema(res.body.data);
    const mutations = Object.keys(schema.getMutationType()!.getFields());
    expect(mutations).toEqual(expect.arrayContaining(['createApiKey', 'updateApiKey', 'deleteApiKey', 'createUserGroup', 'updateUserGroup', 'deleteUserGroup']));
    expect(Object.keys(schema.getQueryType()!.getFields())).toEqual(expect.arrayContaining(['apiKey', 'apiKeys', 'userGroup', 'userGroups']));
    const input = schema.getType('CreateApiKeyInput') as import('graphql').GraphQLInputObjectType;
    expect(Object.fromEntries(Object.entries(input.getFields()).map(([n, f]) => [n, String(f.type)]))).toEqual({ accountId: 'String!', name: 'String!', userGroupIds: '[String]', clientMutationId: 'String' });
  });

  it('audits every mutation with the caller, in the account', async () => {
    const c = await gql(a.http, a.acc, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { uuid } }', { i: { accountId: a.acc, name: 'audited' } });
    const uuid = c.body.data.createApiKey.uuid;
    k.clock.advance(1000);
    await gql(a.http, a.acc, 'mutation($i: UpdateApiKeyInput!) { updateApiKey(input: $i) { uuid } }', { i: { accountId: a.acc, uuid, name: 'audited 2' } });
    k.clock.advance(1000);
    await gql(a.http, a.acc, 'mutation($i: DeleteApiKeyInput!) { deleteApiKey(input: $i) { clientMutationId } }', { i: { accountId: a.acc, uuid } });
    const events = await k.keyward.store.db.selectFrom('audit_events').selectAll().where('account_id', '=', a.acc).where('resource_id', '=', uuid).orderBy('at').orderBy('id').execute();
    expect(events.map((e) => [e.action, e.outcome, e.actor_type, e.actor_id])).toEqual([
      ['cgapikey.create', 'success', 'USER', a.adminId],
      ['cgapikey.update', 'success', 'USER', a.adminId],
      ['cgapikey.delete', 'success', 'USER', a.adminId],
    ]);
    expect(JSON.stringify(events)).not.toMatch(/decryptedKey/);
  });
});

describe('harness CG GraphQL: schema', () => {
  it('declares the seed inputs exactly as apiKey.graphql does', async () => {
    const { apiKeySchema } = await import('../../../src/protocols/harness-cg/apiKey.js');
    expect(apiKeySchema.replace(/\s+/g, ' ')).toContain('input UpdateApiKeyInput { accountId: String! name: String! userGroupIds: [String] clientMutationId: String uuid: String! }');
  });
});

/**
 * CG errors and security (docs/compat/harness-cg.md): a bad, missing or other-account key gets 401 with
 * `{"errors":[{"message":"Invalid Api Key"}]}`; another account's key by uuid is invisible to
 * GraphQL and REST; a caller without MANAGE_API_KEYS is refused and nothing is written; malformed
 * GraphQL, malformed bodies, oversized queries, deep nesting and costly queries are refused in
 * graphql-java's shape, never with `responseMessages` and never a 500; name rules; nothing half-written.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import type { TestKeyward } from '../../helpers/keyward.js';
import { issueUserToken } from '../../helpers/nativeApi.js';
import { gql, messages, newAccount, startCg, type Account } from './support.js';

const CREATE = 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { uuid name } }';
const INVALID = '{"errors":[{"message":"Invalid Api Key"}]}';

describeEachDb('harness CG security', (kind) => {
  let k: TestKeyward;
  let a: Account;
  let b: Account;
  let aKey: string;

  const count = async (acc: string) => Number((await k.keyward.store.db.selectFrom('cg_api_keys').select((eb) => eb.fn.countAll().as('n')).where('account_id', '=', acc).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    k = await startCg(kind);
    a = await newAccount(k);
    b = await newAccount(k);
    aKey = (await gql(a.http, a.acc, CREATE, { i: { accountId: a.acc, name: 'a key' } })).body.data.createApiKey.uuid;
  });
  afterAll(async () => k?.close());

  it('a missing, malformed, unknown or other-account key gets 401 Invalid Api Key', async () => {
    const q = '{ apiKeys(limit: 1) { nodes { uuid } } }';
    for (const token of [null, 'nonsense', Buffer.from(`${a.acc}::${'x'.repeat(80)}`).toString('base64')]) {
      const res = await gql(k.anon, a.acc, q, undefined, { token });
      expect(res.status).toBe(401);
      expect(res.text).toBe(INVALID);
    }
    const other = await gql(b.http, a.acc, q);
    expect([other.status, other.text]).toEqual([401, INVALID]);
    const rest = await b.http.get('/api/api-keys', { query: { accountId: a.acc } });
    expect(rest.status).toBe(401);
    expect(rest.body.responseMessages[0]).toMatchObject({ code: 'INVALID_API_KEY', level: 'ERROR' });
  });

  it("another account's key by uuid is invisible and untouched", async () => {
    const read = await gql(b.http, b.acc, 'query($u: String!) { apiKey(uuid: $u) { name } }', { u: aKey });
    expect(read.body.data.apiKey).toBeNull();
    expect(messages(read)[0]).toContain('does not exist');
    const upd = await gql(b.http, b.acc, 'mutation($i: UpdateApiKeyInput!) { updateApiKey(input: $i) { uuid } }', { i: { accountId: b.acc, uuid: aKey, name: 'hijacked' } });
    expect(upd.body.data.updateApiKey).toBeNull();
    const del = await gql(b.http, b.acc, 'mutation($i: DeleteApiKeyInput!) { deleteApiKey(input: $i) { clientMutationId } }', { i: { accountId: b.acc, uuid: aKey } });
    expect(del.body.data.deleteApiKey).toBeNull();
    // Naming account A in the input, with B's key, is refused too.
    const cross = await gql(b.http, b.acc, 'mutation($i: DeleteApiKeyInput!) { deleteApiKey(input: $i) { clientMutationId } }', { i: { accountId: a.acc, uuid: aKey } });
    expect(messages(cross)).toEqual(['User not authorized.']);
    for (const [m, p] of [['GET', `/api/api-keys/${aKey}`], ['PUT', `/api/api-keys/${aKey}`], ['DELETE', `/api/api-keys/${aKey}`]] as const) {
      const res = await b.http.request(m, p, { query: { accountId: b.acc }, ...(m === 'PUT' ? { body: { name: 'hijacked' } } : {}) });
      expect(res.status, `${m} ${p}`).toBe(404);
      expect(res.text).not.toContain('decryptedKey');
    }
    const still = await a.http.get(`/api/api-keys/${aKey}`, { query: { accountId: a.acc } });
    expect(still.body.resource.name).toBe('a key');
    // B's user groups cannot be given to A's keys either.
    const bGroup = (await gql(b.http, b.acc, 'mutation { createUserGroup(input: {name: "B group"}) { userGroup { id } } }')).body.data.createUserGroup.userGroup.id;
    const steal = await gql(a.http, a.acc, CREATE, { i: { accountId: a.acc, name: 'with B group', userGroupIds: [bGroup] } });
    expect(messages(steal)[0]).toContain(`user group [${bGroup}] does not exist`);
  });

  it('a caller without MANAGE_API_KEYS is refused, and nothing is written', async () => {
    const res = await a.http.post(`/v1/accounts/${a.acc}/users`, { email: `plain-${kind}@example.com` });
    const { token } = await issueUserToken(k, a.acc, res.body.id);
    const plain = k.anon.withToken(token);
    const before = await count(a.acc);
    const c = await gql(plain, a.acc, CREATE, { i: { accountId: a.acc, name: 'not allowed' } });
    expect(c.status).toBe(200);
    expect(c.body).toEqual({ errors: [{ message: 'User not authorized.', locations: [{ line: 1, column: 36 }], path: ['createApiKey'], extensions: { classification: 'DataFetchingException', code: 'ACCESS_DENIED' } }], data: { createApiKey: null } });
    expect((await plain.post('/api/api-keys', { name: 'not allowed' }, { query: { accountId: a.acc } })).status).toBe(403);
    expect((await plain.get(`/api/api-keys/${aKey}`, { query: { accountId: a.acc } })).status).toBe(403);
    expect((await plain.delete('/api/api-keys', { query: { accountId: a.acc } })).status).toBe(403);
    expect(await count(a.acc)).toBe(before);
    // Refused by the permission check, before any mutation: no event in the caller's name.
    const byPlain = await k.keyward.store.db.selectFrom('audit_events').select(['action']).where('actor_id', '=', res.body.id).where('resource_type', '=', 'API_KEY').execute();
    expect(byPlain).toEqual([]);
  });

  it('names: no leading or trailing whitespace, unique in the account; a failed mutation leaves nothing', async () => {
    for (const name of [' padded', 'padded ', '   ']) {
      const res = await gql(a.http, a.acc, CREATE, { i: { accountId: a.acc, name } });
      expect(messages(res)).toEqual(['name: Invalid API Key name']);
    }
    expect(messages(await gql(a.http, a.acc, CREATE, { i: { accountId: a.acc, name: 'a key' } }))[0]).toContain('already exists');
    const before = await count(a.acc);
    const res = await gql(a.http, a.acc, CREATE, { i: { accountId: a.acc, name: 'half', userGroupIds: ['no-such-group'] } });
    expect(res.body.data.createApiKey).toBeNull();
    expect(await count(a.acc)).toBe(before);
    const rest = await a.http.post('/api/api-keys', { name: 'a key' }, { query: { accountId: a.acc } });
    expect(rest.status).toBe(400);
    expect(rest.body).toMatchObject({ resource: null, responseMessages: [{ code: 'DUPLICATE_FIELD', level: 'ERROR' }] });
  });

  it('malformed GraphQL and malformed bodies get graphql-java-shaped errors, never responseMessages or a 500', async () => {
    const syntax = await gql(a.http, a.acc, 'mutation { createApiKey(');
    expect(syntax.status).toBe(200);
    expect(Object.keys(syntax.body)).toEqual(['errors']);
    expect(syntax.body.errors[0].extensions.classification).toBe('InvalidSyntax');
    const unknown = await gql(a.http, a.acc, '{ apiKeys(limit: 1) { nodes { secret } } }');
    expect(unknown.body.errors[0]).toMatchObject({ message: 'Cannot query field "secret" on type "APIKey".', extensions: { classification: 'ValidationError' } });
    const badVars = await gql(a.http, a.acc, CREATE, { i: { name: 'no account' } });
    expect(badVars.body.errors[0].extensions.classification).toBe('ValidationError');
    for (const rawBody of ['{"query":', '[]', '{"query": 42}', '{"query":"{ apiKeys(limit:1){ nodes { uuid } } }","variables":"not json"}']) {
      const res = await a.http.request('POST', '/api/graphql', { query: { accountId: a.acc }, rawBody, headers: { 'content-type': 'application/json' } });
      expect(res.status, rawBody).toBe(400);
      expect(res.body.errors[0].message.length).toBeGreaterThan(0);
      expect(res.text).not.toContain('responseMessages');
    }
    const multipart = await a.http.request('POST', '/api/graphql', { query: { accountId: a.acc }, rawBody: '--x\r\n\r\n--x--', headers: { 'content-type': 'multipart/form-data; boundary=x' } });
    expect(multipart.status).toBe(415);
    expect(multipart.body.errors[0].message).toContain('application/json');
    const text = await a.http.request('POST', '/api/graphql', { query: { accountId: a.acc }, rawBody: '{ nonsense', headers: { 'content-type': 'text/plain' } });
    expect([text.status, text.body.errors[0].extensions.classification]).toEqual([200, 'InvalidSyntax']);
  });

  it('refuses oversized queries, deep nesting and costly queries before running them', async () => {
    const long = `{ apiKeys(limit: 1) { nodes { uuid } } ${' '.repeat(17 * 1024)}}`;
    const tooLong = await gql(a.http, a.acc, long);
    expect(tooLong.status).toBe(413);
    expect(tooLong.body.errors[0].message).toMatch(/maximum is 16384/);
    const huge = await a.http.request('POST', '/api/graphql', { query: { accountId: a.acc }, rawBody: JSON.stringify({ query: '{ apiKeys(limit:1) { nodes { uuid } } }', variables: { pad: 'x'.repeat(70 * 1024) } }), headers: { 'content-type': 'application/json' } });
    expect(huge.status).toBe(413);
    expect(huge.body.errors[0].message).toMatch(/larger than 65536 bytes/);
    const tokens = await gql(a.http, a.acc, `{ ${'x '.repeat(5000)} }`);
    expect(tokens.body.errors[0].message).toMatch(/tokens/);
    let deep = 'name';
    for (let i = 0; i < 10; i++) deep = `fields { type { ${deep} } }`;
    const nested = await gql(a.http, a.acc, `{ __schema { types { ${deep} } } }`);
    expect(nested.status).toBe(200);
    expect(nested.body.data).toBeUndefined();
    expect(nested.body.errors[0].message).toMatch(/depth/i);
    // Depth through fragments, which the introspection rule does not see, is bounded by the depth limit (15).
    let frag = 'name';
    for (let i = 0; i < 16; i++) frag = `ofType { ${frag} }`;
    const viaType = await gql(a.http, a.acc, `{ __type(name: "APIKey") { ${frag} } }`);
    expect(viaType.body.data).toBeUndefined();
    expect(viaType.body.errors[0].message).toMatch(/query depth \(\d+\) exceeds the query depth limit of 15/);
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: userGroups(limit: 100) { nodes { users(limit: 100) { nodes { id } } } }`).join(' ');
    const costly = await gql(a.http, a.acc, `{ ${aliases} }`);
    expect(costly.body.data).toBeUndefined();
    // The cap was 5,000 with a variable limit priced at 100, which refused the Go SDK's own
    // ListUserGroups (5,301 at limit 100); it is 10,000 now, with variables priced at their value.
    expect(costly.body.errors[0].message).toMatch(/exceeds the maximum cost of 10000/);
    // A normal query well under the limits still runs.
    expect((await gql(a.http, a.acc, '{ userGroups(limit: 100) { nodes { users(limit: 10) { nodes { id } } } } }')).body.errors).toBeUndefined();
  });
});

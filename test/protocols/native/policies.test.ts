/**
 * Account policies over real HTTP (docs/policies.md): the native policy API, and the same policy
 * refusing a too-long credential on Harness NG, Harness CG (GraphQL and REST) and ZenML, each in
 * its own error shape (src/protocols/<p>/errors.ts).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startCg, gql } from '../../conformance/harness-cg/support.js';
import type { TestKeyward } from '../../helpers/keyward.js';

const DAY = 24 * 60 * 60 * 1000;

describeEachDb('account policies over HTTP', (kind) => {
  let k: TestKeyward;
  let acc: string;
  beforeAll(async () => {
    k = await startCg(kind);
    acc = k.admin.accountId;
  });
  afterAll(async () => k.close());

  const policyPath = () => `/v1/accounts/${acc}/policy`;
  const ng = () => ({ accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: k.admin.userId });

  it('sets and reads a policy per scope, with where each value comes from, and lists what is set', async () => {
    expect((await k.http.post('/ng/api/organizations', { organization: { identifier: 'o1', name: 'o1' } }, { query: { accountIdentifier: acc } })).status).toBe(200);
    const before = await k.http.get(policyPath());
    expect(before.status, before.text).toBe(200);
    expect(before.body).toMatchObject({
      scope: { accountId: acc, orgId: null, projectId: null },
      policy: { maxTokenLifetimeDays: null, requireExpiry: null, maxApiKeysPerOwner: null, maxTokensPerApiKey: null, maxRotationGraceMinutes: null },
      effective: { maxApiKeysPerOwner: 5, maxTokensPerApiKey: 5, requireExpiry: false, sources: { maxApiKeysPerOwner: { level: 'default', scope: null } } },
      updatedAt: null,
    });
    const put = await k.http.put(policyPath(), { maxTokenLifetimeDays: 30, maxApiKeysPerOwner: 'unlimited' });
    expect(put.status, put.text).toBe(200);
    expect(put.body.effective).toMatchObject({ maxTokenLifetimeDays: 30, maxApiKeysPerOwner: 'unlimited' });
    const org = await k.http.put(policyPath(), { maxTokenLifetimeDays: 7 }, { query: { orgIdentifier: 'o1' } });
    expect(org.status, org.text).toBe(200);
    expect(org.body.effective).toMatchObject({
      maxTokenLifetimeDays: 7,
      maxApiKeysPerOwner: 'unlimited',
      sources: { maxTokenLifetimeDays: { level: 'organization', scope: { orgId: 'o1' } }, maxApiKeysPerOwner: { level: 'account' } },
    });
    const all = await k.http.get(`/v1/accounts/${acc}/policies`);
    expect(all.body.items.map((i: { scope: { orgId: string | null } }) => i.scope.orgId)).toEqual([null, 'o1']);
    // Back to an account policy of 30 days only, for the tests below.
    expect((await k.http.put(policyPath(), { maxTokenLifetimeDays: 30 })).status).toBe(200);
  });

  it('refuses a malformed policy and an unknown scope with 400 in the native shape', async () => {
    const bad = await k.http.put(policyPath(), { maxTokenLifetimeDays: 0, maxApiKeysPerOwner: 'many', color: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_ARGUMENT');
    const missing = await k.http.get(policyPath(), { query: { orgIdentifier: 'nope' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('does not exist');
  });

  it('changing needs core_account_edit: a viewer reads but cannot change', async () => {
    const user = await k.http.post(`/v1/accounts/${acc}/users`, { email: 'viewer@example.com', name: 'viewer', password: 'correct horse battery' });
    expect(user.status, user.text).toBe(201);
    const grant = await k.http.post('/authz/api/roleassignments', {
      identifier: 'viewer_ra',
      resourceGroupIdentifier: '_all_account_level_resources',
      roleIdentifier: '_account_viewer',
      principal: { identifier: user.body.id, type: 'USER' },
    }, { query: { accountIdentifier: acc } });
    expect(grant.status, grant.text).toBe(200);
    const session = await k.anon.post('/v1/sessions', { email: 'viewer@example.com', password: 'correct horse battery' }, { headers: { 'x-keyward-console': '1' } });
    expect(session.status, session.text).toBe(201);
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0]!;
    const headers = { cookie, 'x-keyward-console': '1' };
    expect((await k.anon.get(policyPath(), { headers })).status).toBe(200);
    const put = await k.anon.put(policyPath(), { requireExpiry: true }, { headers });
    expect(put.status).toBe(403);
    expect(put.body.error.code).toBe('PERMISSION_DENIED');
  });

  it('Harness NG: an over-long token is refused with 400 INVALID_REQUEST; a default end is shortened to the policy', async () => {
    const key = await k.http.post('/ng/api/apikey', { identifier: 'pk', name: 'pk', apiKeyType: 'USER', parentIdentifier: k.admin.userId, accountIdentifier: acc, defaultTimeToExpireToken: 90 * DAY }, { query: { accountIdentifier: acc } });
    expect(key.status, key.text).toBe(200);
    const now = k.clock.now();
    const body = { identifier: 'long', name: 'long', apiKeyIdentifier: 'pk', apiKeyType: 'USER', parentIdentifier: k.admin.userId, accountIdentifier: acc, validTo: now + 31 * DAY };
    const res = await k.http.post('/ng/api/token', body, { query: { accountIdentifier: acc } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      status: 'ERROR',
      code: 'INVALID_REQUEST',
      message: 'Invalid request: The token would be valid for 31 days; the account policy allows at most 30 days (maxTokenLifetimeDays)',
    });
    const ok = await k.http.post('/ng/api/token', { ...body, identifier: 'dflt', name: 'dflt', validTo: undefined }, { query: { accountIdentifier: acc } });
    expect(ok.status, ok.text).toBe(200);
    const list = await k.http.get('/ng/api/token/aggregate', { query: { ...ng(), apiKeyIdentifier: 'pk' } });
    const dflt = list.body.data.content.find((t: { token: { identifier: string } }) => t.token.identifier === 'dflt');
    expect(dflt.token.validTo).toBe(now + 30 * DAY);
  });

  it('Harness NG rotate: a grace beyond the maximum is refused in the same shape', async () => {
    expect((await k.http.put(policyPath(), { maxTokenLifetimeDays: 30, maxRotationGraceMinutes: 60 })).status).toBe(200);
    const res = await k.http.post('/ng/api/token/rotate/dflt', undefined, { query: { ...ng(), apiKeyIdentifier: 'pk', rotateTimestamp: k.clock.now() + 2 * 60 * 60_000 } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 'ERROR', code: 'INVALID_REQUEST' });
    expect(res.body.message).toContain('at most 60 minutes (maxRotationGraceMinutes, the account policy); this rotation gives 120 minutes');
    expect((await k.http.post('/ng/api/token/rotate/dflt', undefined, { query: { ...ng(), apiKeyIdentifier: 'pk', rotateTimestamp: k.clock.now() + 60 * 60_000 } })).status).toBe(200);
  });

  it('Harness CG: GraphQL answers a GraphQL error and REST its error envelope; nothing is created', async () => {
    const g = await gql(k.http, acc, `mutation { createApiKey(input: { accountId: "${acc}", name: "cgkey" }) { uuid name } }`);
    expect(g.status).toBe(200);
    expect(g.body.errors).toHaveLength(1);
    expect(g.body.errors[0]).toMatchObject({
      message: 'A Harness CG API key (CG keys have no end date) must expire: the account policy allows at most 30 days (maxTokenLifetimeDays)',
      path: ['createApiKey'],
      extensions: { classification: 'DataFetchingException', code: 'INVALID_REQUEST' },
    });
    const r = await k.http.post('/api/api-keys', { name: 'cgkey', userGroupIds: [] }, { query: { accountId: acc } });
    expect(r.status).toBe(400);
    expect(r.body.responseMessages[0]).toMatchObject({ code: 'INVALID_REQUEST', level: 'ERROR', message: expect.stringContaining('CG keys have no end date') });
    expect((await k.http.get('/api/api-keys', { query: { accountId: acc } })).body.resource.response).toEqual([]);
  });

  it('ZenML: creating a key (which has no end date) is refused with 403 IllegalOperationError; so is a long retain period', async () => {
    const sa = await k.http.post('/api/v1/service_accounts', { name: 'zen', active: true }, { headers: { authorization: `Bearer ${k.admin.token}` } });
    expect(sa.status, sa.text).toBe(200);
    const z = (path: string, body: unknown, method = 'POST') => k.http.request(method, path, { body, headers: { authorization: `Bearer ${k.admin.token}` } });
    const refused = await z(`/api/v1/service_accounts/${sa.body.id}/api_keys`, { name: 'key' });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ detail: ['IllegalOperationError', 'A ZenML API key (ZenML keys have no end date) must expire: the account policy allows at most 30 days (maxTokenLifetimeDays)'] });

    expect((await k.http.put(policyPath(), { maxRotationGraceMinutes: 60 })).status).toBe(200);
    const created = await z(`/api/v1/service_accounts/${sa.body.id}/api_keys`, { name: 'key' });
    expect(created.status, created.text).toBe(200);
    const rotate = await z(`/api/v1/service_accounts/${sa.body.id}/api_keys/key/rotate`, { retain_period_minutes: 90 }, 'PUT');
    expect(rotate.status).toBe(403);
    expect(rotate.body.detail[0]).toBe('IllegalOperationError');
    expect(rotate.body.detail[1]).toContain('at most 60 minutes');
  });

  it('lists the credentials that break a new policy, and they keep working', async () => {
    // Under a 10-day rule: the ZenML key made above (no end date), the bootstrap token and the token
    // "dflt" (30 days each; rotation gave the new "dflt" the old one's end).
    expect((await k.http.put(policyPath(), { maxTokenLifetimeDays: 10 })).status).toBe(200);
    const v = await k.http.get(`/v1/accounts/${acc}/policy/violations`);
    expect(v.status, v.text).toBe(200);
    const names = v.body.items.map((i: { credential: { name: string } }) => i.credential.name).sort();
    expect(names).toEqual(['admin', 'current', 'dflt']);
    expect(v.body.total).toBe(3);
    const admin = v.body.items.find((i: { credential: { name: string } }) => i.credential.name === 'admin');
    expect(admin).toMatchObject({ rule: 'maxTokenLifetimeDays', source: { level: 'account' }, credential: { kind: 'token', apiKeyType: 'USER', format: 'harness_ng' } });
    expect((await k.http.post('/v1/verify', { token: k.admin.token })).body.valid).toBe(true);
    await k.http.put(policyPath(), {});
  });

  it('the policy routes are in the OpenAPI document with request and response schemas', async () => {
    const doc = (await k.anon.get('/openapi.json')).body;
    const put = doc.paths['/v1/accounts/{accountId}/policy'].put;
    expect(Object.keys(put.requestBody.content['application/json'].schema.properties)).toEqual(['maxTokenLifetimeDays', 'requireExpiry', 'maxApiKeysPerOwner', 'maxTokensPerApiKey', 'maxRotationGraceMinutes']);
    expect(put.responses['200'].content['application/json'].schema.properties).toHaveProperty('effective');
    expect(doc.paths['/v1/accounts/{accountId}/policy/violations'].get.responses['200']).toBeDefined();
  });
});

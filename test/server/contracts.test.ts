/**
 * Route contracts (docs/architecture.md): every route a client may call declares its request parts and
 * its answers per status code, /openapi.json documents each with a response schema, and the answers
 * Keyward really gives (a walk through every protocol, successes and refusals) agree with the documents.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteEntry } from '../../src/server/app.js';
import { accountSchema, userSchema } from '../../src/protocols/native/accounts.js';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type RequestOptions, type TestKeyward } from '../helpers/keyward.js';
import { disagreements, missingContracts, NOT_API, routeOf, undocumented, type Answer } from '../helpers/contracts.js';

describeEachDb('route contracts', (kind) => {
  let k: TestKeyward;
  const answers: Answer[] = [];
  let routes: RouteEntry[];

  /** One call over real HTTP, its answer recorded for the agreement check. */
  async function call(method: string, path: string, opts: RequestOptions = {}) {
    const res = await k.http.request(method, path, opts);
    answers.push({ method, path, status: res.status, contentType: res.headers.get('content-type') ?? '', body: res.body });
    return res;
  }

  beforeAll(async () => {
    k = await startKeyward(kind, { config: { masterKey: randomBytes(32).toString('base64') } });
    routes = k.keyward.app.routeTable;
  });
  afterAll(async () => k?.close());
  /** The schemas routes refer to by $ref: the app's and the native API's models. */
  const shared = () => [...Object.values(k.keyward.app.getSchemas()), accountSchema, userSchema];

  it('every API route declares its answers, its path parameters and the body it reads', () => {
    expect(routes.length).toBeGreaterThan(150);
    expect(missingContracts(routes)).toEqual([]);
  });

  it('the check names what a route without a contract lacks, and what to add', () => {
    const bare: RouteEntry[] = [
      { method: 'POST', url: '/v1/things/:thingId', schema: { tags: ['things'], summary: 'A route added without its contract' } },
      { method: 'GET', url: '/v1/things', schema: { response: { 200: { type: 'array' } } } },
    ];
    const found = missingContracts(bare);
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^POST \/v1\/things\/:thingId: no response schema\. .*response: \{ 200/);
    expect(found[1]).toMatch(/path parameter\(s\) thingId not in schema\.params/);
    expect(found[2]).toMatch(/no body schema/);
  });

  it('/openapi.json documents every API route with a schema for each answer', async () => {
    const res = await k.anon.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(undocumented(routes, res.body)).toEqual([]);
    // The wire protocols are in the document with their own shapes.
    const doc = res.body;
    const ng = doc.paths['/ng/api/apikey/aggregate'].get;
    expect(ng.responses['200'].content['application/json'].schema.properties.data.properties.content.type).toBe('array');
    expect(ng.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['accountIdentifier', 'apiKeyType', 'parentIdentifier', 'pageIndex']));
    expect(doc.paths['/api/graphql'].post.requestBody).toBeDefined();
    expect(doc.paths['/api/v1/service_accounts/{sa}/api_keys'].post.responses['422']).toBeDefined();
    expect(NOT_API.length).toBe(2);
  });

  describe('real answers agree with the documented response schemas', () => {
    it('the check refuses an answer that breaks its schema, or a status the route does not document', () => {
      const wrong: Answer[] = [
        { method: 'GET', path: '/ng/api/apikey/aggregate', status: 200, contentType: 'application/json', body: { status: 'SUCCESS', data: { content: 'not a list' }, metaData: null, correlationId: 'c' } },
        { method: 'GET', path: '/api/v1/info', status: 418, contentType: 'application/json', body: {} },
      ];
      const found = disagreements(routes, shared(), wrong);
      expect(found).toHaveLength(2);
      expect(found[0]).toMatch(/data\/content must be array/);
      expect(found[1]).toMatch(/does not document status 418/);
    });

    it('across every protocol, successes and refusals', async () => {
      const acc = k.admin.accountId;
      const q = { accountIdentifier: acc };
      const uid = k.admin.userId;

      // ---- native ----
      await call('POST', '/v1/verify', { body: { token: k.admin.token } });
      await call('POST', '/v1/verify', { body: { token: 'pat.nope.nope.nope' } });
      await call('POST', '/v1/verify', { body: {} });
      await call('GET', '/v1/verify');
      await call('GET', '/v1/verify', { token: null });
      await call('GET', '/v1/whoami');
      await call('GET', '/v1/whoami', { token: null });
      await call('GET', '/v1/accounts');
      await call('GET', `/v1/accounts/${acc}`);
      await call('GET', '/v1/accounts/nope');
      const user = await call('POST', `/v1/accounts/${acc}/users`, { body: { email: `u-${kind}@example.com`, name: 'U', password: 'correct horse battery staple' } });
      await call('POST', `/v1/accounts/${acc}/users`, { body: { email: 5 } });
      await call('GET', `/v1/accounts/${acc}/users`);
      await call('GET', `/v1/accounts/${acc}/users/${user.body.id}`);
      await call('PATCH', `/v1/accounts/${acc}/users/${user.body.id}`, { body: { name: 'U2' } });
      await call('PUT', `/v1/accounts/${acc}/users/${user.body.id}/password`, { body: { password: 'another long password 123' } });
      await call('GET', `/v1/accounts/${acc}/audit`);
      await call('GET', `/v1/accounts/${acc}/tokens`);
      await call('GET', '/healthz');
      await call('GET', '/readyz');
      await call('GET', '/metrics');
      await call('POST', '/v1/sessions', { body: { email: k.admin.email, password: 'wrong' }, headers: { 'x-keyward-console': '1' }, token: null });

      // ---- Harness NG ----
      const ng = '/ng/api';
      await call('POST', `${ng}/serviceaccount`, { query: q, body: { identifier: 'robot', name: 'Robot', email: 'robot@sa.example.com', accountIdentifier: acc } });
      await call('GET', `${ng}/serviceaccount`, { query: q });
      await call('GET', `${ng}/serviceaccount/aggregate`, { query: q });
      await call('GET', `${ng}/serviceaccount/aggregate/robot`, { query: q });
      await call('PUT', `${ng}/serviceaccount/robot`, { query: q, body: { identifier: 'robot', name: 'Robot 2', email: 'robot@sa.example.com', accountIdentifier: acc } });
      await call('PATCH', `/v1/accounts/${acc}/service-accounts/robot`, { body: { active: true } });
      const keyQ = { ...q, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'robot' };
      await call('POST', `${ng}/apikey`, { query: q, body: { identifier: 'k1', name: 'k1', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'robot', accountIdentifier: acc } });
      await call('POST', `${ng}/apikey`, { query: q, body: { identifier: '', name: '', accountIdentifier: acc } });
      await call('PUT', `${ng}/apikey/k1`, { query: q, body: { identifier: 'k1', name: 'k1 renamed', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'robot', accountIdentifier: acc } });
      await call('GET', `${ng}/apikey`, { query: keyQ });
      await call('GET', `${ng}/apikey/aggregate`, { query: keyQ });
      await call('GET', `${ng}/apikey/aggregate/k1`, { query: keyQ });
      await call('GET', `${ng}/apikey/aggregate/nope`, { query: keyQ });
      const tok = await call('POST', `${ng}/token`, { query: q, body: { identifier: 't1', name: 't1', apiKeyIdentifier: 'k1', parentIdentifier: 'robot', apiKeyType: 'SERVICE_ACCOUNT', accountIdentifier: acc } });
      await call('PUT', `${ng}/token/t1`, { query: q, body: { identifier: 't1', name: 't1 renamed', apiKeyIdentifier: 'k1', parentIdentifier: 'robot', apiKeyType: 'SERVICE_ACCOUNT', accountIdentifier: acc } });
      await call('GET', `${ng}/token/aggregate`, { query: keyQ });
      await call('POST', `${ng}/token/validate`, { query: q, rawBody: tok.body.data, headers: { 'content-type': 'text/plain' }, token: null });
      await call('POST', `${ng}/token/rotate/t1`, { query: { ...keyQ, apiKeyIdentifier: 'k1' } });
      await call('GET', `/v1/accounts/${acc}/usage`, { query: { apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'robot', apiKeyIdentifier: 'k1', days: 7 } });
      await call('DELETE', `${ng}/token/t1`, { query: { ...keyQ, apiKeyIdentifier: 'k1' } });
      await call('DELETE', `${ng}/apikey/k1`, { query: keyQ });
      await call('GET', `${ng}/apikey`, { query: keyQ, token: null });
      await call('POST', `${ng}/organizations`, { query: q, body: { organization: { identifier: 'eng', name: 'Engineering' } } });
      await call('GET', `${ng}/organizations/eng`, { query: q });
      await call('PUT', `${ng}/organizations/eng`, { query: q, body: { organization: { identifier: 'eng', name: 'Eng' } } });
      await call('GET', `${ng}/organizations`, { query: q });
      await call('POST', `${ng}/projects`, { query: { ...q, orgIdentifier: 'eng' }, body: { project: { identifier: 'web', name: 'Web', orgIdentifier: 'eng' } } });
      await call('GET', `${ng}/projects/web`, { query: { ...q, orgIdentifier: 'eng' } });
      await call('PUT', `${ng}/projects/web`, { query: { ...q, orgIdentifier: 'eng' }, body: { project: { identifier: 'web', name: 'Web 2', orgIdentifier: 'eng' } } });
      await call('GET', `${ng}/projects`, { query: q });
      await call('GET', `${ng}/projects/list`, { query: q });
      await call('DELETE', `${ng}/projects/web`, { query: { ...q, orgIdentifier: 'eng' } });
      await call('DELETE', `${ng}/organizations/eng`, { query: q });
      await call('POST', `${ng}/user-groups`, { query: q, body: { identifier: 'sre', name: 'SRE', accountIdentifier: acc } });
      await call('PUT', `${ng}/user-groups`, { query: q, body: { identifier: 'sre', name: 'SRE team', accountIdentifier: acc } });
      await call('GET', `${ng}/user-groups/sre`, { query: q });
      await call('GET', `${ng}/user-groups`, { query: q });
      await call('PUT', `${ng}/user-groups/sre/member/${uid}`, { query: q });
      await call('GET', `${ng}/user-groups/sre/member/${uid}`, { query: q });
      await call('DELETE', `${ng}/user-groups/sre/member/${uid}`, { query: q });
      await call('DELETE', `${ng}/user-groups/sre`, { query: q });
      await call('DELETE', `${ng}/user-groups`, { query: { ...q, identifier: 'nope' } });
      const authz = '/authz/api';
      await call('POST', `${authz}/roleassignments`, { query: q, body: { identifier: 'robot_viewer', resourceGroupIdentifier: '_all_account_level_resources', roleIdentifier: '_account_viewer', principal: { identifier: 'robot', type: 'SERVICE_ACCOUNT' }, disabled: false, managed: false } });
      await call('GET', `${authz}/roleassignments/robot_viewer`, { query: q });
      await call('GET', `${authz}/roleassignments`, { query: q });
      await call('POST', `${authz}/roleassignments/filter`, { query: q, body: { principalFilter: [{ identifier: 'robot', type: 'SERVICE_ACCOUNT' }] } });
      await call('DELETE', `${authz}/roleassignments/robot_viewer`, { query: q });
      await call('DELETE', `${ng}/serviceaccount/robot`, { query: q });

      // ---- Harness CG ----
      const cgQ = { accountId: acc };
      const group = await call('POST', '/api/graphql', { query: cgQ, body: { query: 'mutation { createUserGroup(input: {name: "Viewers"}) { userGroup { id name } } }' } });
      const groupId = group.body?.data?.createUserGroup?.userGroup?.id;
      await call('POST', '/api/graphql', { query: cgQ, body: { query: '{ userGroups(limit: 5) { nodes { id name } } }' } });
      await call('POST', '/api/graphql', { query: cgQ, body: { query: '{ nope' } });
      await call('POST', '/api/graphql', { query: cgQ, body: { nope: 1 } });
      await call('POST', '/api/graphql', { query: cgQ, body: { query: '{ userGroups { nodes { id } } }' }, token: null });
      const cgKey = await call('POST', '/api/api-keys', { query: cgQ, body: { name: 'ci', userGroupIds: groupId ? [groupId] : [] } });
      const cgId = cgKey.body?.resource?.uuid ?? 'nope';
      await call('PUT', `/api/api-keys/${cgId}`, { query: cgQ, body: { name: 'ci 2' } });
      await call('GET', '/api/api-keys', { query: cgQ });
      await call('GET', `/api/api-keys/${cgId}`, { query: cgQ });
      await call('DELETE', `/api/api-keys/${cgId}`, { query: cgQ });
      await call('GET', '/api/api-keys/nope', { query: cgQ });
      await call('DELETE', '/api/api-keys', { query: cgQ });
      await call('GET', '/api/api-keys', { query: cgQ, token: null });

      // ---- ZenML ----
      const z = '/api/v1';
      const bearer = { token: null, headers: { authorization: `Bearer ${k.admin.token}` } };
      await call('GET', `${z}/info`);
      await call('GET', `${z}/current-user`, bearer);
      await call('GET', `${z}/users/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`, bearer);
      const sa = await call('POST', `${z}/service_accounts`, { ...bearer, body: { name: 'zen-robot', description: 'r', active: true } });
      await call('POST', `${z}/service_accounts`, { ...bearer, body: { name: 'zen-robot', active: true } });
      await call('GET', `${z}/service_accounts`, { ...bearer, query: { hydrate: 'true' } });
      await call('GET', `${z}/service_accounts/zen-robot`, bearer);
      await call('PUT', `${z}/service_accounts/zen-robot`, { ...bearer, body: { description: 'r2' } });
      const key = await call('POST', `${z}/service_accounts/${sa.body.id}/api_keys`, { ...bearer, body: { name: 'default', description: 'd' } });
      await call('GET', `${z}/service_accounts/${sa.body.id}/api_keys`, { ...bearer, query: { hydrate: 'true' } });
      await call('GET', `${z}/service_accounts/${sa.body.id}/api_keys/default`, bearer);
      await call('PUT', `${z}/service_accounts/${sa.body.id}/api_keys/default`, { ...bearer, body: { description: 'd2' } });
      await call('GET', `${z}/service_accounts/not-a-uuid/api_keys`, bearer);
      const form = `grant_type=zenml-api-key&password=${encodeURIComponent(key.body.body.key)}`;
      await call('POST', `${z}/login`, { token: null, rawBody: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      await call('POST', `${z}/login`, { token: null, rawBody: 'grant_type=zenml-api-key&password=ZENKEY_nope', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      await call('POST', `${z}/logout`, { token: null });
      await call('PUT', `${z}/service_accounts/${sa.body.id}/api_keys/default/rotate`, { ...bearer, body: { retain_period_minutes: 0 } });
      await call('GET', `${z}/workspaces`, bearer);
      await call('GET', `${z}/workspaces/default`, bearer);
      await call('GET', `${z}/workspaces/nope`, bearer);
      await call('POST', `${z}/workspaces`, { ...bearer, body: { name: 'w2' } });
      await call('PUT', `${z}/workspaces/default`, { ...bearer, body: { name: 'w2' } });
      await call('DELETE', `${z}/workspaces/default`, bearer);
      await call('GET', `${z}/projects`, bearer);
      await call('GET', `${z}/projects/default`, bearer);
      const stacks = await call('GET', `${z}/stacks`, { ...bearer, query: { hydrate: 'true' } });
      const ws = await call('GET', `${z}/workspaces/default`, bearer);
      await call('GET', `${z}/workspaces/${ws.body.id}/stacks`, bearer);
      await call('GET', `${z}/stacks/${stacks.body.items[0].id}`, bearer);
      await call('GET', `${z}/stacks/not-a-uuid`, bearer);
      const comps = await call('GET', `${z}/components`, { ...bearer, query: { hydrate: 'true' } });
      await call('GET', `${z}/workspaces/${ws.body.id}/components`, bearer);
      await call('GET', `${z}/components/${comps.body.items[0].id}`, bearer);
      await call('POST', `${z}/stacks`, { ...bearer, body: { name: 's' } });
      await call('POST', `${z}/components`, { ...bearer, body: { name: 'c' } });
      await call('DELETE', `${z}/service_accounts/${sa.body.id}/api_keys/default`, bearer);
      await call('DELETE', `${z}/service_accounts/zen-robot`, bearer);
      await call('GET', `${z}/current-user`, { token: null });

      expect(disagreements(routes, shared(), answers)).toEqual([]);
      // The walk covers most of the API, successes and refusals alike.
      const covered = new Set(answers.map((a) => routeOf(routes, a.method, a.path)).filter((r) => r !== undefined));
      expect(covered.size).toBeGreaterThan(90);
      expect(answers.filter((a) => a.status >= 400).length).toBeGreaterThan(15);
      expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    });
  });
});

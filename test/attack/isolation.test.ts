/**
 * Two-account isolation sweep, built from the app's own route table (so a route added later is
 * swept without anyone listing it). Account A (the victim) holds one real object of every kind.
 * Every route is called, with real ids of A's objects in its path, A in its query and a body aimed
 * at A, under every kind of credential of another account B (its admin's PAT, a service-account
 * token, a CG key, a ZenML password session, a ZenML API key and its session, a console session
 * cookie) and of a user of A with no role (PAT, ZenML session, console cookie).
 *
 * A success is a 2xx whose body shows any of A's objects, or any change to A's rows (every table,
 * compared before and after, last-use columns aside), or a new account. There must be none.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeScope } from '../../src/domain/scope.js';
import { SYSTEM_CALLER } from '../../src/services/context.js';
import { userIdToUuid } from '../../src/protocols/zenml/models.js';
import { describeEachDb } from '../helpers/databases.js';
import { HttpClient, startKeyward, type TestKeyward } from '../helpers/keyward.js';
import { userWithToken } from '../helpers/nativeApi.js';

const MARK = 'VICTIMMARK';
const PW = 'sweep password 123';

interface Cred {
  name: string;
  headers: Record<string, string>;
}

/** Rows of every table that belong to the account, minus what reads legitimately touch. */
async function snapshot(k: TestKeyward, accountId: string): Promise<Record<string, unknown[]>> {
  const db = k.keyward.store.db;
  const volatile = new Set(['last_used_at', 'last_used_ip', 'last_used_user_agent', 'last_login_at']);
  const clean = (rows: Array<Record<string, unknown>>) =>
    rows.map((r) => Object.fromEntries(Object.entries(r).filter(([c]) => !volatile.has(c)).map(([c, v]) => [c, typeof v === 'bigint' ? Number(v) : v]))).map((r) => JSON.stringify(r)).sort();
  const out: Record<string, unknown[]> = {};
  for (const t of ['organizations', 'projects', 'users', 'service_accounts', 'roles', 'role_assignments', 'user_groups', 'api_keys', 'tokens', 'cg_api_keys'] as const) {
    out[t] = clean(await db.selectFrom(t).selectAll().where('account_id', '=', accountId).execute());
  }
  out.accounts = clean(await db.selectFrom('accounts').selectAll().execute());
  out.user_group_members = clean(await db.selectFrom('user_group_members').innerJoin('user_groups', 'user_groups.id', 'user_group_members.user_group_id').select(['user_group_members.user_group_id', 'user_group_members.user_id']).where('user_groups.account_id', '=', accountId).execute());
  out.cg_api_key_user_groups = clean(await db.selectFrom('cg_api_key_user_groups').innerJoin('cg_api_keys', 'cg_api_keys.id', 'cg_api_key_user_groups.api_key_id').select(['cg_api_key_user_groups.api_key_id', 'cg_api_key_user_groups.user_group_id']).where('cg_api_keys.account_id', '=', accountId).execute());
  return out;
}

describeEachDb('attack: two-account isolation over the route table', (kind) => {
  let k: TestKeyward;
  let A: string;
  const v: Record<string, string> = {};
  const creds: Cred[] = [];
  let markers: string[] = [];

  const tokenCred = (name: string, t: string): Cred => ({ name, headers: { 'x-api-key': t, authorization: `Bearer ${t}` } });

  async function zenmlLogin(form: Record<string, string>): Promise<string> {
    const r = await k.anon.request('POST', '/api/v1/login', { rawBody: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.status, r.text).toBe(200);
    return r.body.access_token as string;
  }

  async function consoleCookie(email: string): Promise<Cred['headers']> {
    const r = await k.anon.post('/v1/sessions', { email, password: PW }, { headers: { 'x-keyward-console': '1' } });
    expect(r.status, r.text).toBe(201);
    const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
    return { cookie, 'x-keyward-console': '1' };
  }

  beforeAll(async () => {
    k = await startKeyward(kind, { config: { masterKey: randomBytes(32).toString('base64') } });
    A = k.admin.accountId;
    const q = { accountIdentifier: A };
    const ok = (r: { status: number; text: string }) => expect(r.status, r.text).toBeLessThan(300);
    const zAdmin = { authorization: `Bearer ${k.admin.token}` };

    // ---- the victim's objects ----
    ok(await k.http.post('/ng/api/organizations', { organization: { identifier: 'vorg', name: `${MARK} org` } }, { query: q }));
    ok(await k.http.post('/ng/api/projects', { project: { identifier: 'vproj', name: `${MARK} project`, orgIdentifier: 'vorg' } }, { query: { ...q, orgIdentifier: 'vorg' } }));
    ok(await k.http.post('/ng/api/serviceaccount', { identifier: 'vsa', name: `${MARK} sa`, email: 'vsa@victim.test', accountIdentifier: A }, { query: q }));
    ok(await k.http.post('/ng/api/apikey', { identifier: 'vkey', name: `${MARK} key`, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'vsa', accountIdentifier: A }, { query: q }));
    const tok = await k.http.post('/ng/api/token', { identifier: 'vtok', name: `${MARK} token`, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'vsa', apiKeyIdentifier: 'vkey', accountIdentifier: A }, { query: q });
    ok(tok);
    v.satSecret = tok.body.data;
    const vuser = await k.http.post(`/v1/accounts/${A}/users`, { email: 'victim.user@victim.test', name: `${MARK} user`, password: PW });
    ok(vuser);
    v.userId = vuser.body.id;
    ok(await k.http.post('/ng/api/user-groups', { identifier: 'vgroup', name: `${MARK} group`, accountIdentifier: A, users: [v.userId] }, { query: q }));
    v.groupId = (await k.keyward.store.db.selectFrom('user_groups').select('id').where('account_id', '=', A).where('identifier', '=', 'vgroup').executeTakeFirstOrThrow()).id;
    const ra = await k.keyward.services.access.createAssignment(SYSTEM_CALLER, makeScope(A), { roleIdentifier: '_account_viewer', principalType: 'USER', principalId: v.userId! });
    v.assignment = ra.identifier;
    const cg = await k.http.post('/api/api-keys', { name: `${MARK} cg`, userGroupIds: [v.groupId] }, { query: { accountId: A } });
    ok(cg);
    v.cgId = cg.body.resource.uuid;
    v.cgValue = cg.body.resource.decryptedKey;
    const zsa = await k.anon.post('/api/v1/service_accounts', { name: `${MARK}-zsa`, active: true }, { headers: zAdmin });
    ok(zsa);
    v.zsa = zsa.body.id;
    const zkey = await k.anon.post(`/api/v1/service_accounts/${v.zsa}/api_keys`, { name: `${MARK}-zkey` }, { headers: zAdmin });
    ok(zkey);
    v.zkey = zkey.body.id;
    v.zkeyValue = zkey.body.body.key;
    // A webhook endpoint (the dispatcher's attempts fail: nothing listens on port 9) and a delivery to it.
    const hook = await k.http.post(`/v1/accounts/${A}/webhooks`, { url: 'http://127.0.0.1:9/hook', description: `${MARK} hook` });
    ok(hook);
    v.endpointId = hook.body.endpoint.id;
    ok(await k.http.post('/ng/api/token', { identifier: 'vtok2', name: `${MARK} token 2`, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'vsa', apiKeyIdentifier: 'vkey', accountIdentifier: A }, { query: q }));
    const deliveries = await k.http.get(`/v1/accounts/${A}/webhooks/${v.endpointId}/deliveries`);
    ok(deliveries);
    v.deliveryId = deliveries.body.deliveries[0].id;
    // ZenML's read-only default workspace, stack and components: ids derived from the account id,
    // holding nothing; aimed at, not used as markers (A's no-role user rightly reads its own).
    const stack = await k.keyward.services.zenml.defaultStack(A);
    v.workspace = stack.workspace.id;
    v.stack = stack.id;
    v.component = stack.components[0]!.id;
    markers = [MARK, MARK.toLowerCase(), 'victim.user@victim.test', 'vsa@victim.test', v.userId!, userIdToUuid(v.userId!), v.groupId!, v.cgId!, v.zsa!, v.zkey!, v.cgValue!, v.zkeyValue!, v.satSecret!, v.endpointId!, k.admin.userId, k.admin.email];

    // ---- account B and every kind of credential it has ----
    const acc = await k.http.post('/v1/accounts', { name: 'Attacker', admin: { email: 'admin@attacker.test', password: PW } });
    expect(acc.status, acc.text).toBe(201);
    const B = acc.body.account.id as string;
    const bHttp = k.http.withToken(acc.body.token);
    creds.push(tokenCred('B admin PAT', acc.body.token));
    const bsa = await k.keyward.services.serviceAccounts.create(SYSTEM_CALLER, makeScope(B), { identifier: 'bsa', name: 'bsa', email: 'bsa@attacker.test' });
    await k.keyward.services.access.createAssignment(SYSTEM_CALLER, makeScope(B), { roleIdentifier: '_account_admin', principalType: 'SERVICE_ACCOUNT', principalId: bsa.id });
    const sat = await k.keyward.services.tokens.create(SYSTEM_CALLER, { scope: makeScope(B), type: 'SERVICE_ACCOUNT', parentIdentifier: 'bsa' }, { identifier: 'bt', name: 'bt', apiKeyIdentifier: 'bk' }, { autoCreateKey: true });
    creds.push(tokenCred('B service-account token (Account Admin)', sat.secret));
    const bGroup = await k.keyward.services.userGroups.create(SYSTEM_CALLER, { scope: makeScope(B) }, { identifier: 'bgroup', name: 'bgroup' });
    await k.keyward.services.access.createAssignment(SYSTEM_CALLER, makeScope(B), { roleIdentifier: '_account_admin', principalType: 'USER_GROUP', principalId: bGroup.group.id });
    const bcg = await bHttp.post('/api/api-keys', { name: 'b cg', userGroupIds: [bGroup.group.id] }, { query: { accountId: B } });
    expect(bcg.status, bcg.text).toBe(200);
    creds.push(tokenCred('B CG key (Account Admin groups)', bcg.body.resource.decryptedKey));
    creds.push({ name: 'B ZenML password session', headers: { authorization: `Bearer ${await zenmlLogin({ grant_type: 'password', username: 'admin@attacker.test', password: PW })}` } });
    const bz = await k.anon.post('/api/v1/service_accounts', { name: 'bz', active: true }, { headers: { authorization: `Bearer ${acc.body.token}` } });
    const bzk = await k.anon.post(`/api/v1/service_accounts/${bz.body.id}/api_keys`, { name: 'bzk' }, { headers: { authorization: `Bearer ${acc.body.token}` } });
    expect(bzk.status, bzk.text).toBeLessThan(300);
    await k.keyward.services.access.createAssignment(SYSTEM_CALLER, makeScope(B), { roleIdentifier: '_account_admin', principalType: 'SERVICE_ACCOUNT', principalId: bz.body.id });
    creds.push(tokenCred('B ZenML API key', bzk.body.body.key));
    creds.push({ name: 'B ZenML API-key session', headers: { authorization: `Bearer ${await zenmlLogin({ grant_type: 'zenml-api-key', password: bzk.body.body.key })}` } });
    creds.push({ name: 'B console session', headers: await consoleCookie('admin@attacker.test') });

    // ---- a user of A with no role ----
    const nobody = await userWithToken(k, A, 'nobody@victim.test', { password: PW });
    creds.push(tokenCred('A no-role user PAT', nobody.token));
    creds.push({ name: 'A no-role user ZenML session', headers: { authorization: `Bearer ${await zenmlLogin({ grant_type: 'password', username: nobody.email, password: PW })}` } });
    creds.push({ name: 'A no-role user console session', headers: await consoleCookie(nobody.email) });
    v.nobodyId = nobody.id;
  });
  afterAll(async () => k?.close());

  /** A's real object for each path parameter, by the route it is in. */
  function concrete(url: string): string | null {
    if (url.includes('*')) return null;
    return url.replace(/:([A-Za-z_]+)/g, (_m, p: string) => {
      const before = url.slice(0, url.indexOf(`:${p}`));
      switch (p) {
        case 'accountId':
          return A;
        case 'userId':
          return v.userId!;
        case 'userIdentifier':
          return v.userId!;
        case 'apiKeyId':
          return v.cgId!;
        case 'endpointId':
          return v.endpointId!;
        case 'deliveryId':
          return v.deliveryId!;
        case 'id':
          if (before.includes('/stacks')) return v.stack!;
          if (before.includes('/components')) return v.component!;
          return userIdToUuid(v.userId!);
        case 'sa':
          return v.zsa!;
        case 'ws':
          return v.workspace!;
        case 'nameOrId':
          if (before.endsWith('/api_keys/')) return v.zkey!;
          if (before.includes('/workspaces') || before.includes('/projects')) return v.workspace!;
          return v.zsa!;
        case 'identifier':
          if (before.includes('/organizations')) return 'vorg';
          if (before.includes('/projects')) return 'vproj';
          if (before.includes('/apikey')) return 'vkey';
          if (before.includes('/token')) return 'vtok';
          if (before.includes('/user-groups')) return 'vgroup';
          if (before.includes('/roleassignments')) return v.assignment!;
          return 'vsa'; // serviceaccount, native service-accounts
        default:
          throw new Error(`the sweep does not know path parameter :${p} (${url}); add A's object for it`);
      }
    });
  }

  /** Bodies aimed at A, by route (without its /gateway prefix); routes not listed get none. */
  function bodies(method: string, url: string): unknown[] {
    const u = url.replace(/^\/gateway/, '');
    const sat = { apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'vsa', accountIdentifier: A };
    const table: Record<string, unknown[]> = {
      'POST /v1/accounts': [{ name: 'evil', admin: { email: 'evil@attacker.test' } }],
      'POST /v1/accounts/:accountId/users': [{ email: 'evil@attacker.test', password: PW, isOperator: true }],
      'PATCH /v1/accounts/:accountId/users/:userId': [{ active: false, name: 'hijacked' }],
      'PUT /v1/accounts/:accountId/users/:userId/password': [{ password: 'hijacked password 1' }],
      'PATCH /v1/accounts/:accountId/service-accounts/:identifier': [{ active: false }],
      'POST /ng/api/apikey': [{ identifier: 'evil', name: 'evil', ...sat }],
      'PUT /ng/api/apikey/:identifier': [{ identifier: 'vkey', name: 'hijacked', ...sat }],
      'POST /ng/api/token': [{ identifier: 'evil', name: 'evil', apiKeyIdentifier: 'vkey', ...sat }],
      'PUT /ng/api/token/:identifier': [{ identifier: 'vtok', name: 'hijacked', apiKeyIdentifier: 'vkey', ...sat }],
      'POST /ng/api/serviceaccount': [{ identifier: 'evil', name: 'evil', email: 'evil@attacker.test', accountIdentifier: A }],
      'PUT /ng/api/serviceaccount/:identifier': [{ identifier: 'vsa', name: 'hijacked', email: 'vsa@victim.test', accountIdentifier: A }],
      'POST /ng/api/organizations': [{ organization: { identifier: 'evil', name: 'evil' } }],
      'PUT /ng/api/organizations/:identifier': [{ organization: { identifier: 'vorg', name: 'hijacked' } }],
      'POST /ng/api/projects': [{ project: { identifier: 'evil', name: 'evil', orgIdentifier: 'vorg' } }],
      'PUT /ng/api/projects/:identifier': [{ project: { identifier: 'vproj', name: 'hijacked', orgIdentifier: 'vorg' } }],
      'POST /ng/api/user-groups': [{ identifier: 'evil', name: 'evil', accountIdentifier: A, users: [v.nobodyId] }],
      'PUT /ng/api/user-groups': [{ identifier: 'vgroup', name: 'hijacked', accountIdentifier: A, users: [v.nobodyId] }],
      'POST /authz/api/roleassignments': [
        { roleIdentifier: '_account_admin', resourceGroupIdentifier: '_all_account_level_resources', principal: { identifier: v.nobodyId, type: 'USER' } },
      ],
      'POST /authz/api/roleassignments/filter': [{}],
      'POST /api/graphql': [
        { query: `{ apiKey(uuid: "${v.cgId}") { uuid name } apiKeys(limit: 50) { nodes { uuid name } } }` },
        { query: `mutation { updateApiKey(input: { accountId: "${A}", uuid: "${v.cgId}", name: "hijacked" }) { apiKey { uuid } } }` },
        { query: `mutation { deleteApiKey(input: { accountId: "${A}", uuid: "${v.cgId}" }) { clientMutationId } }` },
        { query: `mutation { createApiKey(input: { accountId: "${A}", name: "evil", userGroupIds: ["${v.groupId}"] }) { uuid } }` },
      ],
      'POST /api/api-keys': [{ name: 'evil', userGroupIds: [v.groupId] }],
      'PUT /api/api-keys/:apiKeyId': [{ name: 'hijacked', userGroupIds: [] }],
      'POST /api/v1/service_accounts': [{ name: 'evil', active: true }],
      'PUT /api/v1/service_accounts/:nameOrId': [{ name: 'hijacked', active: false }],
      'POST /api/v1/service_accounts/:sa/api_keys': [{ name: 'evil' }],
      'PUT /api/v1/service_accounts/:sa/api_keys/:nameOrId': [{ name: 'hijacked', active: false }],
      'PUT /api/v1/service_accounts/:sa/api_keys/:nameOrId/rotate': [{ retain_period_minutes: 0 }],
    };
    return table[`${method} ${u}`] ?? [undefined];
  }

  it('no credential of another account, nor a no-role user, reads or changes anything of account A', async () => {
    // The API document and its static pages hold no account data (and /docs redirects to itself under fetch).
    const routes = k.keyward.app.routeTable.filter((r) => r.method !== 'OPTIONS' && !r.url.includes('*') && !r.url.startsWith('/docs'));
    expect(routes.length).toBeGreaterThan(80);
    // Signing out last, so every credential lives for the whole sweep.
    const last = (r: { url: string }) => (/\/sessions$|\/logout$/.test(r.url) ? 1 : 0);
    routes.sort((a, b) => last(a) - last(b));
    const before = await snapshot(k, A);
    const leaks: string[] = [];
    let attempts = 0;
    const byCred: Record<string, Record<string, number>> = {};
    for (const cred of creds) {
      byCred[cred.name] = {};
      for (const route of routes) {
        const path = concrete(route.url);
        if (path === null) continue;
        const query: Record<string, string> = { accountIdentifier: A, accountId: A, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'vsa', apiKeyIdentifier: 'vkey' };
        if (route.url.includes('/projects')) query.orgIdentifier = 'vorg';
        for (const body of bodies(route.method, route.url)) {
          const r = await k.anon.request(route.method, path, { query, headers: cred.headers, ...(body !== undefined ? { body } : {}) });
          attempts++;
          const bucket = `${Math.floor(r.status / 100)}xx`;
          byCred[cred.name]![bucket] = (byCred[cred.name]![bucket] ?? 0) + 1;
          if (r.status >= 500) leaks.push(`${cred.name}: ${route.method} ${route.url} -> ${r.status} ${r.text.slice(0, 160)}`);
          if (r.status >= 200 && r.status < 300) {
            const shown = markers.filter((m) => r.text.includes(m));
            if (shown.length > 0) leaks.push(`${cred.name}: ${route.method} ${route.url} -> ${r.status} shows ${shown.join(', ')}: ${r.text.slice(0, 200)}`);
          }
        }
      }
      const now = await snapshot(k, A);
      for (const t of Object.keys(before)) {
        if (JSON.stringify(now[t]) !== JSON.stringify(before[t])) leaks.push(`${cred.name}: changed A's ${t}: ${JSON.stringify(now[t]).slice(0, 300)}`);
      }
    }
    console.log(`[isolation ${kind}] ${attempts} attempts over ${routes.length} routes with ${creds.length} credentials; by status class: ${JSON.stringify(byCred)}`);
    expect(leaks).toEqual([]);
    expect(attempts).toBeGreaterThan(routes.length * creds.length - 1);

    // The victim's own credentials still work: the sweep changed nothing.
    expect((await new HttpClient(k.url, v.satSecret!).get('/v1/whoami')).status).toBe(200);
    expect((await new HttpClient(k.url, v.cgValue!).get('/api/api-keys', { query: { accountId: A } })).status).not.toBe(401);
  });
});

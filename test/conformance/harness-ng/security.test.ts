/**
 * Authentication and authorization of Harness NG, route by route (docs/compat/harness-ng.md authentication, account
 * resolution and principals; §3 permissions): no or bad credentials get 401 INVALID_TOKEN; a token
 * acts only in its own account; another account's and another user's keys are never visible or
 * modified; service-account keys need core_serviceaccount_manageapikey; an SA token cannot act on
 * USER keys. Every refusal is checked to have changed nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../src/services/context.js';
import { SYSTEM_CALLER } from '../../../src/services/context.js';
import { makeScope } from '../../../src/domain/scope.js';
import { describeEachDb } from '../../helpers/databases.js';
import { HttpClient, startKeyward, type HttpResponse, type TestKeyward } from '../../helpers/keyward.js';
import { issueUserToken } from '../../helpers/nativeApi.js';
import { GW, HOUR, NG, S, T, expectBody, expectInvalidToken, expectShape, expectSuccess, rawRequest, verifyToken, type Vars } from './support.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
interface RouteCall {
  name: string;
  method: Method;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

/** One representative call per NG route of docs/compat/harness-ng.md, aimed at account A's entities. */
function routes(acc: string, user: string): RouteCall[] {
  const keyQ = { accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: user };
  const tokQ = { ...keyQ, apiKeyIdentifier: 'a_key' };
  const saQ = { accountIdentifier: acc };
  return [
    { name: 'POST /apikey', method: 'POST', path: '/apikey', query: saQ, body: { identifier: 'intruder_key', name: 'x', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc } },
    { name: 'PUT /apikey/{id}', method: 'PUT', path: '/apikey/a_key', body: { identifier: 'a_key', name: 'hijacked', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc } },
    { name: 'DELETE /apikey/{id}', method: 'DELETE', path: '/apikey/a_key', query: keyQ },
    { name: 'GET /apikey', method: 'GET', path: '/apikey', query: keyQ },
    { name: 'GET /apikey/aggregate', method: 'GET', path: '/apikey/aggregate', query: keyQ },
    { name: 'GET /apikey/aggregate/{id}', method: 'GET', path: '/apikey/aggregate/a_key', query: keyQ },
    { name: 'POST /token', method: 'POST', path: '/token', query: saQ, body: { identifier: 'intruder_tok', name: 'x', apiKeyIdentifier: 'a_key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc } },
    { name: 'PUT /token/{id}', method: 'PUT', path: '/token/a_tok', query: saQ, body: { identifier: 'a_tok', name: 'hijacked', apiKeyIdentifier: 'a_key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc } },
    { name: 'DELETE /token/{id}', method: 'DELETE', path: '/token/a_tok', query: tokQ },
    { name: 'POST /token/rotate/{id}', method: 'POST', path: '/token/rotate/a_tok', query: tokQ },
    { name: 'GET /token/aggregate', method: 'GET', path: '/token/aggregate', query: tokQ },
    { name: 'POST /serviceaccount', method: 'POST', path: '/serviceaccount', query: saQ, body: { identifier: 'intruder_sa', name: 'x', email: 'x@service.harness.io', accountIdentifier: acc } },
    { name: 'PUT /serviceaccount/{id}', method: 'PUT', path: '/serviceaccount/a_sa', query: saQ, body: { identifier: 'a_sa', name: 'hijacked', email: 'a_sa@service.harness.io', accountIdentifier: acc } },
    { name: 'DELETE /serviceaccount/{id}', method: 'DELETE', path: '/serviceaccount/a_sa', query: saQ },
    { name: 'GET /serviceaccount', method: 'GET', path: '/serviceaccount', query: saQ },
    { name: 'GET /serviceaccount/aggregate', method: 'GET', path: '/serviceaccount/aggregate', query: saQ },
    { name: 'GET /serviceaccount/aggregate/{id}', method: 'GET', path: '/serviceaccount/aggregate/a_sa', query: saQ },
  ];
}

describeEachDb('harness NG security', (kind) => {
  let k: TestKeyward;
  let acc: string;
  let user: string;
  const vars: Vars = {};
  /** Account A's secrets. */
  const a = { tok: '', saTok: '' };
  /** Account B, created by the bootstrap admin (a system operator). */
  let b: { acc: string; adminId: string; token: string; http: HttpClient; tok: string };
  /** Bob: a second user of account A, no roles, with his own key and token. */
  let bob: { id: string; token: string; http: HttpClient };
  /** Vera: a user of account A with only _account_viewer. */
  let vera: { id: string; token: string; http: HttpClient };
  /** A service account of A with no roles, and its token. */
  let actorSa: { id: string; token: string; http: HttpClient };

  const send = (client: HttpClient, base: string, r: RouteCall, extra: { query?: Record<string, string>; headers?: Record<string, string> } = {}) =>
    client.request(r.method, `${base}${r.path}`, { query: { ...r.query, ...extra.query }, ...(r.body !== undefined ? { body: r.body } : {}), ...(extra.headers ? { headers: extra.headers } : {}) });

  /** Everything account A holds, as its admin sees it. */
  async function snapshotA(): Promise<unknown> {
    const q = { accountIdentifier: acc };
    const [keys, tokens, sas, saKeys, saTokens] = await Promise.all([
      k.http.get(`${NG}/apikey/aggregate`, { query: { ...q, apiKeyType: 'USER', parentIdentifier: user } }),
      k.http.get(`${NG}/token/aggregate`, { query: { ...q, apiKeyType: 'USER', parentIdentifier: user } }),
      k.http.get(`${NG}/serviceaccount/aggregate`, { query: q }),
      k.http.get(`${NG}/apikey/aggregate`, { query: { ...q, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa' } }),
      k.http.get(`${NG}/token/aggregate`, { query: { ...q, apiKeyType: 'SERVICE_ACCOUNT' } }),
    ]);
    for (const r of [keys, tokens, sas, saKeys, saTokens]) expect(r.status, r.text).toBe(200);
    return { keys: keys.body.data, tokens: tokens.body.data, sas: sas.body.data, saKeys: saKeys.body.data, saTokens: saTokens.body.data };
  }

  async function expectAUnchanged(before: unknown): Promise<void> {
    expect(await snapshotA()).toEqual(before);
    expect((await verifyToken(k, a.tok)).valid).toBe(true);
    expect((await verifyToken(k, a.saTok)).valid).toBe(true);
  }

  function expectDenied(res: HttpResponse, permission?: string, resourceIdentifier?: string | null): void {
    expect(res.status, res.text).toBe(403);
    expect(res.body.status).toBe('ERROR');
    expect(res.body.code).toBe('NG_ACCESS_DENIED');
    expect(res.body.data).toBeUndefined();
    if (permission) {
      expect(res.body.failedPermissionChecks?.[0]?.permission, res.text).toBe(permission);
      if (resourceIdentifier !== undefined) expect(res.body.failedPermissionChecks[0].resourceIdentifier).toBe(resourceIdentifier);
    }
  }

  beforeAll(async () => {
    k = await startKeyward(kind);
    acc = k.admin.accountId;
    user = k.admin.userId;
    vars.acc = acc;
    vars.user = user;
    const post = async (client: HttpClient, account: string, path: string, body: unknown) => {
      const res = await client.post(`${NG}${path}`, body, { query: { accountIdentifier: account } });
      expect(res.status, res.text).toBe(200);
      return res.body.data;
    };

    // Account A: a USER key and token of the admin, a service account with a key and token.
    await post(k.http, acc, '/apikey', { identifier: 'a_key', name: 'a key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc });
    a.tok = await post(k.http, acc, '/token', { identifier: 'a_tok', name: 'a tok', apiKeyIdentifier: 'a_key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc });
    await post(k.http, acc, '/serviceaccount', { identifier: 'a_sa', name: 'a sa', email: 'a_sa@service.harness.io', accountIdentifier: acc });
    await post(k.http, acc, '/apikey', { identifier: 'a_sa_key', name: 'a sa key', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa', accountIdentifier: acc });
    a.saTok = await post(k.http, acc, '/token', { identifier: 'a_sa_tok', name: 'a sa tok', apiKeyIdentifier: 'a_sa_key', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa', accountIdentifier: acc });

    // Account B, with the same kinds of entities.
    const created = await k.http.post('/v1/accounts', { name: 'Account B', admin: { email: 'admin@b.example' } });
    expect(created.status, created.text).toBe(201);
    const bHttp = k.anon.withToken(created.body.token);
    const bAcc = created.body.account.id as string;
    const bAdmin = created.body.admin.id as string;
    await post(bHttp, bAcc, '/apikey', { identifier: 'b_key', name: 'b key', apiKeyType: 'USER', parentIdentifier: bAdmin, accountIdentifier: bAcc });
    const bTok = await post(bHttp, bAcc, '/token', { identifier: 'b_tok', name: 'b tok', apiKeyIdentifier: 'b_key', apiKeyType: 'USER', parentIdentifier: bAdmin, accountIdentifier: bAcc });
    await post(bHttp, bAcc, '/serviceaccount', { identifier: 'b_sa', name: 'b sa', email: 'b_sa@service.harness.io', accountIdentifier: bAcc });
    b = { acc: bAcc, adminId: bAdmin, token: created.body.token, http: bHttp, tok: bTok };

    // Bob, a second user of A with no role; his key and token made as himself.
    const bobRes = await k.http.post(`/v1/accounts/${acc}/users`, { email: 'bob@a.example', password: 'correct horse battery staple' });
    expect(bobRes.status, bobRes.text).toBe(201);
    const bobId = bobRes.body.id as string;
    const asBob: Caller = { actor: { type: 'USER', id: bobId, accountId: acc, isOperator: false, via: { apiKeyId: null, tokenId: null } } };
    const bobOwner = { scope: makeScope(acc), type: 'USER' as const, parentIdentifier: bobId };
    await k.keyward.services.apiKeys.create(asBob, bobOwner, { identifier: 'bob_key', name: 'bob key' });
    const bobIssued = await k.keyward.services.tokens.create(asBob, bobOwner, { identifier: 'bob_tok', name: 'bob tok', apiKeyIdentifier: 'bob_key' });
    bob = { id: bobId, token: bobIssued.secret, http: k.anon.withToken(bobIssued.secret) };

    // Vera, an account viewer.
    const veraRes = await k.http.post(`/v1/accounts/${acc}/users`, { email: 'vera@a.example' });
    expect(veraRes.status).toBe(201);
    const veraId = veraRes.body.id as string;
    await k.keyward.services.access.createAssignment(SYSTEM_CALLER, makeScope(acc), { roleIdentifier: '_account_viewer', principalType: 'USER', principalId: veraId });
    const veraTok = (await issueUserToken(k, acc, veraId)).token;
    vera = { id: veraId, token: veraTok, http: k.anon.withToken(veraTok) };

    // A service account with no role, and its token.
    await post(k.http, acc, '/serviceaccount', { identifier: 'actor_sa', name: 'actor sa', email: 'actor_sa@service.harness.io', accountIdentifier: acc });
    const actorTok = await post(k.http, acc, '/token', { identifier: 'actor_tok', name: 'actor tok', apiKeyIdentifier: 'actor_key', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'actor_sa', accountIdentifier: acc });
    const actorSaId = (await k.keyward.services.serviceAccounts.get(SYSTEM_CALLER, makeScope(acc), 'actor_sa')).id;
    actorSa = { id: actorSaId, token: actorTok, http: k.anon.withToken(actorTok) };
  });
  afterAll(async () => k?.close());

  describe('no credential or a bad one: 401 INVALID_TOKEN on every route', () => {
    it('answers every route without X-Api-Key with 401 "Token is not valid." in the ERROR shape, on both prefixes', async () => {
      const before = await snapshotA();
      for (const base of [NG, GW]) {
        for (const r of routes(acc, user)) {
          const res = await send(k.anon, base, r);
          try {
            expectInvalidToken(res);
          } catch (e) {
            throw new Error(`${base} ${r.name}: ${(e as Error).message}`);
          }
        }
      }
      await expectAUnchanged(before);
    });

    it('answers every route with a garbage, unknown or wrong-secret token with 401', async () => {
      const before = await snapshotA();
      const [prefix, account, id, secret] = a.tok.split('.') as [string, string, string, string];
      const bad = [
        'not-a-token',
        `${prefix}.${account}.${id}`,
        `${prefix}.${account}.000000000000000000000000.${secret}`,
        `${prefix}.${account}.${id}.${secret.slice(0, -1)}${secret.endsWith('a') ? 'b' : 'a'}`,
        `sat.${account}.${id}.${secret}`,
        `${prefix}.${b.acc}.${id}.${secret}`,
        `Bearer ${a.tok}`,
      ];
      for (const token of bad) {
        for (const r of routes(acc, user)) {
          const res = await send(k.anon.withToken(token), NG, r);
          expect(res.status, `${r.name} with ${token.slice(0, 12)}…: ${res.text}`).toBe(401);
          expectShape(res.body, S.invalidToken());
        }
      }
      await expectAUnchanged(before);
    });

    it('answers a request with no credential and a malformed JSON body with 401, not 400 (authentication comes first)', async () => {
      // §0: the authentication filter runs before the body is read.
      const res = await k.anon.request('POST', `${NG}/apikey`, { rawBody: '{"identifier":', headers: { 'content-type': 'application/json' }, query: { accountIdentifier: acc } });
      expectInvalidToken(res);
    });

    it('answers a deleted, a rotated-out and an expired token, and a deactivated user\'s token, with 401', async () => {
      const q = { accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: user, apiKeyIdentifier: 'sec_life' };
      const make = async (identifier: string, extra: Record<string, unknown> = {}) => {
        const res = await k.http.post(`${NG}/token`, { identifier, name: identifier, apiKeyIdentifier: 'sec_life', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc, ...extra }, { query: { accountIdentifier: acc } });
        expect(res.status, res.text).toBe(200);
        return res.body.data as string;
      };
      const probe = (token: string) => k.anon.withToken(token).get(`${NG}/apikey`, { query: { accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: user } });

      const deleted = await make('sec_deleted');
      expect((await probe(deleted)).status).toBe(200);
      expectSuccess(await k.http.delete(`${NG}/token/sec_deleted`, { query: q }), true);
      expectInvalidToken(await probe(deleted));

      const rotated = await make('sec_rotated');
      expect((await k.http.post(`${NG}/token/rotate/sec_rotated`, undefined, { query: q })).status).toBe(200);
      expectInvalidToken(await probe(rotated));

      const now = k.clock.now();
      const expiring = await make('sec_expiring', { validTo: now + HOUR });
      expect((await probe(expiring)).status).toBe(200);
      k.clock.set(now + HOUR);
      try {
        expectInvalidToken(await probe(expiring));
      } finally {
        k.clock.set(now);
      }

      const ghost = await k.http.post(`/v1/accounts/${acc}/users`, { email: 'ghost@a.example' });
      const ghostTok = (await issueUserToken(k, acc, ghost.body.id)).token;
      const ghostProbe = () => k.anon.withToken(ghostTok).get(`${NG}/apikey`, { query: { accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: ghost.body.id } });
      expect((await ghostProbe()).status).toBe(200);
      expect((await k.http.patch(`/v1/accounts/${acc}/users/${ghost.body.id}`, { active: false })).status).toBe(200);
      expectInvalidToken(await ghostProbe());
    });
  });

  describe('the X-Api-Key header and the account', () => {
    it('takes X-Api-Key in any letter case (sent byte for byte over node:http)', async () => {
      const path = `${NG}/apikey?accountIdentifier=${acc}&apiKeyType=USER&parentIdentifier=${user}`;
      for (const name of ['X-Api-Key', 'x-api-key', 'X-API-KEY', 'x-API-kEy']) {
        const res = await rawRequest(k.url, 'GET', path, { [name]: k.admin.token, Accept: 'application/json' });
        expect(res.status, `${name}: ${res.text}`).toBe(200);
        expect(res.body.status).toBe('SUCCESS');
      }
      const empty = await rawRequest(k.url, 'GET', path, { 'X-Api-Key': '' });
      expect(empty.status).toBe(401);
      expectShape(empty.body, S.invalidToken());
    });

    it('resolves the account from Harness-Account, account or accountIdentifier, and falls back to the token\'s', async () => {
      // §0 Account resolution; PUT /apikey/{id} carries no account (Go SDK, V2).
      const q = { apiKeyType: 'USER', parentIdentifier: user, identifiers: 'a_key' };
      for (const [label, opts] of [
        ['Harness-Account', { headers: { 'Harness-Account': acc }, query: { ...q, accountIdentifier: acc } }],
        ['account', { query: { ...q, account: acc, accountIdentifier: acc } }],
        ['accountIdentifier', { query: { ...q, accountIdentifier: acc } }],
      ] as const) {
        const res = await k.http.get(`${NG}/apikey`, opts);
        expect(res.status, `${label}: ${res.text}`).toBe(200);
        expect(res.body.data.map((x: any) => x.identifier)).toEqual(['a_key']);
      }
      const put = await k.http.put(`${NG}/apikey/whatever`, { identifier: 'a_key', name: 'a key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc }, { headers: { 'Harness-Account': acc } });
      expectSuccess(put, S.apiKey({ identifier: 'a_key', name: 'a key', apiKeyType: 'USER', parentIdentifier: user }), vars);
    });

    it('answers 401 when any of Harness-Account, account or accountIdentifier names another account', async () => {
      const before = await snapshotA();
      const base = { apiKeyType: 'USER', parentIdentifier: user };
      const attempts: Array<[string, { query: Record<string, string>; headers?: Record<string, string> }]> = [
        ['Harness-Account: B', { headers: { 'Harness-Account': b.acc }, query: { ...base, accountIdentifier: acc } }],
        ['account=B', { query: { ...base, account: b.acc, accountIdentifier: acc } }],
        ['accountIdentifier=B', { query: { ...base, accountIdentifier: b.acc } }],
        ['Harness-Account: A but accountIdentifier=B', { headers: { 'Harness-Account': acc }, query: { ...base, accountIdentifier: b.acc } }],
        ['account=A but accountIdentifier=B', { query: { ...base, account: acc, accountIdentifier: b.acc } }],
      ];
      for (const [label, opts] of attempts) {
        const res = await k.http.get(`${NG}/apikey/aggregate`, opts);
        expect(res.status, `${label}: ${res.text}`).toBe(401);
        expectShape(res.body, S.invalidToken());
        const del = await k.http.delete(`${NG}/apikey/a_key`, opts);
        expect(del.status, `${label} DELETE: ${del.text}`).toBe(401);
      }
      await expectAUnchanged(before);
    });
  });

  describe('another account', () => {
    it('never shows or changes account A\'s keys, tokens or service accounts to account B\'s admin', async () => {
      const before = await snapshotA();
      // Naming account A: 401 on every route, the token only acts in its own account.
      for (const r of routes(acc, user)) {
        const res = await send(b.http, NG, r);
        expect(res.status, `B -> A ${r.name}: ${res.text}`).toBe(401);
      }
      // Naming its own account but A's identifiers: A's entities do not exist there.
      const bq = { accountIdentifier: b.acc };
      const attempts: Array<[string, Promise<HttpResponse>]> = [
        ['GET A\'s USER key', b.http.get(`${NG}/apikey/aggregate/a_key`, { query: { ...bq, apiKeyType: 'USER', parentIdentifier: user } })],
        ['list A\'s admin\'s keys', b.http.get(`${NG}/apikey`, { query: { ...bq, apiKeyType: 'USER', parentIdentifier: user } })],
        ['GET A\'s SA key', b.http.get(`${NG}/apikey/aggregate/a_sa_key`, { query: { ...bq, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa' } })],
        ['GET A\'s SA', b.http.get(`${NG}/serviceaccount/aggregate/a_sa`, { query: bq })],
        ['PUT A\'s key (body in B)', b.http.put(`${NG}/apikey/a_key`, { identifier: 'a_key', name: 'hijacked', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: b.acc })],
        ['PUT A\'s key (body in A)', b.http.put(`${NG}/apikey/a_key`, { identifier: 'a_key', name: 'hijacked', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc })],
        ['DELETE A\'s key', b.http.delete(`${NG}/apikey/a_key`, { query: { ...bq, apiKeyType: 'USER', parentIdentifier: user } })],
        ['DELETE A\'s SA key', b.http.delete(`${NG}/apikey/a_sa_key`, { query: { ...bq, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa' } })],
        ['PUT A\'s token', b.http.put(`${NG}/token/a_tok`, { identifier: 'a_tok', name: 'hijacked', apiKeyIdentifier: 'a_key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: b.acc }, { query: bq })],
        ['DELETE A\'s token', b.http.delete(`${NG}/token/a_tok`, { query: { ...bq, apiKeyType: 'USER', parentIdentifier: user, apiKeyIdentifier: 'a_key' } })],
        ['rotate A\'s SA token', b.http.post(`${NG}/token/rotate/a_sa_tok`, undefined, { query: { ...bq, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa', apiKeyIdentifier: 'a_sa_key' } })],
        ['a token under A\'s SA key', b.http.post(`${NG}/token`, { identifier: 'x', name: 'x', apiKeyIdentifier: 'a_sa_key', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa', accountIdentifier: b.acc }, { query: bq })],
        ['PUT A\'s SA', b.http.put(`${NG}/serviceaccount/a_sa`, { identifier: 'a_sa', name: 'hijacked', email: 'a_sa@service.harness.io', accountIdentifier: b.acc }, { query: bq })],
        ['DELETE A\'s SA', b.http.delete(`${NG}/serviceaccount/a_sa`, { query: bq })],
        ['validate A\'s token as B', k.anon.request('POST', `${NG}/token/validate`, { rawBody: a.tok, headers: { 'content-type': 'text/plain' }, query: { accountIdentifier: b.acc } })],
      ];
      for (const [label, pending] of attempts) {
        const res = await pending;
        expect(res.status, `${label}: ${res.text}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${label}: ${res.text}`).toBeLessThan(500);
        expect(res.body.data, label).toBeUndefined();
      }
      // Lists in B's own account, even filtered by A's parents, hold none of A's entities (B's admin
      // may list any user's tokens in B: core_user_manage, §3).
      for (const query of [
        { ...bq, apiKeyType: 'USER', parentIdentifier: user },
        { ...bq, apiKeyType: 'USER', parentIdentifier: user, apiKeyIdentifier: 'a_key' },
        { ...bq, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa', apiKeyIdentifier: 'a_sa_key' },
      ]) {
        const res = await b.http.get(`${NG}/token/aggregate`, { query });
        expectSuccess(res, S.page([]), vars);
      }
      // B's own lists hold only B's entities.
      const saList = await b.http.get(`${NG}/serviceaccount/aggregate`, { query: bq });
      expect(saList.status).toBe(200);
      expect(saList.body.data.content.map((x: any) => x.serviceAccount.identifier)).toEqual(['b_sa']);
      const tokList = await b.http.get(`${NG}/token/aggregate`, { query: { ...bq, apiKeyType: 'SERVICE_ACCOUNT' } });
      expect(tokList.status).toBe(200);
      expect(tokList.text).not.toContain(acc);
      await expectAUnchanged(before);
    });

    it('keeps even a system operator\'s NG token inside its own account', async () => {
      // The bootstrap admin may create accounts (/v1), but its NG token still only acts in account A.
      for (const r of routes(b.acc, b.adminId)) {
        const res = await send(k.http, NG, { ...r, path: r.path.replace(/\ba_/g, 'b_') });
        expect(res.status, `A -> B ${r.name}: ${res.text}`).toBe(401);
      }
      const mine = await b.http.get(`${NG}/apikey/aggregate/b_key`, { query: { accountIdentifier: b.acc, apiKeyType: 'USER', parentIdentifier: b.adminId } });
      expect(mine.status).toBe(200);
      expect(mine.body.data.apiKey.name).toBe('b key');
      expect((await verifyToken(k, b.tok)).valid).toBe(true);
    });
  });

  describe('another user of the same account', () => {
    const bobKeyQ = () => ({ accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: bob.id });
    const bobTokQ = () => ({ ...bobKeyQ(), apiKeyIdentifier: 'bob_key' });

    it('refuses the admin every operation on Bob\'s personal keys and tokens with 403 NG_ACCESS_DENIED', async () => {
      // §3 Permissions: USER keys and tokens belong to their user alone, Account Admin or not.
      const attempts: Array<[string, Promise<HttpResponse>]> = [
        ['list Bob\'s keys', k.http.get(`${NG}/apikey`, { query: bobKeyQ() })],
        ['page Bob\'s keys', k.http.get(`${NG}/apikey/aggregate`, { query: bobKeyQ() })],
        ['read Bob\'s key', k.http.get(`${NG}/apikey/aggregate/bob_key`, { query: bobKeyQ() })],
        ['create a key for Bob', k.http.post(`${NG}/apikey`, { identifier: 'planted', name: 'planted', apiKeyType: 'USER', parentIdentifier: bob.id, accountIdentifier: acc }, { query: { accountIdentifier: acc } })],
        ['update Bob\'s key', k.http.put(`${NG}/apikey/bob_key`, { identifier: 'bob_key', name: 'hijacked', apiKeyType: 'USER', parentIdentifier: bob.id, accountIdentifier: acc })],
        ['delete Bob\'s key', k.http.delete(`${NG}/apikey/bob_key`, { query: bobKeyQ() })],
        ['create a token under Bob\'s key', k.http.post(`${NG}/token`, { identifier: 'planted', name: 'planted', apiKeyIdentifier: 'bob_key', apiKeyType: 'USER', parentIdentifier: bob.id, accountIdentifier: acc }, { query: { accountIdentifier: acc } })],
        ['update Bob\'s token', k.http.put(`${NG}/token/bob_tok`, { identifier: 'bob_tok', name: 'hijacked', apiKeyIdentifier: 'bob_key', apiKeyType: 'USER', parentIdentifier: bob.id, accountIdentifier: acc }, { query: { accountIdentifier: acc } })],
        ['delete Bob\'s token', k.http.delete(`${NG}/token/bob_tok`, { query: bobTokQ() })],
        ['rotate Bob\'s token', k.http.post(`${NG}/token/rotate/bob_tok`, undefined, { query: bobTokQ() })],
      ];
      for (const [label, pending] of attempts) {
        const res = await pending;
        try {
          expectDenied(res);
        } catch (e) {
          throw new Error(`${label}: ${(e as Error).message}`);
        }
      }
      expect((await verifyToken(k, bob.token)).valid).toBe(true);
      const mine = await bob.http.get(`${NG}/apikey/aggregate/bob_key`, { query: bobKeyQ() });
      expectSuccess(mine, S.apiKeyAggregate(S.apiKey({ identifier: 'bob_key', name: 'bob key', apiKeyType: 'USER', parentIdentifier: bob.id }), { tokensCount: 1 }), vars);
    });

    it('lets Bob manage his own keys but not the admin\'s', async () => {
      const own = await bob.http.post(`${NG}/apikey`, { identifier: 'bob_key2', name: 'bob key 2', apiKeyType: 'USER', parentIdentifier: bob.id, accountIdentifier: acc }, { query: { accountIdentifier: acc } });
      expectSuccess(own, S.apiKey({ identifier: 'bob_key2', name: 'bob key 2', apiKeyType: 'USER', parentIdentifier: bob.id }), vars);
      expectSuccess(await bob.http.delete(`${NG}/apikey/bob_key2`, { query: bobKeyQ() }), true);
      const before = await snapshotA();
      expectDenied(await bob.http.get(`${NG}/apikey/aggregate/a_key`, { query: { accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: user } }));
      expectDenied(await bob.http.delete(`${NG}/apikey/a_key`, { query: { accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: user } }));
      expectDenied(await bob.http.post(`${NG}/token/rotate/a_tok`, undefined, { query: { accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: user, apiKeyIdentifier: 'a_key' } }));
      await expectAUnchanged(before);
    });

    it('applies validateTokenListPermissions to token lists', async () => {
      // §3 Listing USER tokens: allowed with core_user_manage; otherwise only one's own; a mismatch is
      // 400 INVALID_ARGUMENT; no parentIdentifier without core_user_manage is 403.
      const adminListsBob = await k.http.get(`${NG}/token/aggregate`, { query: bobTokQ() });
      expect(adminListsBob.status, adminListsBob.text).toBe(200);
      expect(adminListsBob.body.data.content.map((c: any) => c.token.identifier)).toEqual(['bob_tok']);
      expect(adminListsBob.body.data.content[0].token.encodedPassword).toBeNull();

      const bobListsOwn = await bob.http.get(`${NG}/token/aggregate`, { query: bobKeyQ() });
      expect(bobListsOwn.status).toBe(200);

      const bobListsAdmin = await bob.http.get(`${NG}/token/aggregate`, { query: { accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: user } });
      expectBody(bobListsAdmin, 400, S.error('INVALID_ARGUMENT', `Invalid argument(s): User [${bob.id}] not authenticated to list tokens for user [${user}]`));

      const bobListsAll = await bob.http.get(`${NG}/token/aggregate`, { query: { accountIdentifier: acc, apiKeyType: 'USER' } });
      expectDenied(bobListsAll);
      expect(bobListsAll.body.message).toMatch(/^Error while listing all users' personal access tokens/);
    });
  });

  describe('service-account keys need core_serviceaccount_manageapikey', () => {
    const saKeyQ = () => ({ accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa' });
    const saTokQ = () => ({ ...saKeyQ(), apiKeyIdentifier: 'a_sa_key' });
    const writes = (client: HttpClient): Array<[string, Promise<HttpResponse>]> => [
      ['create a key', client.post(`${NG}/apikey`, { identifier: 'x_key', name: 'x', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa', accountIdentifier: acc }, { query: { accountIdentifier: acc } })],
      ['update the key', client.put(`${NG}/apikey/a_sa_key`, { identifier: 'a_sa_key', name: 'hijacked', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa', accountIdentifier: acc })],
      ['delete the key', client.delete(`${NG}/apikey/a_sa_key`, { query: saKeyQ() })],
      ['create a token', client.post(`${NG}/token`, { identifier: 'x_tok', name: 'x', apiKeyIdentifier: 'a_sa_key', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa', accountIdentifier: acc }, { query: { accountIdentifier: acc } })],
      ['update the token', client.put(`${NG}/token/a_sa_tok`, { identifier: 'a_sa_tok', name: 'hijacked', apiKeyIdentifier: 'a_sa_key', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa', accountIdentifier: acc }, { query: { accountIdentifier: acc } })],
      ['delete the token', client.delete(`${NG}/token/a_sa_tok`, { query: saTokQ() })],
      ['rotate the token', client.post(`${NG}/token/rotate/a_sa_tok`, undefined, { query: saTokQ() })],
    ];

    it('refuses a user with no role, naming the permission, the resource and its scope', async () => {
      const before = await snapshotA();
      const res = await bob.http.post(`${NG}/apikey`, { identifier: 'x_key', name: 'x', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa', accountIdentifier: acc }, { query: { accountIdentifier: acc } });
      expectBody(
        res,
        403,
        S.accessDenied(`Principal of type USER with identifier ${bob.id} : Missing permission core_serviceaccount_manageapikey on serviceaccount with identifier a_sa`, [
          { permission: 'core_serviceaccount_manageapikey', resourceType: 'SERVICEACCOUNT', resourceIdentifier: 'a_sa' },
        ]),
        vars,
      );
      for (const [label, pending] of writes(bob.http)) {
        const r = await pending;
        try {
          expectDenied(r, 'core_serviceaccount_manageapikey', 'a_sa');
        } catch (e) {
          throw new Error(`${label}: ${(e as Error).message}`);
        }
      }
      // Reading needs core_serviceaccount_view, which Bob lacks too.
      expectDenied(await bob.http.get(`${NG}/apikey/aggregate/a_sa_key`, { query: saKeyQ() }), 'core_serviceaccount_view');
      expectDenied(await bob.http.get(`${NG}/serviceaccount/aggregate/a_sa`, { query: { accountIdentifier: acc } }), 'core_serviceaccount_view');
      // Lists are filtered to what the caller may view (§1.3): empty, not an error.
      expectSuccess(await bob.http.get(`${NG}/serviceaccount`, { query: { accountIdentifier: acc } }), []);
      expectSuccess(await bob.http.get(`${NG}/serviceaccount/aggregate`, { query: { accountIdentifier: acc } }), S.page([]));
      await expectAUnchanged(before);
    });

    it('lets an account viewer read service accounts and their keys but manage nothing', async () => {
      const before = await snapshotA();
      expectSuccess(
        await vera.http.get(`${NG}/apikey/aggregate/a_sa_key`, { query: saKeyQ() }),
        S.apiKeyAggregate(S.apiKey({ identifier: 'a_sa_key', name: 'a sa key', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa' }), { tokensCount: 1 }),
        vars,
      );
      const tokens = await vera.http.get(`${NG}/token/aggregate`, { query: saTokQ() });
      expect(tokens.status).toBe(200);
      expect(tokens.body.data.content.map((c: any) => c.token.identifier)).toEqual(['a_sa_tok']);
      expect((await vera.http.get(`${NG}/serviceaccount/aggregate/a_sa`, { query: { accountIdentifier: acc } })).status).toBe(200);
      for (const [label, pending] of writes(vera.http)) {
        const r = await pending;
        try {
          expectDenied(r, 'core_serviceaccount_manageapikey', 'a_sa');
        } catch (e) {
          throw new Error(`${label}: ${(e as Error).message}`);
        }
      }
      expectDenied(await vera.http.post(`${NG}/serviceaccount`, { identifier: 'v_sa', name: 'v', email: 'v@service.harness.io', accountIdentifier: acc }, { query: { accountIdentifier: acc } }), 'core_serviceaccount_edit');
      expectDenied(await vera.http.put(`${NG}/serviceaccount/a_sa`, { identifier: 'a_sa', name: 'hijacked', email: 'a_sa@service.harness.io', accountIdentifier: acc }, { query: { accountIdentifier: acc } }), 'core_serviceaccount_edit');
      expectDenied(await vera.http.delete(`${NG}/serviceaccount/a_sa`, { query: { accountIdentifier: acc } }), 'core_serviceaccount_delete');
      await expectAUnchanged(before);
    });
  });

  describe('a service-account token', () => {
    it('cannot act on USER keys or tokens: 403', async () => {
      // §0 Principal: an SA token acts as the service account; §3 "If the caller is not a user" (HCN: 403).
      const before = await snapshotA();
      const q = { accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: user };
      const attempts: Array<[string, Promise<HttpResponse>]> = [
        ['list', actorSa.http.get(`${NG}/apikey`, { query: q })],
        ['read', actorSa.http.get(`${NG}/apikey/aggregate/a_key`, { query: q })],
        ['create', actorSa.http.post(`${NG}/apikey`, { identifier: 'sa_made', name: 'x', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc }, { query: { accountIdentifier: acc } })],
        ['update', actorSa.http.put(`${NG}/apikey/a_key`, { identifier: 'a_key', name: 'hijacked', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc })],
        ['delete', actorSa.http.delete(`${NG}/apikey/a_key`, { query: q })],
        ['token create', actorSa.http.post(`${NG}/token`, { identifier: 'sa_made', name: 'x', apiKeyIdentifier: 'a_key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc }, { query: { accountIdentifier: acc } })],
        ['token rotate', actorSa.http.post(`${NG}/token/rotate/a_tok`, undefined, { query: { ...q, apiKeyIdentifier: 'a_key' } })],
        ['token delete', actorSa.http.delete(`${NG}/token/a_tok`, { query: { ...q, apiKeyIdentifier: 'a_key' } })],
        ['token list', actorSa.http.get(`${NG}/token/aggregate`, { query: { ...q, apiKeyIdentifier: 'a_key' } })],
      ];
      for (const [label, pending] of attempts) {
        const res = await pending;
        try {
          expectDenied(res);
        } catch (e) {
          throw new Error(`${label}: ${(e as Error).message}`);
        }
      }
      await expectAUnchanged(before);
    });

    it('manages service-account keys only once a role grants core_serviceaccount_manageapikey, and never USER keys', async () => {
      const before = await snapshotA();
      const body = { identifier: 'by_sa', name: 'by sa', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa', accountIdentifier: acc };
      const denied = await actorSa.http.post(`${NG}/apikey`, body, { query: { accountIdentifier: acc } });
      expectBody(
        denied,
        403,
        S.accessDenied('Principal of type SERVICE_ACCOUNT with identifier actor_sa : Missing permission core_serviceaccount_manageapikey on serviceaccount with identifier a_sa', [
          { permission: 'core_serviceaccount_manageapikey', resourceType: 'SERVICEACCOUNT', resourceIdentifier: 'a_sa' },
        ]),
        vars,
      );
      await expectAUnchanged(before);

      await k.keyward.services.access.createAssignment(SYSTEM_CALLER, makeScope(acc), { roleIdentifier: '_account_admin', principalType: 'SERVICE_ACCOUNT', principalId: actorSa.id });
      const allowed = await actorSa.http.post(`${NG}/apikey`, body, { query: { accountIdentifier: acc } });
      expectSuccess(allowed, S.apiKey({ identifier: 'by_sa', name: 'by sa', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa' }), vars);
      expectSuccess(await actorSa.http.delete(`${NG}/apikey/by_sa`, { query: { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'a_sa' } }), true);
      expectDenied(await actorSa.http.get(`${NG}/apikey`, { query: { accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: user } }));
      expect(T.satToken.test(actorSa.token, vars)).toBe(true);
    });
  });
});
